// SPDX-License-Identifier: AGPL-3.0-or-later
// Client side of RFC 9474 blind RSA signatures, RSABSSA-SHA384 (protocol v1 uses
// PSS-Randomized: 48-byte salt, 32-byte message prefix). Dependency-free on purpose: this
// file is served to signers and its hash is published, so it must stay small and auditable.
// Needs only WebCrypto (crypto.subtle exists only in secure contexts: https or localhost),
// BigInt, TextEncoder and Uint8Array; it runs unchanged in browsers and Node 20.

const subtle = () => globalThis.crypto.subtle;
const HASH_LEN = 48; // SHA-384 output
const PREFIX_LEN = 32;
const TAG = new TextEncoder().encode('countersign-v1');
const PUBLIC_EXPONENT = 65537n;
const RSA_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]; // 1.2.840.113549.1.1.1

// ---------- bytes, hex, base64url ----------

export function randomBytes(len) {
  return globalThis.crypto.getRandomValues(new Uint8Array(len));
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function hexToBytes(hex) {
  if (typeof hex !== 'string' || hex.length % 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error('invalid hex');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url without padding (protocol v1's wire format for every binary value). */
export function b64urlEncode(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += B64[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

/** Strict decoder: rejects '=', '+', '/', whitespace, impossible lengths and non-zero
 *  leftover bits, so every byte string has exactly one accepted encoding. */
export function b64urlDecode(str) {
  if (typeof str !== 'string' || !/^[A-Za-z0-9_-]*$/.test(str) || str.length % 4 === 1) {
    throw new Error('invalid base64url');
  }
  const out = new Uint8Array(Math.floor((str.length * 6) / 8));
  let acc = 0, bits = 0, o = 0;
  for (const c of str) {
    acc = ((acc << 6) | B64.indexOf(c)) & 0xfff; // keep at most 12 bits
    bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 0xff; }
  }
  if (acc & ((1 << bits) - 1)) throw new Error('invalid base64url (non-canonical)');
  return out;
}

// Accept raw bytes, an ArrayBuffer (what WebCrypto returns) or base64url text (the JSON API).
const asBytes = (x) =>
  typeof x === 'string' ? b64urlDecode(x) : x instanceof ArrayBuffer ? new Uint8Array(x) : x;

// ---------- BigInt arithmetic ----------
// This is the client: it handles no private key (r stays on the device and is used once),
// so plain, non-constant-time BigInt arithmetic is acceptable here. The server's BlindSign
// uses a constant-time exponentiation instead.

export function bytesToBigInt(bytes) {
  return bytes.length ? BigInt('0x' + bytesToHex(bytes)) : 0n;
}

/** I2OSP: big-endian, exactly len bytes; throws if x does not fit. */
export function bigIntToBytes(x, len) {
  const hex = x.toString(16).padStart(2 * len, '0');
  if (x < 0n || hex.length > 2 * len) throw new Error('integer too large');
  return hexToBytes(hex);
}

const bitLength = (x) => x.toString(2).length;

export function modPow(base, exp, mod) {
  let result = 1n;
  base %= mod;
  for (; exp > 0n; exp >>= 1n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
  }
  return result;
}

export function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Extended Euclid; throws if a is not invertible mod m. */
export function modInverse(a, m) {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new Error('not invertible');
  return ((oldS % m) + m) % m;
}

// ---------- keys ----------

/** Public key from hex n and e (as in the RFC 9474 vectors). */
export function publicKeyFromHex(nHex, eHex) {
  const n = BigInt('0x' + nHex), e = BigInt('0x' + eHex);
  return { n, e, modulusBits: bitLength(n) };
}

// Minimal strict DER reader: one TLV at pos with the expected tag, definite minimal length.
function derTLV(buf, pos, tag) {
  if (pos + 2 > buf.length || buf[pos] !== tag) throw new Error('SPKI: unexpected DER tag');
  let len = buf[pos + 1], start = pos + 2;
  if (len & 0x80) {
    const count = len & 0x7f; // 0 would be BER's indefinite length
    if (count < 1 || count > 3 || start + count > buf.length || buf[start] === 0) {
      throw new Error('SPKI: bad DER length');
    }
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + buf[start + i];
    if (len < 0x80) throw new Error('SPKI: non-minimal DER length');
    start += count;
  }
  if (start + len > buf.length) throw new Error('SPKI: truncated');
  return { start, end: start + len };
}

function derPositiveInt(buf, pos) {
  const t = derTLV(buf, pos, 0x02);
  const v = buf.subarray(t.start, t.end);
  if (!v.length || v[0] & 0x80 || (v[0] === 0 && v.length > 1 && !(v[1] & 0x80))) {
    throw new Error('SPKI: bad INTEGER');
  }
  return { value: bytesToBigInt(v), end: t.end };
}

/**
 * Parse a SubjectPublicKeyInfo DER for rsaEncryption (the form WebCrypto imports as RSA-PSS):
 * SEQ { SEQ { OID rsaEncryption, NULL }, BIT STRING { SEQ { INTEGER n, INTEGER e } } }.
 * Anything else, including trailing bytes, is rejected. Returns {n, e, modulusBits, spki};
 * keeping spki lets finalize() double-check with the browser's own RSA-PSS.
 */
export function importSpki(spkiBytes) {
  const buf = asBytes(spkiBytes);
  const outer = derTLV(buf, 0, 0x30);
  const alg = derTLV(buf, outer.start, 0x30);
  const oid = derTLV(buf, alg.start, 0x06);
  const oidBytes = buf.subarray(oid.start, oid.end);
  if (oidBytes.length !== RSA_OID.length || RSA_OID.some((b, i) => oidBytes[i] !== b)) {
    throw new Error('SPKI: not rsaEncryption');
  }
  const nul = derTLV(buf, oid.end, 0x05);
  const bits = derTLV(buf, alg.end, 0x03);
  if (outer.end !== buf.length || nul.start !== nul.end || nul.end !== alg.end ||
      bits.end !== outer.end || bits.start === bits.end || buf[bits.start] !== 0) {
    throw new Error('SPKI: malformed');
  }
  const rsa = derTLV(buf, bits.start + 1, 0x30);
  const n = derPositiveInt(buf, rsa.start);
  const e = derPositiveInt(buf, n.end);
  if (rsa.end !== bits.end || e.end !== rsa.end) throw new Error('SPKI: malformed RSA key');
  const modulusBits = bitLength(n.value);
  // Protocol v1 never uses keys below 2048 bits, and its keys have e = 65537 (F4): refuse
  // anything else rather than sign weakly or under a key made to single someone out.
  if (modulusBits < 2048 || !(n.value & 1n) || e.value !== PUBLIC_EXPONENT) {
    throw new Error('SPKI: unacceptable RSA key');
  }
  return { n: n.value, e: e.value, modulusBits, spki: buf.slice() };
}

// ---------- hashing, MGF1, EMSA-PSS (RFC 8017 §9.1) ----------

const digest = async (alg, data) => new Uint8Array(await subtle().digest(alg, data));
const sha384 = (data) => digest('SHA-384', data);

async function mgf1(seed, len) {
  const out = new Uint8Array(len);
  for (let c = 0, off = 0; off < len; c++, off += HASH_LEN) {
    const block = await sha384(concat(seed, bigIntToBytes(BigInt(c), 4)));
    out.set(block.subarray(0, Math.min(HASH_LEN, len - off)), off);
  }
  return out;
}

// M' = 8 zero bytes || mHash || salt; H = Hash(M').
const pssHash = async (msg, salt) => sha384(concat(new Uint8Array(8), await sha384(msg), salt));

export async function emsaPssEncode(msg, emBits, salt) {
  const emLen = Math.ceil(emBits / 8);
  if (emLen < HASH_LEN + salt.length + 2) throw new Error('encoding error');
  const h = await pssHash(msg, salt);
  const db = new Uint8Array(emLen - HASH_LEN - 1); // PS (zeros) || 0x01 || salt
  db[db.length - salt.length - 1] = 0x01;
  db.set(salt, db.length - salt.length);
  const mask = await mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits); // clear the bits above emBits
  return concat(db, h, [0xbc]);
}

async function emsaPssVerify(msg, em, emBits, saltLength) {
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < HASH_LEN + saltLength + 2 || em[emLen - 1] !== 0xbc) return false;
  const topMask = 0xff >> (8 * emLen - emBits);
  const db = em.slice(0, emLen - HASH_LEN - 1);
  const h = em.subarray(emLen - HASH_LEN - 1, emLen - 1);
  if (db[0] & ~topMask) return false;
  const mask = await mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= topMask;
  const psLen = db.length - saltLength - 1;
  if (db.subarray(0, psLen).some((b) => b !== 0) || db[psLen] !== 0x01) return false;
  const h2 = await pssHash(msg, db.subarray(psLen + 1));
  return h2.every((b, i) => b === h[i]); // public data: no need for a constant-time compare
}

// ---------- RFC 9474 client operations ----------

const modulusLen = (pk) => Math.ceil(bitLength(pk.n) / 8);

/** RFC 9474 Prepare: prefix (32 random bytes unless injected) || msg, or msg itself. */
export function prepare(msg, { randomized = true, prefix } = {}) {
  if (!randomized) return msg.slice();
  prefix = prefix ?? randomBytes(PREFIX_LEN);
  if (prefix.length !== PREFIX_LEN) throw new Error('prefix must be 32 bytes');
  return concat(prefix, msg);
}

/** RFC 9474 Blind. salt and r are injectable for test vectors only. Returns {blindedMsg, inv}. */
export async function blind(publicKey, preparedMsg, { saltLength = 48, salt, r } = {}) {
  const { n, e } = publicKey;
  salt = salt ?? randomBytes(saltLength);
  if (salt.length !== saltLength) throw new Error('salt length mismatch');
  // RFC 9474's pseudocode says bit_len(n), but its own vectors (and RSASSA-PSS-SIGN, whose
  // signatures Finalize must produce) need emBits = bit_len(n) - 1.
  const encoded = await emsaPssEncode(preparedMsg, bitLength(n) - 1, salt);
  const m = bytesToBigInt(encoded);
  if (m >= n || gcd(m, n) !== 1n) throw new Error('invalid input');
  if (r === undefined) {
    // Rejection sampling: uniform 0 < r < n, coprime to n (non-coprime r is astronomically rare).
    const len = modulusLen(publicKey), top = 0xff >> (8 * len - bitLength(n));
    do {
      const bytes = randomBytes(len);
      bytes[0] &= top;
      r = bytesToBigInt(bytes);
    } while (r === 0n || r >= n || gcd(r, n) !== 1n);
  } else if (r <= 0n || r >= n) {
    throw new Error('r out of range');
  }
  const inv = modInverse(r, n);
  const z = (m * modPow(r, e, n)) % n;
  return { blindedMsg: bigIntToBytes(z, modulusLen(publicKey)), inv };
}

/** RSASSA-PSS-VERIFY with SHA-384 / MGF1-SHA-384, implemented here so it works with any {n, e}. */
export async function verify(publicKey, preparedMsg, sig, { saltLength = 48 } = {}) {
  const { n, e } = publicKey;
  if (sig.length !== modulusLen(publicKey)) return false;
  const s = bytesToBigInt(sig);
  if (s >= n) return false;
  const emBits = bitLength(n) - 1;
  const m = modPow(s, e, n);
  // m must fit in emBits (RFC 8017 §8.1.2 step 2c); emsaPssVerify re-checks the top bits,
  // but this also covers bit_len(n) % 8 == 1, where EM is one byte shorter than the modulus.
  if (m >= 1n << BigInt(emBits)) return false;
  return emsaPssVerify(preparedMsg, bigIntToBytes(m, Math.ceil(emBits / 8)), emBits, saltLength);
}

/** Independent check with the platform's own RSA-PSS implementation. */
export async function verifyWithWebCrypto(spkiBytes, preparedMsg, sig, saltLength = 48) {
  const key = await subtle().importKey('spki', asBytes(spkiBytes),
    { name: 'RSA-PSS', hash: 'SHA-384' }, false, ['verify']);
  return subtle().verify({ name: 'RSA-PSS', saltLength }, key, sig, preparedMsg);
}

/** RFC 9474 Finalize: unblind, then refuse to return a signature that does not verify. */
export async function finalize(publicKey, preparedMsg, blindSig, inv, { saltLength = 48 } = {}) {
  const len = modulusLen(publicKey);
  if (blindSig.length !== len) throw new Error('blind signature has wrong length');
  const z = bytesToBigInt(blindSig);
  if (z >= publicKey.n) throw new Error('blind signature out of range');
  const sig = bigIntToBytes((z * inv) % publicKey.n, len);
  if (!(await verify(publicKey, preparedMsg, sig, { saltLength }))) {
    throw new Error('signature does not verify');
  }
  // Keys from importSpki carry their DER: let the browser's RSA-PSS confirm too, so a bug
  // here cannot hand over a signature that the server's `cryptography` check would reject.
  if (publicKey.spki && !(await verifyWithWebCrypto(publicKey.spki, preparedMsg, sig, saltLength))) {
    throw new Error('signature does not verify (WebCrypto)');
  }
  return sig;
}

// ---------- protocol v1 ----------

/** 32 random bytes: the signer's secret receipt (needed to withdraw). */
export const randomToken = () => randomBytes(32);
export const nullifier = (token) => digest('SHA-256', token);
export const keyId = (spkiBytes) => digest('SHA-256', asBytes(spkiBytes));

/** "countersign-v1" || 0x00 || petition_id (16) || key_id (32) || nullifier (32): 95 bytes. */
export function buildMessage(petitionId, keyIdBytes, nullifierBytes) {
  if (petitionId.length !== 16 || keyIdBytes.length !== 32 || nullifierBytes.length !== 32) {
    throw new Error('buildMessage: wrong field length');
  }
  return concat(TAG, [0], petitionId, keyIdBytes, nullifierBytes);
}

/**
 * Everything before talking to the credentials endpoint. spki and petitionId may be bytes or
 * base64url (as served by /keys). Send b64urlEncode(blindedMsg); keep token, preparedMsg and
 * inv on the device (inv is a BigInt and must never be sent: it would unblind the request).
 */
export async function createCredentialRequest({ spki, petitionId }) {
  const key = importSpki(spki);
  const kid = await keyId(key.spki);
  const token = randomToken();
  const preparedMsg = prepare(buildMessage(asBytes(petitionId), kid, await nullifier(token)));
  const { blindedMsg, inv } = await blind(key, preparedMsg);
  return { token, preparedMsg, blindedMsg, inv, keyId: kid };
}

/** Unblind the server's blind_sig (bytes or base64url) into a verified signature. */
export async function completeCredential({ spki, preparedMsg, blindSig, inv }) {
  return finalize(importSpki(spki), preparedMsg, asBytes(blindSig), inv);
}
