// SPDX-License-Identifier: AGPL-3.0-or-later
// The receipt of protocol v1 (docs/protocol.md §7): reading one (downloaded file, stored record
// or bare receipt code), writing the downloadable file and what this device stores, and
// checking its signature against a petition's keys. Pure: no DOM, no request. Used by the
// signing page (sign.js) and the audit page (audit.js), so neither depends on the other.
import { b64urlDecode, b64urlEncode, buildMessage, importSpki, keyId as spkiKeyId, nullifier, verify } from './blindrsa.js';

export const CODE_LEVELS = ['in_person', 'flyer'];
export const LEVELS = ['work_email', ...CODE_LEVELS];
// Where this device keeps a petition's credential and receipt (localStorage): the signing
// page writes it, the audit page reads it to fill in the receipt check.
export const storageKey = (slug) => `countersign:v1:${slug}`;
// The random prefix in front of a prepared message (RFC 9474 Prepare).
export const PREFIX_LEN = 32;
// Receipt fields and their byte lengths: prepared_msg is 32 + 95 bytes; signatures come
// from 2048- to 4096-bit keys.
const RECEIPT_FIELDS = { token: [32, 32], preparedMsg: [127, 127], keyId: [32, 32], sig: [256, 512] };

/** An error the page has a message for (`<template id="msg-CODE">`). */
export class SignError extends Error {
  constructor(code) { super(code); this.code = code; }
}

function decodeLength(value, [min, max]) {
  let bytes;
  try { bytes = b64urlDecode(value); } catch { throw new SignError('receipt_invalid'); }
  if (bytes.length < min || bytes.length > max) throw new SignError('receipt_invalid');
  return bytes;
}

/**
 * A receipt (JSON text or object, as downloaded or as stored) → {token, preparedMsg, sig,
 * keyId, level, used, withdrawn}, or {token} alone for a bare receipt code (enough to
 * withdraw, not to sign). Checks shape and lengths only; checkReceipt() checks the crypto.
 */
export function parseReceipt(input, { slug, levels = LEVELS } = {}) {
  let obj = input;
  if (typeof input === 'string') {
    const text = input.trim();
    if (/^[A-Za-z0-9_-]{43}$/.test(text)) {
      decodeLength(text, RECEIPT_FIELDS.token);
      return { token: text };
    }
    try { obj = JSON.parse(text); } catch { throw new SignError('receipt_invalid'); }
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new SignError('receipt_invalid');
  if (obj.petition !== undefined && obj.petition !== slug) throw new SignError('receipt_invalid');
  if (!levels.includes(obj.level)) throw new SignError('receipt_invalid');
  const rec = { level: obj.level };
  for (const [field, range] of Object.entries(RECEIPT_FIELDS)) {
    decodeLength(obj[field], range);
    rec[field] = obj[field];
  }
  rec.used = obj.used === true;
  rec.withdrawn = obj.withdrawn === true;
  return rec;
}

/** The downloadable receipt: everything an independent client needs to sign or withdraw. */
export function receiptFile(rec, slug) {
  const { level, keyId, token, preparedMsg, sig } = rec;
  const file = { format: 'countersign-receipt', version: 1, petition: slug, level, keyId, token, preparedMsg, sig };
  return JSON.stringify(file, null, 2) + '\n';
}

/** What localStorage holds: the credential and its state, never `inv` nor the address. */
export function storedRecord(rec) {
  const { token, preparedMsg, sig, keyId, level } = rec;
  return { token, preparedMsg, sig, keyId, level, ...(rec.used && { used: true }), ...(rec.withdrawn && { withdrawn: true }) };
}

/**
 * Does an imported receipt belong to this petition (keysDoc = GET …/keys), and does its
 * signature verify? Catches a wrong or damaged file before the signer relies on it.
 */
export async function checkReceipt(rec, keysDoc) {
  try {
    const key = (keysDoc.keys ?? []).find((k) => k.key_id === rec.keyId);
    if (!key || key.level !== rec.level) throw new Error('no such key');
    const pk = importSpki(key.spki);
    const kid = await spkiKeyId(pk.spki);
    const prepared = b64urlDecode(rec.preparedMsg);
    const expected = buildMessage(b64urlDecode(keysDoc.petition_id), kid,
      await nullifier(b64urlDecode(rec.token)));
    if (b64urlEncode(prepared.subarray(PREFIX_LEN)) !== b64urlEncode(expected)) throw new Error('msg');
    if (!(await verify(pk, prepared, b64urlDecode(rec.sig)))) throw new Error('sig');
  } catch {
    throw new SignError('receipt_invalid');
  }
  return rec;
}
