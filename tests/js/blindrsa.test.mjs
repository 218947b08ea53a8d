// SPDX-License-Identifier: AGPL-3.0-or-later
// Run: node --test /work/main/tests/js/
// Vectors: ../data/rfc9474-test-vectors.json (RFC 9474 Appendix A, copied from shared/data), or $COUNTERSIGN_VECTORS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, generatePrimeSync } from 'node:crypto';

import * as brsa from '../../static/js/blindrsa.js';
import { selfTest } from '../../static/js/blindrsa-selftest.js';

const {
  b64urlDecode, b64urlEncode, blind, buildMessage, bytesToBigInt, bytesToHex, completeCredential,
  createCredentialRequest, finalize, hexToBytes, importSpki, keyId, modInverse, modPow, nullifier,
  prepare, publicKeyFromHex, randomToken, verify, verifyWithWebCrypto,
} = brsa;

const vectorsPath = process.env.COUNTERSIGN_VECTORS
  || new URL('../data/rfc9474-test-vectors.json', import.meta.url);
const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8'));
const subtle = globalThis.crypto.subtle;
const sha256 = (b) => new Uint8Array(createHash('sha256').update(b).digest());

// ---------- RFC 9474 Appendix A ----------

test('the vectors file holds the four RFC 9474 variants', () => {
  assert.deepEqual(vectors.map((v) => v.name).sort(), [
    'RSABSSA-SHA384-PSS-Deterministic', 'RSABSSA-SHA384-PSS-Randomized',
    'RSABSSA-SHA384-PSSZERO-Deterministic', 'RSABSSA-SHA384-PSSZERO-Randomized',
  ]);
});

for (const v of vectors) {
  test(`RFC 9474 vector ${v.name}`, async (t) => {
    const pk = publicKeyFromHex(v.n, v.e);
    const saltLength = v.salt.length / 2;
    const randomized = v.name.endsWith('-Randomized');
    assert.equal(saltLength, v.name.includes('PSSZERO') ? 0 : 48);
    const inv = BigInt('0x' + v.inv);
    let preparedMsg, sig;

    await t.test('prepare', () => {
      const opts = randomized ? { prefix: hexToBytes(v.msg_prefix) } : { randomized: false };
      preparedMsg = prepare(hexToBytes(v.msg), opts);
      assert.equal(bytesToHex(preparedMsg), v.prepared_msg);
    });
    await t.test('blind with injected salt and r', async () => {
      const r = modInverse(inv, pk.n);
      const out = await blind(pk, preparedMsg, { saltLength, salt: hexToBytes(v.salt), r });
      assert.equal(bytesToHex(out.blindedMsg), v.blinded_msg);
      assert.equal(out.inv, inv);
    });
    await t.test('finalize', async () => {
      sig = await finalize(pk, preparedMsg, hexToBytes(v.blind_sig), inv, { saltLength });
      assert.equal(bytesToHex(sig), v.sig);
    });
    await t.test('verify', async () => {
      assert.equal(await verify(pk, preparedMsg, sig, { saltLength }), true);
      assert.equal(await verify(pk, preparedMsg, hexToBytes(v.sig), { saltLength }), true);
    });
    await t.test('a flipped bit fails verify and finalize', async () => {
      for (const bit of [0, 7, 1000, 4095]) {
        const bad = sig.slice();
        bad[bit >> 3] ^= 1 << (bit & 7);
        assert.equal(await verify(pk, preparedMsg, bad, { saltLength }), false);
      }
      const badMsg = preparedMsg.slice();
      badMsg[preparedMsg.length - 1] ^= 1;
      assert.equal(await verify(pk, badMsg, sig, { saltLength }), false);
      assert.equal(await verify(pk, preparedMsg, sig, { saltLength: saltLength ? 0 : 48 }), false);
      const badBlind = hexToBytes(v.blind_sig);
      badBlind[100] ^= 0x10;
      await assert.rejects(finalize(pk, preparedMsg, badBlind, inv, { saltLength }), /does not verify/);
    });
    await t.test('blind with random salt and r still finalizes', async () => {
      const d = BigInt('0x' + v.d);
      const out = await blind(pk, preparedMsg, { saltLength });
      const blindSig = brsa.bigIntToBytes(modPow(bytesToBigInt(out.blindedMsg), d, pk.n), 512);
      const s = await finalize(pk, preparedMsg, blindSig, out.inv, { saltLength });
      assert.equal(await verify(pk, preparedMsg, s, { saltLength }), true);
    });
  });
}

