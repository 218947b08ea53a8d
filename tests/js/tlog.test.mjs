// SPDX-License-Identifier: AGPL-3.0-or-later
// static/js/tlog.js against published vectors (RFC 6962 proofs from transparency-dev, the
// C2SP signed-note example, the entry encoding of tests/data/log-entry-vectors.json) and a
// checkpoint made by the server's Python code (tests/data/tlog-checkpoint-vectors.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import {
  EMPTY_ROOT, LogError, ReceiptFinder, TileReader, b64Decode, b64Encode, bundlePath, checkProofFile, decodeEntry,
  downloadTree, encodeIndex, findReceiptEntries, fromHex, inclusionProof, isProofFile, leafHash,
  parseCheckpoint, parseVkey, proofFile, proveInclusion, rootFromHashes, splitNote, tilePath,
  tileWidths, toHex, unbundle, verifyCheckpoint, verifyInclusion, verifyNote,
} from '../../static/js/tlog.js';

const HERE = new URL('.', import.meta.url).pathname;
const DATA = join(HERE, '..', 'data');
// As tests/petition/test_tlog_merkle.py: the shared copy, else one inside the repository.
let VECTORS = '/work/shared/data/merkle-vectors';
if (!existsSync(VECTORS)) VECTORS = join(DATA, 'merkle-vectors');
const CP = JSON.parse(readFileSync(join(DATA, 'tlog-checkpoint-vectors.json'), 'utf8'));
const ENTRIES = JSON.parse(readFileSync(join(DATA, 'log-entry-vectors.json'), 'utf8'));

const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE = 'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6Tf'
  + 'Xppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

function jsonFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? jsonFiles(path) : name.endsWith('.json') ? [path] : [];
  });
}

const b64s = (values) => (values ?? []).map((v) => Uint8Array.from(Buffer.from(v, 'base64')));
const enc = new TextEncoder();
const entryBytes = (i) => enc.encode(`entry ${i}`);

/** A tiny tile writer, straight from tlog-tiles: hash i of tile n at level l is
 * MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l]), computed from the leaves here. */
async function tilesOf(entries) {
  const leaves = await Promise.all(entries.map(leafHash));
  const tiles = new Map();
  const paths = new Map();
  for (const { level, index, width } of tileWidths(entries.length)) {
    const span = 256 ** level;
    const hashes = [];
    for (let i = 0; i < width; i += 1) {
      const start = (index * 256 + i) * span;
      hashes.push(await rootFromHashes(leaves.slice(start, start + span)));
    }
    const data = Uint8Array.from(Buffer.concat(hashes));
    tiles.set(`${level}/${index}`, data);
    paths.set(tilePath(level, index, width), data);
  }
  for (const { index, width } of tileWidths(entries.length).filter((t) => t.level === 0)) {
    const parts = entries.slice(index * 256, index * 256 + width).flatMap((e) => [Uint8Array.of(e.length >> 8, e.length & 255), e]);
    paths.set(bundlePath(index, width), Uint8Array.from(Buffer.concat(parts)));
  }
  return { tiles, paths, leaves };
}

test('every RFC 6962 inclusion vector is accepted or refused as it says', async () => {
  const files = jsonFiles(join(VECTORS, 'inclusion'));
  assert.ok(files.length > 50, `found only ${files.length} vectors`);
  for (const path of files) {
    const c = JSON.parse(readFileSync(path, 'utf8'));
    const run = verifyInclusion(c.leafIdx, c.treeSize, b64s([c.leafHash])[0], b64s(c.proof), b64s([c.root])[0]);
    if (c.wantErr) await assert.rejects(run, LogError, path);
    else await run;
  }
});

