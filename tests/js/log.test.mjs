// SPDX-License-Identifier: AGPL-3.0-or-later
// static/js/log.js: finding a receipt's entry in the paged public log, on the device.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { b64urlEncode, nullifier } from '../../static/js/blindrsa.js';
import { compareBytes, findInLog, receiptNullifier } from '../../static/js/log.js';

const token = (i) => b64urlEncode(new Uint8Array(32).fill(i));

async function logOf(tokens, { pageSize = 2, withdrawn = new Set() } = {}) {
  const rows = [];
  for (const t of tokens) {
    const n = await nullifier((await import('../../static/js/blindrsa.js')).b64urlDecode(t));
    rows.push({ bytes: n, entry: { nullifier: b64urlEncode(n), withdrawn: withdrawn.has(t) } });
  }
  rows.sort((a, b) => compareBytes(a.bytes, b.bytes));
  const pages = [];
  for (let i = 0; i < rows.length; i += pageSize) pages.push(rows.slice(i, i + pageSize).map((r) => r.entry));
  const requested = [];
  const fetchPage = async (url) => {
    requested.push(url);
    const index = Number(url.split('=')[1] ?? 0);
    return { entries: pages[index] ?? [], next: index + 1 < pages.length ? `log?page=${index + 1}` : null };
  };
  return { fetchPage, requested, pages };
}

test('compareBytes orders like the server', () => {
  assert.equal(compareBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3])), -1);
  assert.equal(compareBytes(new Uint8Array([200]), new Uint8Array([3, 0])), 1);
  assert.equal(compareBytes(new Uint8Array([7]), new Uint8Array([7])), 0);
});

test('finds a published and a withdrawn entry, and says absent otherwise', async () => {
  const tokens = [1, 2, 3, 4, 5, 6, 7].map(token);
  const log = await logOf(tokens, { withdrawn: new Set([tokens[2]]) });
  const found = await findInLog(tokens[5], { firstUrl: 'log', fetchPage: log.fetchPage });
  assert.equal(found.state, 'published');
  assert.equal(found.entry.nullifier, await receiptNullifier(tokens[5]));
  const gone = await findInLog(tokens[2], { firstUrl: 'log', fetchPage: log.fetchPage });
  assert.equal(gone.state, 'withdrawn');
  const absent = await findInLog(token(99), { firstUrl: 'log', fetchPage: log.fetchPage });
  assert.equal(absent.state, 'absent');
});

test('reads every page whatever the entry, so the pages read say nothing about it', async () => {
  const tokens = Array.from({ length: 20 }, (_, i) => token(i + 1));
  const log = await logOf(tokens, { pageSize: 2 });
  const first = log.pages[0][0].nullifier;
  const owner = [];
  for (const t of tokens) if ((await receiptNullifier(t)) === first) owner.push(t);
  assert.equal(owner.length, 1);
  const result = await findInLog(owner[0], { firstUrl: 'log', fetchPage: log.fetchPage });
  assert.equal(result.state, 'published');
  assert.equal(result.pages, log.pages.length);
  assert.equal(log.requested.length, log.pages.length);
  const bounded = await findInLog(token(99), { firstUrl: 'log', fetchPage: log.fetchPage, maxPages: 3 });
  assert.equal(bounded.pages, 3);
});