test('verify rejects near-miss PSS encodings signed with the real key', async () => {
  // Each case is a correctly *signed* EM with one EMSA-PSS-VERIFY rule broken, so only that
  // rule can reject it (the salt and H stay consistent).
  const v = vectors[0];
  const pk = publicKeyFromHex(v.n, v.e), d = BigInt('0x' + v.d);
  const msg = hexToBytes(v.prepared_msg);
  const sign = (em) => brsa.bigIntToBytes(modPow(bytesToBigInt(em), d, pk.n), 512);
  const encode = () => brsa.emsaPssEncode(msg, 4095, globalThis.crypto.getRandomValues(new Uint8Array(48)));
  assert.equal(await verify(pk, msg, sign(await encode())), true, 'sanity');

  const psLen = 512 - 48 - 48 - 2;
  const cases = {
    'non-zero padding': (em) => { em[1] ^= 1; },
    'missing 0x01 separator': (em) => { em[psLen] ^= 1; },
    'wrong trailer': (em) => { em[511] = 0xbd; },
  };
  for (const [what, tamper] of Object.entries(cases)) {
    const em = await encode();
    tamper(em);
    assert.equal(await verify(pk, msg, sign(em)), false, what);
  }
  // Top bit set (beyond emBits) while the integer stays below n: retry salts until it fits.
  let em;
  do { em = await encode(); em[0] |= 0x80; } while (bytesToBigInt(em) >= pk.n);
  assert.equal(await verify(pk, msg, sign(em)), false, 'bit above emBits');

  // s + n (and z + n for finalize) still fits in 512 bytes about half the time: the
  // non-canonical representative must be refused, or signatures become malleable.
  const limit = (1n << 4096n) - pk.n;
  let sig;
  do { sig = sign(await encode()); } while (bytesToBigInt(sig) >= limit);
  assert.equal(await verify(pk, msg, sig), true, 'sanity');
  assert.equal(await verify(pk, msg, brsa.bigIntToBytes(bytesToBigInt(sig) + pk.n, 512)), false, 's + n');
  let b;
  do { b = await blind(pk, msg); } while (bytesToBigInt(sign(b.blindedMsg)) >= limit);
  const z = bytesToBigInt(sign(b.blindedMsg));
  await finalize(pk, msg, sign(b.blindedMsg), b.inv); // sanity
  await assert.rejects(finalize(pk, msg, brsa.bigIntToBytes(z + pk.n, 512), b.inv), /out of range/);
});

test('input validation', async () => {
  const v = vectors[0];
  const pk = publicKeyFromHex(v.n, v.e), msg = hexToBytes(v.prepared_msg), sig = hexToBytes(v.sig);
  const inv = BigInt('0x' + v.inv);
  assert.equal(await verify(pk, msg, new Uint8Array([0, ...sig])), false, 'sig one byte long');
  assert.equal(await verify(pk, msg, sig.subarray(1)), false, 'sig one byte short');
  await assert.rejects(finalize(pk, msg, new Uint8Array([0, ...hexToBytes(v.blind_sig)]), inv), /wrong length/);
  await assert.rejects(blind(pk, msg, { r: 0n }), /r out of range/);
  await assert.rejects(blind(pk, msg, { r: pk.n }), /r out of range/);
  await assert.rejects(blind(pk, msg, { salt: new Uint8Array(32) }), /salt length/);
  await assert.rejects(blind(pk, msg, { saltLength: 0, salt: new Uint8Array(48) }), /salt length/);
});