test('the entry vectors hash to their leaf hashes and roots, and decode', async () => {
  const entries = ENTRIES.entries.map((e) => fromHex(e.entry));
  for (const [i, e] of ENTRIES.entries.entries()) {
    assert.equal(toHex(await leafHash(entries[i])), e.leaf_hash);
    const fields = decodeEntry(entries[i]);
    assert.equal(fields.kind, { signature: 1, withdrawal: 2, summary: 3 }[e.kind]);
    assert.equal(fields.level, e.level);
    assert.equal(toHex(fields.petitionId), e.petition_id.replace(/-/g, ''));
    if (e.nullifier) assert.equal(toHex(fields.nullifier), e.nullifier);
    if (e.kind === 'signature') {
      assert.equal(toHex(fields.msg), e.prepared_msg);
      assert.equal(toHex(fields.sig), e.sig);
      assert.equal(toHex(fields.keyId), e.key_id);
    }
  }
  for (let n = 0; n <= entries.length; n += 1) {
    assert.equal(toHex(await rootFromHashes(await Promise.all(entries.slice(0, n).map(leafHash)))), ENTRIES.roots[n]);
  }
  assert.equal(toHex(EMPTY_ROOT), ENTRIES.roots[0]);
  // Anything encode would not produce is refused, not misread.
  const sig = entries[0];
  for (const bad of [sig.subarray(0, 18), sig.subarray(0, sig.length - 1), Uint8Array.from([...sig, 0]),
    Uint8Array.from([2, ...sig.subarray(1)]), Uint8Array.from([...sig.subarray(0, 18), 9, ...sig.subarray(19)])]) {
    assert.equal(decodeEntry(bad), null);
  }
});

test('the C2SP signed-note example verifies, and a changed byte does not', async () => {
  const key = await parseVkey(SPEC_VKEY);
  assert.equal(key.keyIdHex, '530d903a');
  const { text } = await verifyNote(SPEC_NOTE, SPEC_VKEY);
  assert.equal(text, 'This is an example message.\n');
  await assert.rejects(verifyNote(SPEC_NOTE.replace('example message', 'example massage'), SPEC_VKEY), { code: 'bad_checkpoint' });
  // A vkey whose id does not match its name and key is refused.
  await assert.rejects(parseVkey(SPEC_VKEY.replace('example.com/foo', 'example.com/bar')), LogError);
  await assert.rejects(parseVkey(SPEC_VKEY.replace('530d903a', '530D903A')), LogError);
  await assert.rejects(parseVkey('example.com/foo+530d903a+AekyeRrm56hA'), LogError);
});

test('the server\'s checkpoint verifies with its witness, and every tampering is caught', async () => {
  const verified = await verifyCheckpoint(CP.note, CP.log_vkey, [CP.witness_vkey, CP.other_witness_vkey]);
  assert.deepEqual(verified.checkpoint.size, CP.size);
  assert.equal(b64Encode(verified.checkpoint.root), CP.root);
  assert.equal(verified.keyIdHex, CP.log_vkey.split('+')[1]);
  assert.deepEqual(verified.witnesses.map((w) => [w.name, w.state, w.time]), [
    ['witness.example.net', 'verified', BigInt(CP.time)],
    ['other.example.net', 'missing', null],
  ]);
  const [body, sigs] = CP.note.split('\n\n');
  const [logLine, witnessLine] = sigs.split('\n');
  // Another size, a missing log signature, another log key's name.
  await assert.rejects(verifyCheckpoint(CP.note.replace('\n700\n', '\n701\n'), CP.log_vkey), { code: 'bad_checkpoint' });
  await assert.rejects(verifyCheckpoint(`${body}\n\n${witnessLine}\n`, CP.log_vkey), { code: 'bad_checkpoint' });
  await assert.rejects(verifyCheckpoint('garbage', CP.log_vkey), { code: 'bad_checkpoint' });
  // A cosignature whose time was changed no longer verifies; the log signature still does.
  const payload = b64Decode(witnessLine.split(' ')[2]);
  payload[11] ^= 1;
  const forged = `${body}\n\n${logLine}\n\u2014 witness.example.net ${b64Encode(payload)}\n`;
  const result = await verifyCheckpoint(forged, CP.log_vkey, [CP.witness_vkey]);
  assert.equal(result.witnesses[0].state, 'failed');
  assert.equal(splitNote(CP.note).signatures.length, 2);
});

test('checkpoint bodies are parsed strictly', () => {
  const root = CP.root;
  assert.equal(parseCheckpoint(`a.example/log\n0\n${root}\n`).size, 0);
  for (const bad of [`a.example/log\n07\n${root}\n`, `a.example/log\n7\n${root}`, `a b/log\n7\n${root}\n`,
    `a.example/log\n7\n${root}\next\n`, `a.example/log\n7\nAAAA\n`, `a.example/log\n-1\n${root}\n`]) {
    assert.throws(() => parseCheckpoint(bad), LogError, bad);
  }
});

