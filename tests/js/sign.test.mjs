// SPDX-License-Identifier: AGPL-3.0-or-later
// The pure helpers of static/js/sign.js and static/js/receipt.js (no DOM). Run: node --test tests/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as brsa from '../../static/js/blindrsa.js';
import { checkReceipt, parseReceipt, receiptFile, storedRecord } from '../../static/js/receipt.js';
import {
  checkKeys, checkRedemption, parseFragment, parsePins, pendingEmailKey, pendingEmailRecord, percentOf, pinsKey, pluralText,
  readPendingEmail, RETRY_TRIES, retryDelay, storageKey,
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

test('parseFragment reads #code= and an optional level and key-id prefix', () => {
  assert.deepEqual(parseFragment('#code=K7Q2M-9XW4H'), { code: 'K7Q2M-9XW4H', level: null, keyPrefix: null });
  assert.deepEqual(parseFragment('code=K7Q2M9XW4H&level=flyer'), { code: 'K7Q2M9XW4H', level: 'flyer', keyPrefix: null });
  assert.deepEqual(parseFragment('#code=%20k7q2m-9xw4h%20&level=work_email'), { code: 'k7q2m-9xw4h', level: null, keyPrefix: null });
  assert.deepEqual(parseFragment('#code=K7Q2M-9XW4H&level=in_person&k=Ab-_0123'),
    { code: 'K7Q2M-9XW4H', level: 'in_person', keyPrefix: 'Ab-_0123' });
  for (const k of ['short', 'toolong123', 'has=pad', 'a+b/c123']) {
    assert.equal(parseFragment(`#code=K7Q2M-9XW4H&k=${k}`).keyPrefix, null, k);
  }
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

// ------------------------------------------------------------------------------ pinned keys

async function rsaSpki(publicExponent = new Uint8Array([1, 0, 1])) {
  const pair = await subtle.generateKey({ name: 'RSA-PSS', modulusLength: 2048, publicExponent,
    hash: 'SHA-384' }, true, ['sign', 'verify']);
  return new Uint8Array(await subtle.exportKey('spki', pair.publicKey));
}
const keyEntry = async (level, spki) => ({
  level, spki: b64urlEncode(spki), key_id: b64urlEncode(await brsa.keyId(spki)), modulus_bits: 2048,
});

test('checkKeys pins at first sight, then refuses a changed key or petition id', async () => {
  const { keysDoc } = await cred;
  const pins = await checkKeys(keysDoc);
  assert.deepEqual(pins, { petitionId: keysDoc.petition_id, keys: { in_person: keysDoc.keys[0].key_id } });
  assert.deepEqual(await checkKeys(keysDoc, { pins }), pins);
  assert.deepEqual(parsePins(JSON.stringify(pins)), pins);
  assert.equal(pinsKey('stop-tracking'), 'countersign:v1:pins:stop-tracking');

  const swapped = { ...keysDoc, keys: [await keyEntry('in_person', await rsaSpki())] };
  await assert.rejects(checkKeys(swapped, { pins }), { code: 'key_changed' });
  await assert.rejects(checkKeys({ ...keysDoc, keys: [] }, { pins }), { code: 'key_changed' });
  const otherPetition = { ...keysDoc, petition_id: b64urlEncode(new Uint8Array(16).fill(7)) };
  await assert.rejects(checkKeys(otherPetition, { pins }), { code: 'petition_changed' });

  // A level seen for the first time is added to the pins, the others kept.
  const more = { ...keysDoc, keys: [...keysDoc.keys, await keyEntry('flyer', await rsaSpki())] };
  const morePins = await checkKeys(more, { pins });
  assert.deepEqual(Object.keys(morePins.keys).sort(), ['flyer', 'in_person']);
});

test('checkKeys refuses a key other than the one printed with the code', async () => {
  const { keysDoc } = await cred;
  const prefix = keysDoc.keys[0].key_id.slice(0, 8);
  assert.ok(await checkKeys(keysDoc, { level: 'in_person', keyPrefix: prefix }));
  const wrong = (prefix[0] === 'A' ? 'B' : 'A') + prefix.slice(1);
  await assert.rejects(checkKeys(keysDoc, { level: 'in_person', keyPrefix: wrong }), { code: 'key_not_printed' });
  await assert.rejects(checkKeys(keysDoc, { level: 'flyer', keyPrefix: prefix }), { code: 'key_not_printed' });
});

test('checkKeys accepts only e = 65537, a key id that is SHA-256(spki) and the v1 algorithm', async () => {
  const { keysDoc } = await cred;
  const eThree = { ...keysDoc, keys: [await keyEntry('in_person', await rsaSpki(new Uint8Array([3])))] };
  await assert.rejects(checkKeys(eThree), { code: 'key_unsupported' });
  assert.throws(() => brsa.importSpki(eThree.keys[0].spki), /SPKI: unacceptable/);
  const lying = { ...keysDoc, keys: [{ ...keysDoc.keys[0], key_id: b64urlEncode(new Uint8Array(32)) }] };
  await assert.rejects(checkKeys(lying), { code: 'key_unsupported' });
  await assert.rejects(checkKeys({ ...keysDoc, alg: 'RSABSSA-SHA384-PSS-Deterministic' }), { code: 'key_unsupported' });
  await assert.rejects(checkKeys({ ...keysDoc, petition_id: 'AAAA' }), { code: 'key_unsupported' });
});

test('checkRedemption refuses a credential whose message names another petition or key', async () => {
  const { rec, keysDoc } = await cred;
  const pins = await checkKeys(keysDoc);
  assert.equal(checkRedemption(rec, pins), undefined);
  const otherPetition = { ...pins, petitionId: b64urlEncode(new Uint8Array(16).fill(7)) };
  assert.throws(() => checkRedemption(rec, otherPetition), { code: 'petition_changed' });
  const otherKey = { ...pins, keys: { in_person: b64urlEncode(new Uint8Array(32).fill(9)) } };
  assert.throws(() => checkRedemption(rec, otherKey), { code: 'key_changed' });
  assert.throws(() => checkRedemption({ ...rec, keyId: otherKey.keys.in_person }, pins), { code: 'key_changed' });
});

test('any signature shows on the bar, like the percent_of filter', async () => {
  const { percentOf } = await import('../../static/js/sign.js');
  assert.equal(percentOf(1, 500), 2);
  assert.equal(percentOf(0, 500), 0);
  assert.equal(percentOf(-3, 500), 0);
});

test('a pending work address is kept only while its code works', () => {
  const now = 1_800_000_000_000;
  const rec = pendingEmailRecord('sam@acme.example', now, 15);
  assert.deepEqual(rec, { email: 'sam@acme.example', until: now + 15 * 60_000 });
  const text = JSON.stringify(rec);
  assert.deepEqual(readPendingEmail(text, now + 14 * 60_000, 15), rec);
  assert.equal(readPendingEmail(text, now + 15 * 60_000, 15), null, 'expired at the deadline');
  assert.equal(readPendingEmail(text, now - 60_000, 15), null, 'clock set back: further ahead than a code lives');
  for (const bad of ['', 'null', '{}', '[]', '{"email":"x","until":1}', `{"email":"a@b","until":"${now}"}`,
    JSON.stringify({ email: 'a@' + 'b'.repeat(260), until: now + 1000 })]) {
    assert.equal(readPendingEmail(bad, now, 15), null, bad);
  }
  assert.equal(pendingEmailKey('night-shift'), 'countersign:v1:email-code:night-shift');
  assert.notEqual(pendingEmailKey('night-shift'), storageKey('night-shift'));
});

test('count words: one form per plural category of the language, six in Arabic', () => {
  const el = { dataset: {
    zero: 'z{n}', one: 'o{n}', two: 't{n}', few: 'f{n}', many: 'm{n}', other: 'x{n}',
  } };
  const en = [0, 1, 2, 3, 10, 11, 99, 100, 103, 111].map((n) => pluralText(el, n, 'en'));
  assert.deepEqual(en, ['x0', 'o1', 'x2', 'x3', 'x10', 'x11', 'x99', 'x100', 'x103', 'x111']);
  const forms = [0, 1, 2, 3, 10, 11, 99, 100, 103, 111].map((n) => pluralText(el, n, 'ar').charAt(0));
  assert.deepEqual(forms, ['z', 'o', 't', 'f', 'f', 'm', 'm', 'x', 'f', 'm']);
  // A page that gives only one/other (English) still reads right.
  assert.equal(pluralText({ dataset: { one: '{n} sig', other: '{n} sigs' } }, 1500, 'en'), '1,500 sigs');
  assert.equal(pluralText({ dataset: { other: 'x{n}' } }, 2, 'ar'), `x${new Intl.NumberFormat('ar').format(2)}`);
});

test('a 503 is sent again, bounded, never sooner than the backoff asks nor later', () => {
  // Retry-After 30 (Redis down) or 5 (a database restart): waits of 1, 2, 4, 8 s, then it stands.
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => retryDelay(503, '30', n)), [1, 2, 4, 8, null]);
  assert.deepEqual([0, 1, 2, 3].map((n) => retryDelay(503, '5', n)), [1, 2, 4, 5]);
  assert.equal(RETRY_TRIES, 4);
  assert.equal(retryDelay(503, '0', 2), 0);
  for (const header of [null, '', 'soon', '-3', 'Wed, 21 Oct 2026 07:28:00 GMT']) {
    assert.equal(retryDelay(503, header, 1), 2, String(header)); // unreadable: the backoff
  }
  // Anything else is the answer: a refusal, a conflict, a 500 or a proxy's 502.
  for (const status of [200, 201, 400, 403, 409, 429, 500, 502, 504]) {
    assert.equal(retryDelay(status, '1', 0), null, String(status));
  }
});