test('selfTest (the browser entry point) passes all four vectors', async () => {
  const result = await selfTest(vectors);
  assert.deepEqual(result, { passed: 4, failed: [], errors: {} });
});

// ---------- encodings ----------

test('b64url round trip matches Node base64url', () => {
  for (let len = 0; len < 70; len++) {
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(len));
    const s = b64urlEncode(bytes);
    assert.equal(s, Buffer.from(bytes).toString('base64url'));
    assert.deepEqual(b64urlDecode(s), bytes);
  }
  assert.equal(b64urlEncode(new Uint8Array([0xfb, 0xff])), '-_8');
});

test('b64url decode is strict', () => {
  for (const bad of ['AA==', 'AA=', 'A', 'AAAAA', 'a+b/', 'ab cd', 'ab\n', 'AB', 'AAB', 'é', null]) {
    assert.throws(() => b64urlDecode(bad), /base64url/, JSON.stringify(bad));
  }
  assert.deepEqual(b64urlDecode(''), new Uint8Array());
  assert.deepEqual(b64urlDecode('AA'), new Uint8Array([0]));
  assert.deepEqual(b64urlDecode('AAE'), new Uint8Array([0, 1]));
});

test('hex helpers', () => {
  assert.equal(bytesToHex(new Uint8Array([0, 1, 0xab, 0xff])), '0001abff');
  assert.deepEqual(hexToBytes('0001ABff'), new Uint8Array([0, 1, 0xab, 0xff]));
  for (const bad of ['0', 'zz', '0x00', ' 00']) assert.throws(() => hexToBytes(bad), /hex/);
});

// ---------- protocol v1 ----------

test('randomToken, nullifier and keyId', async () => {
  const token = randomToken();
  assert.equal(token.length, 32);
  assert.notDeepEqual(randomToken(), token);
  assert.deepEqual(await nullifier(token), sha256(token));
  assert.deepEqual(await keyId(new Uint8Array([1, 2, 3])), sha256(new Uint8Array([1, 2, 3])));
});

test('buildMessage is 95 bytes with the documented layout', () => {
  const pid = new Uint8Array(16).fill(0x11), kid = new Uint8Array(32).fill(0x22);
  const nul = new Uint8Array(32).fill(0x33);
  const msg = buildMessage(pid, kid, nul);
  assert.equal(msg.length, 95);
  assert.equal(new TextDecoder().decode(msg.subarray(0, 14)), 'countersign-v1');
  assert.equal(msg[14], 0);
  assert.deepEqual(msg.subarray(15, 31), pid);
  assert.deepEqual(msg.subarray(31, 63), kid);
  assert.deepEqual(msg.subarray(63, 95), nul);
  assert.throws(() => buildMessage(new Uint8Array(15), kid, nul), /length/);
  assert.throws(() => buildMessage(pid, new Uint8Array(33), nul), /length/);
  assert.throws(() => buildMessage(pid, kid, new Uint8Array(31)), /length/);
});

test('prepare draws a fresh 32-byte prefix', () => {
  const msg = new Uint8Array([1, 2, 3]);
  const a = prepare(msg), b = prepare(msg);
  assert.equal(a.length, 35);
  assert.deepEqual(a.subarray(32), msg);
  assert.notDeepEqual(a, b);
  assert.throws(() => prepare(msg, { prefix: new Uint8Array(31) }), /32 bytes/);
});

// ---------- SPKI parsing ----------