test('tile paths and widths follow tlog-tiles, with its worked example', () => {
  assert.equal(encodeIndex(1234067), 'x001/x234/067');
  assert.equal(encodeIndex(0), '000');
  assert.equal(encodeIndex(1000), 'x001/000');
  assert.equal(tilePath(0, 5, 256), 'tile/0/005');
  assert.equal(tilePath(1, 1234067, 17), 'tile/1/x001/x234/067.p/17');
  assert.equal(bundlePath(3, 112), 'tile/entries/003.p/112');
  const tiles = tileWidths(70000);
  assert.equal(tiles.filter((t) => t.level === 0 && t.width === 256).length, 273);
  assert.deepEqual(tiles.filter((t) => t.width !== 256), [
    { level: 0, index: 273, width: 112 }, { level: 1, index: 1, width: 17 }, { level: 2, index: 0, width: 1 },
  ]);
  assert.deepEqual(tileWidths(0), []);
  assert.deepEqual(tileWidths(256), [{ level: 0, index: 0, width: 256 }, { level: 1, index: 0, width: 1 }]);
});

test('bundles unbundle, and a truncated one is refused', () => {
  const data = Uint8Array.of(0, 2, 7, 8, 0, 0, 0, 1, 9);
  assert.deepEqual(unbundle(data).map((e) => [...e]), [[7, 8], [], [9]]);
  assert.throws(() => unbundle(data.subarray(0, 8)), LogError);
  assert.throws(() => unbundle(Uint8Array.of(0)), LogError);
});

test('proofs computed from tiles equal the server\'s and verify against the signed root', async () => {
  const entries = Array.from({ length: CP.size }, (_, i) => entryBytes(i));
  const { tiles, paths } = await tilesOf(entries);
  const reader = new TileReader(CP.size, tiles);
  const { checkpoint } = await verifyCheckpoint(CP.note, CP.log_vkey);
  assert.equal(b64Encode(await reader.subtree(0, CP.size)), CP.root);
  for (const [index, expected] of Object.entries(CP.proofs)) {
    const proof = await proveInclusion(reader, checkpoint, Number(index), entries[index]);
    assert.deepEqual(proof.map(b64Encode), expected, `index ${index}`);
  }
  // Another entry at this position: its leaf hash is not the tile's.
  await assert.rejects(proveInclusion(reader, checkpoint, 3, entries[4]), { code: 'tiles' });
  // An edited tile: a sibling on the path breaks the proof, the entry's own leaf hash
  // differs from its bundle's entry, a higher tile no longer hashes to the signed root.
  const edit = async (key, byte, code) => {
    const edited = new Map(tiles);
    const tile = Uint8Array.from(tiles.get(key));
    tile[byte] ^= 1;
    edited.set(key, tile);
    await assert.rejects(proveInclusion(new TileReader(CP.size, edited), checkpoint, 0, entries[0]), { code }, key);
  };
  await edit('0/0', 32, 'proof');
  await edit('0/0', 0, 'tiles');
  await edit('1/0', 0, 'tiles');
  // downloadTree asks for exactly the tiles and bundles of the tree, once each.
  const asked = [];
  const progress = [];
  const seen = new Array(CP.size);
  const downloaded = await downloadTree(CP.size, {
    fetchBytes: async (path) => { asked.push(path); return paths.get(path); },
    onBundle: (first, found) => found.forEach((e, i) => { seen[first + i] = e; }),
    onProgress: (done, total) => progress.push([done, total]),
  });
  assert.deepEqual([...asked].sort(), [...paths.keys()].sort());
  assert.deepEqual(progress.at(-1), [paths.size, paths.size]);
  assert.equal(seen.filter(Boolean).length, CP.size);
  assert.deepEqual(seen.map((e) => Buffer.from(e).toString()), entries.map((e) => Buffer.from(e).toString()));
  assert.deepEqual([...downloaded.keys()].sort(), [...tiles.keys()].sort());
  await assert.rejects(downloadTree(CP.size, { fetchBytes: async (p) => paths.get(p), maxEntries: 699 }), { code: 'too_large' });
  await assert.rejects(downloadTree(CP.size, {
    fetchBytes: async (p) => (p === 'tile/entries/001' ? paths.get(p).subarray(0, 100) : paths.get(p)),
  }), { code: 'tiles' });
  await assert.rejects(downloadTree(CP.size, {
    fetchBytes: async (p) => (p === 'tile/1/000.p/2' ? new Uint8Array(32) : paths.get(p)),
  }), { code: 'tiles' });
});

