// SPDX-License-Identifier: AGPL-3.0-or-later
// The transparency log, checked on this device (docs/protocol.md, "Transparency log"):
// C2SP signed-note v1.0.0 and tlog-checkpoint v1.0.0 (the log's Ed25519 signature),
// tlog-cosignature v1.0.1 (witnesses), tlog-tiles v0.1.0 (paths, partial tiles, entry
// bundles), RFC 6962 hashing and inclusion proofs, and the entry encoding v1.
//
// Pure: no DOM, and no request of its own (the caller passes `fetchBytes`), so the same code
// runs in Node's tests and in the audit page (static/js/audit.js). It is written from the
// specifications, like the audit tool (tools/countersign_audit/), not from the server's code.
//
// Privacy: a receipt is checked by downloading every tile and every entry bundle of the
// signed tree, never one entry's proof, so the server learns only that this address read
// the whole log, not which entry it looked for.

export class LogError extends Error {
  /** `code` names the page's message (`<template id="audit-msg-CODE">`). */
  constructor(code, detail = code) { super(detail); this.code = code; }
}

export const HASH_SIZE = 32;
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
export const TYPE_ED25519 = 0x01;
export const TYPE_COSIGNATURE = 0x04;
// signed-note asks verifiers to accept at least 16 signatures; more is refused as garbage.
export const MAX_SIGNATURES = 100;
// A bound for the download loop (about 2 × 7,800 requests): past it the page says to use the
// audit tool (docs/audit.md), which streams the log instead of holding it in memory.
export const MAX_ENTRIES = 2_000_000;
export const PROOF_FORMAT = 'countersign-tlog-proof';
const SIGNATURE_PREFIX = '\u2014 '; // an em dash and a space
const encoder = new TextEncoder();
// Control characters other than a newline, which notes and key names must not hold.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