// Test-only DER encoder, to build valid and subtly invalid SubjectPublicKeyInfo.
function derLen(len) {
  if (len < 0x80) return [len];
  const bytes = [];
  for (; len; len >>= 8) bytes.unshift(len & 0xff);
  return [0x80 | bytes.length, ...bytes];
}
const tlv = (tag, content, len = derLen(content.length)) => new Uint8Array([tag, ...len, ...content]);
const intDer = (x) => {
  let b = hexToBytes(x.toString(16).padStart(Math.ceil(x.toString(16).length / 2) * 2, '0'));
  if (b[0] & 0x80) b = new Uint8Array([0, ...b]);
  return tlv(0x02, b);
};
const RSA_ALG = tlv(0x30, [...tlv(0x06, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]), 0x05, 0x00]);
function spkiDer(n, e, { alg = RSA_ALG, keyInts = [...intDer(n), ...intDer(e)], unused = 0 } = {}) {
  return tlv(0x30, [...alg, ...tlv(0x03, [unused, ...tlv(0x30, keyInts)])]);
}

test('importSpki parses WebCrypto output and rejects malformed DER', async () => {
  const v = vectors[0];
  const { n, e } = publicKeyFromHex(v.n, v.e);
  const good = spkiDer(n, e);
  const key = await subtle.importKey('jwk', { kty: 'RSA', n: b64urlEncode(hexToBytes(v.n)), e: 'AQAB' },
    { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['verify']);
  const webSpki = new Uint8Array(await subtle.exportKey('spki', key));
  assert.deepEqual(good, webSpki, 'test encoder agrees with WebCrypto');

  const parsed = importSpki(good);
  assert.equal(parsed.n, n);
  assert.equal(parsed.e, 65537n);
  assert.equal(parsed.modulusBits, 4096);
  assert.deepEqual(importSpki(b64urlEncode(good)).n, n, 'accepts base64url');

  const noNull = tlv(0x30, tlv(0x06, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]));
  const pssOid = tlv(0x30, [...tlv(0x06, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a]), 0x05, 0x00]);
  const nBytes = hexToBytes(v.n);
  const bad = {
    'trailing byte': new Uint8Array([...good, 0]),
    'truncated': good.subarray(0, good.length - 1),
    'wrong OID (RSASSA-PSS)': spkiDer(n, e, { alg: pssOid }),
    'missing NULL': spkiDer(n, e, { alg: noNull }),
    'unused bits': spkiDer(n, e, { unused: 1 }),
    'negative modulus': spkiDer(n, e, { keyInts: [...tlv(0x02, nBytes), ...intDer(e)] }),
    'non-minimal integer': spkiDer(n, e, { keyInts: [...intDer(n), ...tlv(0x02, [0, 1, 0, 1])] }),
    'non-minimal length': spkiDer(n, e, { keyInts: [...intDer(n), ...tlv(0x02, [1, 0, 1], [0x81, 3])] }),
    'indefinite length': new Uint8Array([0x30, 0x80, ...good.subarray(4), 0, 0]),
    'extra integer': spkiDer(n, e, { keyInts: [...intDer(n), ...intDer(e), ...intDer(3n)] }),
    'even e': spkiDer(n, 65536n),
    'e = 1': spkiDer(n, 1n),
    '1024-bit modulus': spkiDer(n >> 3072n | 1n, e),
    'not a sequence': new Uint8Array([0x31, ...good.subarray(1)]),
    'empty': new Uint8Array(),
  };
  for (const [what, der] of Object.entries(bad)) {
    assert.throws(() => importSpki(der), /SPKI/, what);
  }
});

// ---------- end to end with WebCrypto keys ----------

