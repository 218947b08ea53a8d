// SPDX-License-Identifier: AGPL-3.0-or-later
// The pure helpers of static/js/sign.js (no DOM). Run: node --test /work/main/tests/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as brsa from '../../static/js/blindrsa.js';
import {
  checkReceipt, parseFragment, parseReceipt, percentOf, receiptFile, storageKey, storedRecord,
} from '../../static/js/sign.js';

const { b64urlDecode, b64urlEncode, bigIntToBytes, bytesToBigInt, modPow } = brsa;
const subtle = globalThis.crypto.subtle;
const rejectsInvalid = { code: 'receipt_invalid' };

test('storage key and percent', () => {
  assert.equal(storageKey('stop-tracking'), 'countersign:v1:stop-tracking');
  assert.equal(percentOf(0, 100), 0);
  assert.equal(percentOf(1, 3), 33);
  assert.equal(percentOf(250, 100), 100);
  assert.equal(percentOf(5, 0), 0);
});

test('parseFragment reads #code= and an optional level', () => {
  assert.deepEqual(parseFragment('#code=K7Q2M-9XW4H'), { code: 'K7Q2M-9XW4H', level: null });
  assert.deepEqual(parseFragment('code=K7Q2M9XW4H&level=flyer'), { code: 'K7Q2M9XW4H', level: 'flyer' });
  assert.deepEqual(parseFragment('#code=%20k7q2m-9xw4h%20&level=work_email'), { code: 'k7q2m-9xw4h', level: null });
  for (const bad of ['', '#', '#main', '#code=', '#code=ab', '#code=<script>', '#code=' + 'A'.repeat(41), null, undefined]) {
    assert.equal(parseFragment(bad), null, String(bad));
  }
});

// A real credential, issued the way the server does it (test-only BlindSign, no CRT).
async function issuedCredential() {
  const pair = await subtle.generateKey({ name: 'RSA-PSS', modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-384' }, true, ['sign', 'verify']);
  const spki = new Uint8Array(await subtle.exportKey('spki', pair.publicKey));
  const jwk = await subtle.exportKey('jwk', pair.privateKey);
  const [n, d] = [jwk.n, jwk.d].map((s) => bytesToBigInt(b64urlDecode(s)));
  const petitionId = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const req = await brsa.createCredentialRequest({ spki, petitionId });
  const blindSig = bigIntToBytes(modPow(bytesToBigInt(req.blindedMsg), d, n), 256);
  const sig = await brsa.completeCredential({ spki, preparedMsg: req.preparedMsg, blindSig, inv: req.inv });
  const rec = {
    token: b64urlEncode(req.token), preparedMsg: b64urlEncode(req.preparedMsg), sig: b64urlEncode(sig),
    keyId: b64urlEncode(req.keyId), level: 'in_person',
  };
  const keysDoc = {
    alg: 'RSABSSA-SHA384-PSS-Randomized', petition_id: b64urlEncode(petitionId),
    keys: [{ level: 'in_person', key_id: rec.keyId, spki: b64urlEncode(spki), modulus_bits: 2048 }],
  };
  return { rec, keysDoc };
}
const cred = issuedCredential();

test('a downloaded receipt parses back, for this petition only', async () => {
  const { rec } = await cred;
  const text = receiptFile(rec, 'stop-tracking');
  const file = JSON.parse(text);
  assert.equal(file.petition, 'stop-tracking');
  assert.equal(file.format, 'countersign-receipt');
  assert.deepEqual(parseReceipt(text, { slug: 'stop-tracking' }), { ...rec, used: false, withdrawn: false });
  assert.throws(() => parseReceipt(text, { slug: 'another' }), rejectsInvalid);
  assert.throws(() => parseReceipt(text, { slug: 'stop-tracking', levels: ['work_email'] }), rejectsInvalid);
});

test('what is stored never holds inv or an address, and keeps the used state', async () => {
  const { rec } = await cred;
  const stored = storedRecord({ ...rec, inv: 5n, email: 'a@example.com', used: true });
  assert.deepEqual(Object.keys(stored).sort(), ['keyId', 'level', 'preparedMsg', 'sig', 'token', 'used']);
  const back = parseReceipt(JSON.stringify(stored), { slug: 'x' });
  assert.equal(back.used, true);
  assert.equal(back.withdrawn, false);
  assert.equal('used' in storedRecord(rec), false);
});

test('a bare receipt code is enough to withdraw', async () => {
  const { rec } = await cred;
  assert.deepEqual(parseReceipt(`  ${rec.token}\n`), { token: rec.token });
});

test('malformed receipts are refused', async () => {
  const { rec } = await cred;
  const bad = [
    '', 'not json', '[]', 'null', '42', JSON.stringify({ ...rec, level: 'postcard' }),
    JSON.stringify({ ...rec, token: rec.token + 'A' }),
    JSON.stringify({ ...rec, token: rec.token.slice(0, -1) + '=' }),
    JSON.stringify({ ...rec, preparedMsg: rec.preparedMsg.slice(4) }),
    JSON.stringify({ ...rec, sig: 'AAAA' }),
    JSON.stringify({ ...rec, keyId: undefined }),
    JSON.stringify({ ...rec, sig: 123 }),
  ];
  for (const text of bad) assert.throws(() => parseReceipt(text, { slug: 'x' }), rejectsInvalid, text);
});

test('checkReceipt accepts a genuine credential and refuses altered ones', async () => {
  const { rec, keysDoc } = await cred;
  assert.equal(await checkReceipt(rec, keysDoc), rec);

  const flip = (s, i = 40) => { const b = b64urlDecode(s); b[i] ^= 1; return b64urlEncode(b); };
  const otherToken = b64urlEncode(globalThis.crypto.getRandomValues(new Uint8Array(32)));
  const otherPetition = { ...keysDoc, petition_id: b64urlEncode(new Uint8Array(16)) };
  const cases = [
    [{ ...rec, token: otherToken }, keysDoc], // someone else's token: nullifier mismatch
    [{ ...rec, sig: flip(rec.sig) }, keysDoc],
    [{ ...rec, preparedMsg: flip(rec.preparedMsg, 5) }, keysDoc], // prefix: signature fails
    [{ ...rec, level: 'flyer' }, keysDoc],
    [rec, otherPetition],
    [rec, { ...keysDoc, keys: [] }],
  ];
  for (const [r, doc] of cases) await assert.rejects(checkReceipt(r, doc), rejectsInvalid);
});