test('inclusionProof matches RFC 6962 PATH for every index of small trees', async () => {
  for (let size = 1; size <= 9; size += 1) {
    const leaves = await Promise.all(Array.from({ length: size }, (_, i) => leafHash(entryBytes(i))));
    const root = await rootFromHashes(leaves);
    for (let i = 0; i < size; i += 1) {
      const proof = await inclusionProof(i, size, (s, e) => rootFromHashes(leaves.slice(s, e)));
      await verifyInclusion(i, size, leaves[i], proof, root);
      if (size > 1) await assert.rejects(verifyInclusion(i, size, leaves[(i + 1) % size], proof, root), LogError);
    }
  }
});

test('a receipt is found with its withdrawal, and a .tlog-proof file checks offline', async () => {
  const [sig1, sig2, , withdrawal] = ENTRIES.entries;
  const entries = [fromHex(sig1.entry), fromHex(ENTRIES.entries[4].entry), fromHex(sig2.entry), fromHex(withdrawal.entry)];
  const petitionId = fromHex(sig1.petition_id.replace(/-/g, ''));
  const withdrawnNullifier = fromHex(withdrawal.nullifier);
  const found = findReceiptEntries(entries, { petitionId, nullifier: withdrawnNullifier });
  assert.equal(found.signature?.index, entries.findIndex((e) => toHex(decodeEntry(e).nullifier ?? []) === withdrawal.nullifier));
  assert.equal(found.withdrawal?.index, 3);
  assert.deepEqual(findReceiptEntries(entries, { petitionId: new Uint8Array(16), nullifier: withdrawnNullifier }), { signature: null, withdrawal: null });
  assert.equal(findReceiptEntries(entries, { petitionId, nullifier: fromHex(sig1.nullifier) }).withdrawal, null);
  // Bundles arrive in any order; a withdrawal before the signature is not its withdrawal.
  const finder = new ReceiptFinder({ petitionId, nullifier: withdrawnNullifier });
  finder.add(2, entries.slice(2));
  finder.add(0, entries.slice(0, 2));
  assert.deepEqual([finder.result().signature.index, finder.result().withdrawal.index], [found.signature.index, 3]);
  const early = new ReceiptFinder({ petitionId, nullifier: withdrawnNullifier });
  early.add(0, [entries[3], entries[found.signature.index]]);
  assert.deepEqual([early.result().signature.index, early.result().withdrawal], [1, null]);

  // A proof file for the server-made checkpoint: the entries there are 'entry <i>', so the
  // receipt side is checked with a nullifier function that maps the token to that entry.
  const logEntries = Array.from({ length: CP.size }, (_, i) => entryBytes(i));
  const { tiles } = await tilesOf(logEntries);
  const reader = new TileReader(CP.size, tiles);
  const { checkpoint } = await verifyCheckpoint(CP.note, CP.log_vkey);
  const index = 600;
  const proof = await proveInclusion(reader, checkpoint, index, logEntries[index]);
  const text = proofFile({ slug: 's', receipt: { token: 't' }, note: CP.note, size: CP.size, signature: { index, entry: logEntries[index], proof } });
  assert.ok(isProofFile(text));
  assert.ok(!isProofFile('{"format":"countersign-receipt"}'));
  // The entries of this vector are not signature entries, so the file proves inclusion but
  // is refused as not this receipt's: the check goes as far as the entry's fields.
  await assert.rejects(checkProofFile(text, { logVkey: CP.log_vkey, petitionId, slug: 's', nullifierOf: async () => withdrawnNullifier }), /not this receipt/);
  const parsed = JSON.parse(text);
  assert.equal(parsed.index, index);
  assert.equal(parsed.proof.length, proof.length);
  parsed.proof[0] = parsed.proof[1];
  await assert.rejects(checkProofFile(JSON.stringify(parsed), { logVkey: CP.log_vkey, petitionId, slug: 's', nullifierOf: async () => withdrawnNullifier }), { code: 'proof' });
  await assert.rejects(checkProofFile(text, { logVkey: CP.log_vkey, petitionId, slug: 'other', nullifierOf: async () => withdrawnNullifier }), { code: 'invalid' });
});

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** A log of the entry vectors, signed here by a fresh key: {note, vkey, reader, checkpoint}. */
async function signedLogOf(entries) {
  const keys = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const pk = new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey));
  const name = 'test.example/log';
  const id = new Uint8Array(await crypto.subtle.digest('SHA-256', Buffer.concat([enc.encode(`${name}\n`), Uint8Array.of(1), pk])));
  const vkey = `${name}+${toHex(id.subarray(0, 4))}+${b64Encode(Uint8Array.of(1, ...pk))}`;
  const { tiles } = await tilesOf(entries);
  const root = await rootFromHashes(await Promise.all(entries.map(leafHash)));
  const text = `${name}\n${entries.length}\n${b64Encode(root)}\n`;
  const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, keys.privateKey, enc.encode(text)));
  const note = `${text}\n\u2014 ${name} ${b64Encode(Uint8Array.of(...id.subarray(0, 4), ...sig))}\n`;
  const { checkpoint } = await verifyCheckpoint(note, vkey);
  return { note, vkey, reader: new TileReader(entries.length, tiles), checkpoint };
}