async function webCryptoKey(modulusLength) {
  const pair = await subtle.generateKey({ name: 'RSA-PSS', modulusLength, publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-384' }, true, ['sign', 'verify']);
  const spki = new Uint8Array(await subtle.exportKey('spki', pair.publicKey));
  const jwk = await subtle.exportKey('jwk', pair.privateKey);
  const big = (s) => bytesToBigInt(b64urlDecode(s));
  return { pair, spki, n: big(jwk.n), d: big(jwk.d) };
}
// What the server's BlindSign does (without CRT or constant time): test only.
const blindSign = (k, blindedMsg) =>
  brsa.bigIntToBytes(modPow(bytesToBigInt(blindedMsg), k.d, k.n), blindedMsg.length);

test('WebCrypto cross-check: 2048-bit key, prepare → blind → sign → finalize', async () => {
  const k = await webCryptoKey(2048);
  const pk = importSpki(k.spki);
  assert.equal(pk.n, k.n);
  assert.equal(pk.modulusBits, 2048);
  const preparedMsg = prepare(new TextEncoder().encode('hello'));
  const { blindedMsg, inv } = await blind(pk, preparedMsg);
  assert.equal(blindedMsg.length, 256);
  const sig = await finalize(pk, preparedMsg, blindSign(k, blindedMsg), inv);
  assert.equal(await verifyWithWebCrypto(k.spki, preparedMsg, sig, 48), true);
  assert.equal(await verify(pk, preparedMsg, sig), true);
  sig[5] ^= 4;
  assert.equal(await verifyWithWebCrypto(k.spki, preparedMsg, sig, 48), false);

  // And the other way round: WebCrypto's own RSA-PSS signatures pass our verify.
  const wcSig = new Uint8Array(await subtle.sign({ name: 'RSA-PSS', saltLength: 48 }, k.pair.privateKey, preparedMsg));
  assert.equal(await verify(pk, preparedMsg, wcSig), true);
  assert.equal(await verify(pk, preparedMsg, wcSig, { saltLength: 32 }), false);
});

test('createCredentialRequest / completeCredential with a 3072-bit key and base64url inputs', async () => {
  const k = await webCryptoKey(3072);
  const petitionId = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const req = await createCredentialRequest({ spki: b64urlEncode(k.spki), petitionId: b64urlEncode(petitionId) });
  assert.deepEqual(req.keyId, sha256(k.spki));
  assert.equal(req.token.length, 32);
  assert.equal(req.preparedMsg.length, 32 + 95);
  assert.equal(req.blindedMsg.length, 384);
  assert.deepEqual(req.preparedMsg.subarray(32),
    buildMessage(petitionId, req.keyId, sha256(req.token)));

  const blindSig = b64urlEncode(blindSign(k, req.blindedMsg));
  const sig = await completeCredential({ spki: k.spki, preparedMsg: req.preparedMsg, blindSig, inv: req.inv });
  assert.equal(await verifyWithWebCrypto(k.spki, req.preparedMsg, sig, 48), true);

  // A server signing something else (or a wrong inv) must not yield a credential.
  await assert.rejects(completeCredential({ spki: k.spki, preparedMsg: req.preparedMsg, blindSig,
    inv: req.inv + 1n }), /does not verify/);
  const other = await createCredentialRequest({ spki: k.spki, petitionId });
  await assert.rejects(completeCredential({ spki: k.spki, preparedMsg: req.preparedMsg,
    blindSig: blindSign(k, other.blindedMsg), inv: req.inv }), /does not verify/);
});

test('modulus of 2049 bits (emLen one byte shorter than the modulus)', { timeout: 60_000 }, async () => {
  // WebCrypto rounds odd sizes, so build the key from primes: the RFC's bit_len(n) pitfall
  // and the k-1 byte encoding only show up when bit_len(n) % 8 == 1. OpenSSL sets the top two
  // bits of each prime, so a 1025-bit p times a 1024-bit q always has exactly 2049 bits.
  const p = generatePrimeSync(1025, { bigint: true });
  const q = generatePrimeSync(1024, { bigint: true });
  const n = p * q;
  assert.equal(n.toString(2).length, 2049);
  const e = 65537n;
  const d = modInverse(e, (p - 1n) * (q - 1n));
  const spki = spkiDer(n, e);
  const pk = importSpki(spki);
  assert.equal(pk.modulusBits, 2049);
  const preparedMsg = prepare(new TextEncoder().encode('odd modulus'));
  const { blindedMsg, inv } = await blind(pk, preparedMsg);
  assert.equal(blindedMsg.length, 257);
  const sig = await finalize(pk, preparedMsg, blindSign({ n, d }, blindedMsg), inv);
  assert.equal(await verifyWithWebCrypto(spki, preparedMsg, sig, 48), true);
});
