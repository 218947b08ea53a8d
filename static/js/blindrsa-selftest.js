// SPDX-License-Identifier: AGPL-3.0-or-later
// Runs the RFC 9474 Appendix A vectors through blindrsa.js. Shared by the Node tests and the
// in-browser (Playwright) run, so it uses only what blindrsa.js itself uses.
import {
  b64urlEncode, blind, bytesToHex, emsaPssEncode, finalize, hexToBytes, importSpki,
  modInverse, prepare, publicKeyFromHex, verify, verifyWithWebCrypto,
} from './blindrsa.js';

function check(cond, what) {
  if (!cond) throw new Error(what);
}

/** Check one vector (fields as in the RFC, hex); throws with the first mismatch. */
export async function checkVector(v) {
  const pk = publicKeyFromHex(v.n, v.e);
  const saltLength = v.salt.length / 2;
  const randomized = v.msg_prefix !== '';
  const preparedMsg = prepare(hexToBytes(v.msg), { randomized, prefix: randomized ? hexToBytes(v.msg_prefix) : undefined });
  check(bytesToHex(preparedMsg) === v.prepared_msg.toLowerCase(), 'prepared_msg');

  const encoded = await emsaPssEncode(preparedMsg, pk.modulusBits - 1, hexToBytes(v.salt));
  check(bytesToHex(encoded) === v.encoded_msg.toLowerCase(), 'encoded_msg');

  const inv = BigInt('0x' + v.inv);
  const r = modInverse(inv, pk.n); // the vectors publish inv, not r
  const { blindedMsg, inv: inv2 } = await blind(pk, preparedMsg, { saltLength, salt: hexToBytes(v.salt), r });
  check(bytesToHex(blindedMsg) === v.blinded_msg.toLowerCase(), 'blinded_msg');
  check(inv2 === inv, 'inv');

  const sig = await finalize(pk, preparedMsg, hexToBytes(v.blind_sig), inv, { saltLength });
  check(bytesToHex(sig) === v.sig.toLowerCase(), 'sig');
  check(await verify(pk, preparedMsg, sig, { saltLength }), 'verify');

  const badSig = sig.slice();
  badSig[badSig.length - 1] ^= 1;
  check(!(await verify(pk, preparedMsg, badSig, { saltLength })), 'verify accepted a flipped bit');
  const badBlind = hexToBytes(v.blind_sig);
  badBlind[badBlind.length - 1] ^= 1;
  let threw = false;
  try { await finalize(pk, preparedMsg, badBlind, inv, { saltLength }); } catch { threw = true; }
  check(threw, 'finalize accepted a flipped bit');

  // Independent check with the platform's RSA-PSS: get the SPKI DER via a JWK round trip.
  const jwk = { kty: 'RSA', n: b64urlEncode(hexToBytes(v.n)), e: b64urlEncode(hexToBytes(v.e)), ext: true };
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['verify']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', key));
  const parsed = importSpki(spki);
  check(parsed.n === pk.n && parsed.e === pk.e, 'importSpki');
  check(await verifyWithWebCrypto(spki, preparedMsg, sig, saltLength), 'WebCrypto verify');
}

/** Returns {passed: count, failed: [names], errors: {name: message}}. */
export async function selfTest(vectors) {
  const result = { passed: 0, failed: [], errors: {} };
  for (const v of vectors) {
    try {
      await checkVector(v);
      result.passed++;
    } catch (err) {
      result.failed.push(v.name);
      result.errors[v.name] = String(err && err.message || err);
    }
  }
  return result;
}