// Bytes and encodings.

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function fromHex(hex) {
  if (typeof hex !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(hex)) throw new LogError('invalid', 'not hex');
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Standard base64 (with padding), as notes and checkpoints use. */
export function b64Encode(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Strict standard base64: anything else (spaces, URL alphabet, bad padding) is refused. */
export function b64Decode(text) {
  if (typeof text !== 'string' || text.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new LogError('invalid', 'not base64');
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

// RFC 6962 hashing and inclusion proofs.

export const EMPTY_ROOT = fromHex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
export const leafHash = (entry) => sha256(concatBytes(Uint8Array.of(0), entry));
export const nodeHash = (left, right) => sha256(concatBytes(Uint8Array.of(1), left, right));

/** The largest power of two strictly below n (n > 1). */
function split(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH of a list of leaf (or level) hashes; EMPTY_ROOT for none. */
export async function rootFromHashes(hashes) {
  if (hashes.length === 0) return EMPTY_ROOT;
  if (hashes.length === 1) return hashes[0];
  const k = split(hashes.length);
  return nodeHash(await rootFromHashes(hashes.slice(0, k)), await rootFromHashes(hashes.slice(k)));
}

/** RFC 6962 §2.1.1 PATH(index, D[0:size]); `subtree(start, end)` gives MTH(D[start:end]). */
export async function inclusionProof(index, size, subtree) {
  if (!(Number.isSafeInteger(index) && index >= 0 && index < size)) throw new LogError('proof', 'index out of range');
  const proof = [];
  let [m, start, end] = [index, 0, size];
  // Top-down, so the siblings come root first; reversed at the end (leaf first).
  while (end - start > 1) {
    const k = split(end - start);
    if (m < k) { proof.push(await subtree(start + k, end)); end = start + k; } else { proof.push(await subtree(start, start + k)); start += k; m -= k; }
  }
  return proof.reverse();
}

/** RFC 9162 §2.1.3.2: throws LogError('proof') unless `leaf` is at `index` of the tree `root`. */
export async function verifyInclusion(index, size, leaf, proof, root) {
  for (const h of [leaf, root, ...proof]) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw new LogError('proof', 'a hash is not 32 bytes');
  }
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    throw new LogError('proof', 'index out of range');
  }
  // fn and sn fit in 53 bits; halving with Math.floor keeps them exact.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const c of proof) {
    if (sn === 0) throw new LogError('proof', 'inclusion proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(c, r);
      if (fn % 2 === 0) while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0 || !equalBytes(r, root)) throw new LogError('proof', 'inclusion proof does not verify');
}

// tlog-tiles coordinates.

/** Tile index N as a path: 1234067 -> 'x001/x234/067'. */
export function encodeIndex(n) {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new LogError('invalid', 'bad tile index');
  let digits = String(n);
  digits = '0'.repeat((3 - (digits.length % 3)) % 3) + digits;
  const groups = digits.match(/.../g);
  return [...groups.slice(0, -1).map((g) => `x${g}`), groups.at(-1)].join('/');
}

const widthSuffix = (width) => (width === TILE_WIDTH ? '' : `.p/${width}`);
export const tilePath = (level, index, width = TILE_WIDTH) => `tile/${level}/${encodeIndex(index)}${widthSuffix(width)}`;
export const bundlePath = (index, width = TILE_WIDTH) => `tile/entries/${encodeIndex(index)}${widthSuffix(width)}`;

/** Hashes at `level` of a tree of `size`. */
const countAt = (size, level) => Math.floor(size / TILE_WIDTH ** level);

/**
 * Every hash tile a checkpoint of `size` implies, as {level, index, width}: the full tiles,
 * then the partial tile of each level whose width ⌊size / 256^level⌋ mod 256 is not 0.
 */
export function tileWidths(size) {
  const tiles = [];
  for (let level = 0; countAt(size, level) > 0; level += 1) {
    const count = countAt(size, level);
    const full = Math.floor(count / TILE_WIDTH);
    for (let index = 0; index < full; index += 1) tiles.push({ level, index, width: TILE_WIDTH });
    if (count % TILE_WIDTH) tiles.push({ level, index: full, width: count % TILE_WIDTH });
  }
  return tiles;
}

/** The entry bundles of `size`: the same coordinates as its level-0 tiles. */
export const bundleWidths = (size) => tileWidths(size).filter((t) => t.level === 0);

// Entry bundles and the entry encoding v1 (docs/protocol.md; petition/tlog/entries.py).

/** uint16 big-endian length ‖ entry, repeated. Views into `data`, no copy. */
export function unbundle(data) {
  const out = [];
  let offset = 0;
  while (offset < data.length) {
    if (offset + 2 > data.length) throw new LogError('tiles', 'truncated bundle');
    const length = (data[offset] << 8) | data[offset + 1];
    if (offset + 2 + length > data.length) throw new LogError('tiles', 'truncated bundle');
    out.push(data.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return out;
}

export const KIND_SIGNATURE = 1;
export const KIND_WITHDRAWAL = 2;
export const KIND_SUMMARY = 3;
export const LEVEL_NAMES = { 1: 'work_email', 2: 'in_person', 3: 'flyer' };
const HEADER = 19; // version, kind, petition id (16), level
const SUMMARY_SIZE = 4 + 8 * 5 + 4;

/** The fields of an entry, or null for anything the encoding v1 would not produce. */
export function decodeEntry(entry) {
  if (entry.length < HEADER || entry[0] !== 1 || !(entry[18] in LEVEL_NAMES)) return null;
  const base = { kind: entry[1], petitionId: entry.subarray(2, 18), level: LEVEL_NAMES[entry[18]] };
  const rest = entry.subarray(HEADER);
  if (base.kind === KIND_WITHDRAWAL && rest.length === 32) return { ...base, nullifier: rest };
  if (base.kind === KIND_SUMMARY && rest.length === SUMMARY_SIZE) return base;
  if (base.kind === KIND_SIGNATURE && rest.length >= 68) {
    const msgLength = (rest[64] << 8) | rest[65];
    const sigAt = 66 + msgLength;
    if (sigAt + 2 <= rest.length && rest.length === sigAt + 2 + ((rest[sigAt] << 8) | rest[sigAt + 1])) {
      return {
        ...base, keyId: rest.subarray(0, 32), nullifier: rest.subarray(32, 64),
        msg: rest.subarray(66, sigAt), sig: rest.subarray(sigAt + 2),
      };
    }
  }
  return null;
}

// Signed notes, verifier keys, checkpoints, cosignatures.

function checkKeyName(name) {
  if (!name || /[\s+]/u.test(name) || CONTROL.test(name)) throw new LogError('invalid', 'bad key name');
}

/** First 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ public key). */
export async function keyIdFor(name, type, publicKey) {
  return (await sha256(concatBytes(encoder.encode(`${name}\n`), Uint8Array.of(type), publicKey))).subarray(0, 4);
}

/**
 * `<name>+<8 hex key id>+<base64(type ‖ 32-byte key)>`, Ed25519 (0x01) or cosignature/v1
 * (0x04); the key id is recomputed and must match.
 */
export async function parseVkey(vkey) {
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first < 0 || second < 0) throw new LogError('invalid', 'a vkey has three parts');
  const [name, hexId, encoded] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(hexId)) throw new LogError('invalid', 'bad key id');
  const raw = b64Decode(encoded);
  if (raw.length !== 33 || ![TYPE_ED25519, TYPE_COSIGNATURE].includes(raw[0])) throw new LogError('invalid', 'not an Ed25519 key');
  const keyId = await keyIdFor(name, raw[0], raw.subarray(1));
  if (toHex(keyId) !== hexId) throw new LogError('invalid', 'the key id does not match');
  return { name, type: raw[0], keyId, keyIdHex: hexId, publicKey: raw.subarray(1), vkey };
}

function checkText(text) {
  if (!text.endsWith('\n') || CONTROL.test(text)) throw new LogError('invalid', 'bad note text');
}

/** The text and the signature lines of a note; nothing verified yet. */
export function splitNote(note) {
  if (typeof note !== 'string' || !note.endsWith('\n')) throw new LogError('invalid', 'a note ends in a newline');
  const cut = note.lastIndexOf('\n\n');
  if (cut < 0) throw new LogError('invalid', 'no blank line before the signatures');
  const text = note.slice(0, cut + 1);
  checkText(text);
  const lines = note.slice(cut + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new LogError('invalid', 'too many signatures');
  const signatures = lines.map((line) => {
    const match = line.startsWith(SIGNATURE_PREFIX) && /^(\S+) (\S+)$/u.exec(line.slice(SIGNATURE_PREFIX.length));
    if (!match) throw new LogError('invalid', 'a malformed signature line');
    const raw = b64Decode(match[2]);
    if (raw.length < 5) throw new LogError('invalid', 'a short signature');
    return { name: match[1], keyId: raw.subarray(0, 4), payload: raw.subarray(4), line: `${line}\n` };
  });
  return { text, signatures };
}

/** tlog-checkpoint: origin, size, base64 root; no extension lines (Countersign writes none). */
export function parseCheckpoint(text) {
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '') throw new LogError('invalid', 'a checkpoint has three lines');
  const [origin, sizeText, rootText] = lines;
  checkKeyName(origin);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new LogError('invalid', 'bad size');
  const root = b64Decode(rootText);
  if (root.length !== HASH_SIZE) throw new LogError('invalid', 'the root is not 32 bytes');
  return { origin, size: Number(sizeText), root };
}

async function ed25519Verify(publicKey, signature, message) {
  try {
    const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
  } catch {
    return false; // a malformed key or signature verifies nothing
  }
}

export const cosignatureMessage = (text, time) => encoder.encode(`cosignature/v1\ntime ${time}\n${text}`);

/** The cosignature's time (seconds) if its payload (after the key id) verifies, else null. */
export async function verifyCosignature(publicKey, text, payload) {
  if (payload.length !== 8 + 64) return null;
  const time = new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0);
  if (time >= 2n ** 63n) return null;
  return (await ed25519Verify(publicKey, payload.subarray(8), cosignatureMessage(text, time))) ? time : null;
}

const signedBy = (signatures, key) => signatures.find((s) => s.name === key.name && equalBytes(s.keyId, key.keyId));

/**
 * A note's text and signature lines if `vkey` (an Ed25519 key) signed it; LogError('bad_checkpoint')
 * if its signature is missing, malformed or wrong.
 */
export async function verifyNote(note, vkey) {
  const log = await parseVkey(vkey);
  if (log.type !== TYPE_ED25519) throw new LogError('invalid', 'the log key is not an Ed25519 key');
  let parsed;
  try { parsed = splitNote(note); } catch { throw new LogError('bad_checkpoint', 'malformed note'); }
  const own = signedBy(parsed.signatures, log);
  if (!own || own.payload.length !== 64 || !(await ed25519Verify(log.publicKey, own.payload, encoder.encode(parsed.text)))) {
    throw new LogError('bad_checkpoint', 'the log signature does not verify');
  }
  return { ...parsed, log };
}

/**
 * Verify a checkpoint note against the log's vkey (the one printed on the page, never one
 * fetched with the note) and the witnesses' vkeys. Returns {text, checkpoint, keyIdHex,
 * witnesses: [{name, keyIdHex, state: 'verified'|'missing'|'failed', time}]}; throws
 * LogError('bad_checkpoint') if the log's own signature is missing or wrong, or the origin is
 * not the key's name. Signatures of other keys are ignored (signed-note).
 */
export async function verifyCheckpoint(note, logVkey, witnessVkeys = []) {
  const { text, signatures, log } = await verifyNote(note, logVkey);
  let checkpoint;
  try { checkpoint = parseCheckpoint(text); } catch { throw new LogError('bad_checkpoint', 'malformed checkpoint'); }
  if (checkpoint.origin !== log.name) throw new LogError('bad_checkpoint', 'another log');
  const witnesses = [];
  for (const vkey of witnessVkeys) {
    const witness = await parseVkey(vkey);
    if (witness.type !== TYPE_COSIGNATURE) throw new LogError('invalid', 'a witness key is not a cosignature key');
    const line = signedBy(signatures, witness);
    const time = line ? await verifyCosignature(witness.publicKey, text, line.payload) : null;
    witnesses.push({
      name: witness.name, keyIdHex: witness.keyIdHex, time,
      state: !line ? 'missing' : time === null ? 'failed' : 'verified',
    });
  }
  return { text, checkpoint, keyIdHex: log.keyIdHex, witnesses };
}

// Downloading the whole tree, and proofs computed from its tiles.

/** Hashes of a tree of `size` from its downloaded tiles (Map 'level/index' → bytes). */
export class TileReader {
  constructor(size, tiles) { this.size = size; this.tiles = tiles; }

  hashes(level, index) {
    const data = this.tiles.get(`${level}/${index}`);
    if (!data) throw new LogError('tiles', `tile ${level}/${index} missing`);
    return data;
  }

  /** MTH(D[start:end]): whole tiles' hashes where the range is a tile-aligned power of two. */
  async subtree(start, end) {
    const n = end - start;
    if (n <= 0 || end > this.size) throw new LogError('proof', 'range outside the tree');
    const height = Math.log2(n);
    if (Number.isInteger(height) && start % n === 0) {
      const level = Math.floor(height / TILE_HEIGHT);
      const rest = height % TILE_HEIGHT;
      const first = start / TILE_WIDTH ** level;
      const data = this.hashes(level, Math.floor(first / TILE_WIDTH));
      const offset = first % TILE_WIDTH;
      const hashes = [];
      for (let i = offset; i < offset + 2 ** rest; i += 1) {
        if ((i + 1) * HASH_SIZE > data.length) throw new LogError('tiles', 'a tile is too short');
        hashes.push(data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
      }
      return rootFromHashes(hashes);
    }
    const k = split(n);
    return nodeHash(await this.subtree(start, start + k), await this.subtree(start + k, end));
  }
}

/**
 * Download every hash tile and every entry bundle of a tree of `size` (all of them, even
 * after a match: what the page reads must not depend on what it looks for). `fetchBytes(path)`
 * returns a Uint8Array for a path under the log prefix; `onBundle(firstIndex, entries)` sees
 * each bundle's entries once (they are not kept: a million entries are ~600 MB, the tiles
 * 32 MB); `onProgress(done, total)` after each request. Returns the hash tiles (Map
 * 'level/index' → bytes); LogError('tiles') for a tile of the wrong length or a bundle with
 * the wrong number of entries, LogError('too_large') past maxEntries.
 */
export async function downloadTree(size, { fetchBytes, onBundle = () => {}, onProgress = () => {}, maxEntries = MAX_ENTRIES, parallel = 4 }) {
  if (!Number.isSafeInteger(size) || size < 0) throw new LogError('invalid', 'bad size');
  if (size > maxEntries) throw new LogError('too_large');
  const jobs = [
    ...tileWidths(size).map((t) => ({ ...t, bundle: false, path: tilePath(t.level, t.index, t.width) })),
    ...bundleWidths(size).map((t) => ({ ...t, bundle: true, path: bundlePath(t.index, t.width) })),
  ];
  const tiles = new Map();
  let next = 0;
  let done = 0;
  async function worker() {
    // Each worker takes the next job; the loop ends with the list (bounded by maxEntries).
    while (next < jobs.length) {
      const job = jobs[next];
      next += 1;
      const data = await fetchBytes(job.path);
      if (job.bundle) {
        const found = unbundle(data);
        if (found.length !== job.width) throw new LogError('tiles', `bundle ${job.index} has ${found.length} entries`);
        onBundle(job.index * TILE_WIDTH, found);
      } else {
        if (data.length !== job.width * HASH_SIZE) throw new LogError('tiles', `tile ${job.path} has the wrong length`);
        tiles.set(`${job.level}/${job.index}`, data);
      }
      done += 1;
      onProgress(done, jobs.length);
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return tiles;
}

/**
 * Collects, from bundles seen in any order, the entries of one receipt (by petition and
 * nullifier); `result()` gives {signature: {index, entry, fields}|null, withdrawal: …|null},
 * the first signature entry and the first withdrawal entry after it.
 */
export class ReceiptFinder {
  constructor({ petitionId, nullifier }) {
    this.petitionId = petitionId;
    this.nullifier = nullifier;
    this.matches = [];
  }

  add(firstIndex, entries) {
    entries.forEach((entry, i) => {
      const fields = decodeEntry(entry);
      if (!fields?.nullifier || !equalBytes(fields.petitionId, this.petitionId) || !equalBytes(fields.nullifier, this.nullifier)) return;
      const copy = entry.slice(); // not a view: the bundle it came from can be freed
      this.matches.push({ index: firstIndex + i, entry: copy, fields: decodeEntry(copy) });
    });
  }

  result() {
    const ordered = [...this.matches].sort((a, b) => a.index - b.index);
    const signature = ordered.find((m) => m.fields.kind === KIND_SIGNATURE) ?? null;
    const withdrawal = signature && (ordered.find((m) => m.fields.kind === KIND_WITHDRAWAL && m.index > signature.index) ?? null);
    return { signature, withdrawal: withdrawal ?? null };
  }
}

/** The entries of a receipt in a list of entries (see ReceiptFinder). */
export function findReceiptEntries(entries, target) {
  const finder = new ReceiptFinder(target);
  finder.add(0, entries);
  return finder.result();
}

/**
 * Prove on this device that `entry` is at `index` of the signed tree: the root recomputed
 * from the tiles must be the checkpoint's, and the proof (siblings read from the tiles, not
 * sent by the server) must lead from the entry's leaf hash to that root. Returns the proof.
 */
export async function proveInclusion(reader, checkpoint, index, entry) {
  if (reader.size !== checkpoint.size) throw new LogError('proof', 'tiles of another size');
  if (!equalBytes(await reader.subtree(0, checkpoint.size), checkpoint.root)) {
    throw new LogError('tiles', 'the tiles do not hash to the signed root');
  }
  const leaf = await leafHash(entry);
  if (!equalBytes(await reader.subtree(index, index + 1), leaf)) throw new LogError('tiles', 'the bundle and the tile differ');
  const proof = await inclusionProof(index, checkpoint.size, (s, e) => reader.subtree(s, e));
  await verifyInclusion(index, checkpoint.size, leaf, proof, checkpoint.root);
  return proof;
}

// The offline proof file (docs/protocol.md, "Receipt with proof").

/** The `.tlog-proof` file: a receipt, the checkpoint note, and each entry with its proof. */
export function proofFile({ slug, receipt, note, size, signature, withdrawal = null }) {
  const part = ({ index, entry, proof }) => ({ index, entry: b64Encode(entry), proof: proof.map(b64Encode) });
  const file = {
    format: PROOF_FORMAT, version: 1, petition: slug, receipt, checkpoint: note, size,
    ...part(signature), ...(withdrawal && { withdrawal: part(withdrawal) }),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Is this text a `.tlog-proof` file (as opposed to a receipt)? Looks only at `format`. */
export function isProofFile(text) {
  try { return JSON.parse(text)?.format === PROOF_FORMAT; } catch { return false; }
}

function readPart(obj, size) {
  if (!obj || typeof obj !== 'object' || !Number.isSafeInteger(obj.index) || obj.index < 0 || obj.index >= size) {
    throw new LogError('invalid', 'bad index');
  }
  if (!Array.isArray(obj.proof) || obj.proof.length > 64 || typeof obj.entry !== 'string' || obj.entry.length > 100_000) {
    throw new LogError('invalid', 'bad proof');
  }
  return { index: obj.index, entry: b64Decode(obj.entry), proof: obj.proof.map((h) => b64Decode(String(h))) };
}

/**
 * Check a `.tlog-proof` file with no network: the log's signature (page's vkey), the
 * witnesses, and each entry's inclusion in the signed tree; the signature entry must be this
 * petition's and carry `nullifier` (of the receipt's token) and, for a full receipt, its
 * message and signature. Returns {state: 'published'|'withdrawn'|'mismatch', index, size,
 * verified (verifyCheckpoint's result), receipt}; LogError for a file that proves nothing.
 */
export async function checkProofFile(text, { logVkey, witnessVkeys = [], petitionId, slug, nullifierOf }) {
  let file;
  try { file = JSON.parse(text); } catch { throw new LogError('invalid', 'not JSON'); }
  if (file?.format !== PROOF_FORMAT || file.version !== 1 || file.petition !== slug || typeof file.checkpoint !== 'string') {
    throw new LogError('invalid', 'not a proof file for this petition');
  }
  const verified = await verifyCheckpoint(file.checkpoint, logVkey, witnessVkeys);
  const { checkpoint } = verified;
  if (file.size !== checkpoint.size) throw new LogError('invalid', 'size differs from the checkpoint');
  const receipt = file.receipt;
  if (!receipt || typeof receipt.token !== 'string') throw new LogError('invalid', 'no receipt');
  const nullifier = await nullifierOf(receipt.token);
  const signature = readPart(file, checkpoint.size);
  await verifyInclusion(signature.index, checkpoint.size, await leafHash(signature.entry), signature.proof, checkpoint.root);
  const fields = decodeEntry(signature.entry);
  if (!fields || fields.kind !== KIND_SIGNATURE || !equalBytes(fields.petitionId, petitionId) || !equalBytes(fields.nullifier, nullifier)) {
    throw new LogError('invalid', 'the entry is not this receipt\'s');
  }
  const result = { index: signature.index, size: checkpoint.size, verified, receipt };
  if (receipt.preparedMsg && receipt.sig && !(b64urlEq(fields.msg, receipt.preparedMsg) && b64urlEq(fields.sig, receipt.sig))) {
    return { ...result, state: 'mismatch' };
  }
  if (file.withdrawal) {
    const withdrawal = readPart(file.withdrawal, checkpoint.size);
    await verifyInclusion(withdrawal.index, checkpoint.size, await leafHash(withdrawal.entry), withdrawal.proof, checkpoint.root);
    const w = decodeEntry(withdrawal.entry);
    if (!w || w.kind !== KIND_WITHDRAWAL || withdrawal.index <= signature.index
        || !equalBytes(w.petitionId, petitionId) || !equalBytes(w.nullifier, nullifier)) {
      throw new LogError('invalid', 'the withdrawal is not this receipt\'s');
    }
    return { ...result, state: 'withdrawn' };
  }
  return { ...result, state: 'published' };
}

/** Bytes equal to a base64url text (receipt fields are base64url, log fields bytes). */
function b64urlEq(bytes, text) {
  return b64Encode(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') === text;
}
