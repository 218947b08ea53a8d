// SPDX-License-Identifier: AGPL-3.0-or-later
// The audit page's receipt check (templates/petition/audit.html): paste or load a receipt
// and see whether its entry is in the public log. Everything happens on this device: the
// receipt is never sent, the log pages are downloaded as any auditor downloads them
// (static/js/log.js explains what the server can and cannot learn).
import { findInLog } from './log.js';
import { parseReceipt } from './receipt.js';

function init(root) {
  const $ = (id) => root.querySelector(`#${id}`);
  const text = (id) => root.querySelector(`#audit-msg-${id}`)?.content.textContent.trim() ?? '';
  const slug = root.dataset.slug;
  const levels = (root.dataset.levels ?? '').split(',');
  const result = $('audit-result');
  let busy = false;

  async function fetchPage(url) {
    let res;
    try {
      res = await fetch(url, {
        mode: 'same-origin', credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
      });
    } catch {
      throw new Error('network');
    }
    if (res.status === 429) throw new Error('rate_limited');
    if (!res.ok) throw new Error('error');
    return res.json();
  }

  function show(kind, replacements = {}) {
    let message = text(kind);
    for (const [key, value] of Object.entries(replacements)) message = message.replace(`{${key}}`, value);
    result.textContent = message;
    result.dataset.state = kind;
  }

  async function check() {
    let rec;
    try {
      rec = parseReceipt($('audit-receipt').value, { slug, levels });
    } catch {
      return show('invalid');
    }
    show('working');
    let found;
    try {
      found = await findInLog(rec.token, { firstUrl: root.dataset.log, fetchPage });
    } catch (e) {
      return show(e.message === 'rate_limited' ? 'rate_limited' : 'error');
    }
    const pages = String(found.pages);
    if (found.state === 'absent') return show('absent', { pages });
    // A full receipt must match the entry byte for byte, not only by its nullifier.
    if (rec.preparedMsg && (found.entry.msg !== rec.preparedMsg || found.entry.sig !== rec.sig)) {
      return show('mismatch', { pages });
    }
    return show(found.state, { pages });
  }

  $('audit-form').addEventListener('submit', async (event) => {
    event.preventDefault(); // never a native submission: the receipt stays here
    if (busy) return;
    busy = true;
    try { await check(); } finally { busy = false; }
  });
  $('audit-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (file && file.size < 16384) $('audit-receipt').value = await file.text();
    else if (file) show('invalid');
  });
  $('audit-nojs').hidden = true;
  $('audit-form').hidden = false;
}

if (globalThis.document) {
  const root = document.getElementById('audit');
  if (root) init(root);
}
