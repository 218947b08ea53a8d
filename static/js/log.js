// SPDX-License-Identifier: AGPL-3.0-or-later
// Find a receipt's entry in the public log, on this device (docs/protocol.md, the log).
//
// The receipt never leaves the device: the nullifier is computed here from the receipt's
// token, and the whole log is read page by page from its start, in nullifier order, exactly
// as anyone auditing the count reads it. Asking the server for one entry would tie the
// asker's address to that signature; so would stopping early, because the last page read
// would then tell the server in which 1,000-entry range the entry lies. Reading every page
// tells it only that this address audited the log.
import { b64urlDecode, b64urlEncode, nullifier } from './blindrsa.js';

export const MAX_PAGES = 2000; // a bound for the loop: 2,000,000 entries

/** -1, 0 or 1: byte order, which is the log's order (base64url text is not). */
export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** The log's key for a receipt token (base64url text) → base64url nullifier. */
export async function receiptNullifier(token) {
  return b64urlEncode(await nullifier(b64urlDecode(token)));
}

/**
 * Look for `token`'s entry. `fetchPage(url)` returns the parsed JSON of one log page
 * ({entries, next}); `firstUrl` is the log's address. Returns {state, entry, pages, entries}
 * with state 'published', 'withdrawn' or 'absent'.
 */
export async function findInLog(token, { firstUrl, fetchPage, maxPages = MAX_PAGES }) {
  const wanted = await receiptNullifier(token);
  let url = firstUrl;
  let pages = 0;
  let seen = 0;
  let found = null;
  // Every page, even after a match: see the comment at the top.
  while (url && pages < maxPages) {
    const page = await fetchPage(url);
    pages += 1;
    const entries = page.entries ?? [];
    seen += entries.length;
    found = found ?? entries.find((e) => e.nullifier === wanted) ?? null;
    url = page.next;
  }
  if (found) return { state: found.withdrawn ? 'withdrawn' : 'published', entry: found, pages, entries: seen };
  return { state: 'absent', entry: null, pages, entries: seen };
}