test('a .tlog-proof file of a published, a withdrawn and a forged receipt', async () => {
  const entries = ENTRIES.entries.map((e) => fromHex(e.entry));
  const log = await signedLogOf(entries);
  const petitionId = fromHex(ENTRIES.entries[0].petition_id.replace(/-/g, ''));
  const options = { logVkey: log.vkey, petitionId, slug: 's', nullifierOf: async (token) => fromHex(token) };
  async function fileFor(vector) {
    const nullifier = fromHex(vector.nullifier);
    const found = findReceiptEntries(entries, { petitionId, nullifier });
    const part = async (f) => f && { ...f, proof: await proveInclusion(log.reader, log.checkpoint, f.index, f.entry) };
    const receipt = { token: vector.nullifier, preparedMsg: b64url(fromHex(vector.prepared_msg)), sig: b64url(fromHex(vector.sig)) };
    return proofFile({ slug: 's', receipt, note: log.note, size: entries.length, signature: await part(found.signature), withdrawal: await part(found.withdrawal) });
  }
  const withdrawnNullifier = ENTRIES.entries[3].nullifier;
  const withdrawn = ENTRIES.entries.find((e) => e.kind === 'signature' && e.nullifier === withdrawnNullifier);
  const published = ENTRIES.entries.find((e) => e.kind === 'signature' && !ENTRIES.entries.some((w) => w.kind === 'withdrawal' && w.nullifier === e.nullifier));
  const ok = await checkProofFile(await fileFor(published), options);
  assert.equal(ok.state, 'published');
  assert.equal(ok.size, entries.length);
  assert.equal((await checkProofFile(await fileFor(withdrawn), options)).state, 'withdrawn');
  // A receipt whose signature differs from the logged entry's: mismatch.
  const forged = JSON.parse(await fileFor(published));
  forged.receipt.sig = forged.receipt.sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
  assert.equal((await checkProofFile(JSON.stringify(forged), options)).state, 'mismatch');
  // A withdrawal dropped from the file reads as published: the file proves what it holds, and
  // the page says the check is as of the file's checkpoint.
  const dropped = JSON.parse(await fileFor(withdrawn));
  delete dropped.withdrawal;
  assert.equal((await checkProofFile(JSON.stringify(dropped), options)).state, 'published');
  // Another log's key, an edited checkpoint, an entry swapped for another: refused.
  const other = await signedLogOf(entries);
  await assert.rejects(checkProofFile(await fileFor(published), { ...options, logVkey: other.vkey }), { code: 'bad_checkpoint' });
  const swapped = JSON.parse(await fileFor(published));
  swapped.entry = b64Encode(entries.find((e) => b64Encode(e) !== swapped.entry));
  await assert.rejects(checkProofFile(JSON.stringify(swapped), options), LogError);
});
