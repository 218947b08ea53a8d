// SPDX-License-Identifier: AGPL-3.0-or-later
// The audit page (templates/petition/audit.html): verify the transparency log's latest
// checkpoint and its witnesses' cosignatures against the keys printed on the page, and
// check a receipt against the signed log. Everything happens on this device: the receipt is
// never sent; the page downloads every tile and entry bundle of the signed tree (never one
// entry's proof, so the server cannot learn which entry is looked for) and proves the
// entry's inclusion from them (static/js/tlog.js). A receipt saved with its proof
// (`.tlog-proof`) is checked with no request at all.
//
// The old JSON log pages (static/js/log.js) are not used here: the backfill migration put
// every signature published before the log existed into it, so every receipt can be
// proved against a signed checkpoint.
import { b64urlDecode, nullifier } from './blindrsa.js';
import { parseReceipt, storageKey } from './receipt.js';
import {
  LogError, ReceiptFinder, TileReader, checkProofFile, downloadTree, fromHex, isProofFile, proofFile,
  proveInclusion, verifyCheckpoint,
} from './tlog.js';

const WARNINGS = new Set(['bad_checkpoint', 'tiles', 'proof']);
const nullifierOf = async (token) => nullifier(b64urlDecode(token));

function fill(template, replacements) {
  let message = template?.content.textContent.trim() ?? '';
  for (const [key, value] of Object.entries(replacements)) message = message.replace(`{${key}}`, value);
  return message;
}

/**
 * The message's pieces with each value in a <bdi>: an address, key or name keeps its own
 * direction inside a right-to-left sentence ("127.0.0.1:8000/log" would otherwise show as
 * "log/127.0.0.1:8000" on an Arabic page). The text itself is what `fill` gives.
 */
function isolated(template, replacements) {
  const message = template?.content.textContent.trim() ?? '';
  return message.split(/(\{\w+\})/).map((part) => {
    const key = /^\{(\w+)\}$/.exec(part)?.[1];
    if (key === undefined || !Object.hasOwn(replacements, key)) return part;
    const value = document.createElement('bdi');
    value.textContent = replacements[key];
    return value;
  });
}

async function request(url, { text = false, fresh = false } = {}) {
  let res;
  try {
    res = await fetch(url, {
      mode: 'same-origin', credentials: 'omit', referrerPolicy: 'no-referrer', cache: fresh ? 'no-store' : 'default',
    });
  } catch {
    throw new LogError('error', 'network');
  }
  if (res.status === 429) throw new LogError('rate_limited');
  if (res.status === 404 && text) return null; // no checkpoint: an empty log
  if (!res.ok) throw new LogError('error', `HTTP ${res.status}`);
  return text ? res.text() : new Uint8Array(await res.arrayBuffer());
}

function init(page) {
  const $ = (id) => page.querySelector(`#${id}`);
  const tlog = $('tlog');
  const audit = $('audit');
  const prefix = tlog.dataset.tlog;
  const slug = audit.dataset.slug;
  const levels = (audit.dataset.levels ?? '').split(',');
  const petitionId = fromHex(audit.dataset.petitionId);
  // The keys printed on this page, never keys fetched with the checkpoint.
  const logVkey = $('log-vkey').dataset.logVkey;
  const witnessItems = [...tlog.querySelectorAll('[data-witness-vkey]')];
  const witnessVkeys = witnessItems.map((li) => li.dataset.witnessVkey);
  const status = $('tlog-status');
  const result = $('audit-result');
  const save = $('audit-save');
  const progressBox = $('audit-progress-box');
  const progress = $('audit-progress');
  let busy = false;
  let saveUrl = null;

  function say(element, template, kind, replacements = {}) {
    element.replaceChildren(...isolated(template, replacements));
    element.dataset.state = kind;
    element.classList.toggle('audit-warning', WARNINGS.has(kind));
  }
  const show = (kind, replacements) => say(result, $(`audit-msg-${kind}`), kind, replacements);

  function showWitnesses(witnesses) {
    const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC',
    });
    witnesses.forEach((w, i) => {
      const span = witnessItems[i].querySelector('[data-witness-state]');
      const time = w.time === null ? '' : `${timeFormat.format(new Date(Number(w.time) * 1000))} UTC`;
      say(span, $(`tlog-msg-witness-${w.state}`), w.state === 'failed' ? 'bad_checkpoint' : w.state, { time });
    });
  }

  /** Fetch and verify the latest checkpoint, and show it; null for an empty log. */
  async function loadCheckpoint() {
    say(status, $('tlog-msg-checking'), 'checking');
    let note;
    let verified;
    try {
      note = await request(`${prefix}checkpoint`, { text: true, fresh: true });
      if (note === null) {
        say(status, $('tlog-msg-empty'), 'empty');
        return null;
      }
      verified = await verifyCheckpoint(note, logVkey, witnessVkeys);
    } catch (e) {
      const kind = e.code === 'bad_checkpoint' || e.code === 'invalid' ? 'bad_checkpoint' : 'error';
      say(status, $(`tlog-msg-${kind}`), kind);
      throw new LogError(kind);
    }
    const { checkpoint, keyIdHex, witnesses } = verified;
    say(status, $('tlog-msg-verified'), 'verified', {
      size: checkpoint.size.toLocaleString(document.documentElement.lang || undefined),
      origin: checkpoint.origin, key: keyIdHex,
    });
    showWitnesses(witnesses);
    return { note, checkpoint };
  }

  function offerSave(text) {
    if (saveUrl) URL.revokeObjectURL(saveUrl);
    saveUrl = text ? URL.createObjectURL(new Blob([text], { type: 'application/json' })) : null;
    if (saveUrl) save.href = saveUrl; else save.removeAttribute('href');
    save.hidden = !saveUrl;
    $('audit-save-help').hidden = !saveUrl;
  }

  /** The receipt this device keeps from signing here (sign.js), or null. */
  function storedReceipt() {
    try {
      const text = localStorage.getItem(storageKey(slug));
      return text ? parseReceipt(text, { slug, levels }) : null;
    } catch {
      return null; // storage blocked, or a damaged entry
    }
  }
  const stored = storedReceipt();

  async function check() {
    offerSave(null);
    const typed = $('audit-receipt').value.trim();
    // An empty field is not a wrong receipt: say what to put there (review S6).
    if (!typed) return show('empty');
    let rec;
    try {
      // The stored receipt's code in the field stands for the whole stored receipt, so the
      // check compares the entry byte for byte, as with a loaded file.
      rec = stored && typed === stored.token ? stored : parseReceipt(typed, { slug, levels });
    } catch {
      return show('invalid');
    }
    show('working');
    try {
      const signed = await loadCheckpoint();
      if (signed === null) return show('absent', { size: '0' });
      const { note, checkpoint } = signed;
      progress.max = 1;
      progress.value = 0;
      progressBox.hidden = false;
      const finder = new ReceiptFinder({ petitionId, nullifier: await nullifierOf(rec.token) });
      const tiles = await downloadTree(checkpoint.size, {
        fetchBytes: (path) => request(`${prefix}${path}`),
        onBundle: (first, entries) => finder.add(first, entries),
        onProgress: (done, total) => { progress.max = total; progress.value = done; },
      });
      const found = finder.result();
      const size = String(checkpoint.size);
      if (!found.signature) return show('absent', { size });
      const reader = new TileReader(checkpoint.size, tiles);
      const prove = async (part) => part && { ...part, proof: await proveInclusion(reader, checkpoint, part.index, part.entry) };
      const signature = await prove(found.signature);
      const withdrawal = await prove(found.withdrawal);
      // A full receipt must match the entry byte for byte, not only by its nullifier.
      if (rec.preparedMsg) {
        const same = (bytes, text) => b64urlDecode(text).join() === bytes.join();
        if (!same(signature.fields.msg, rec.preparedMsg) || !same(signature.fields.sig, rec.sig)) return show('mismatch');
      }
      const receipt = rec.preparedMsg
        ? { level: rec.level, keyId: rec.keyId, token: rec.token, preparedMsg: rec.preparedMsg, sig: rec.sig }
        : { token: rec.token };
      offerSave(proofFile({ slug, receipt, note, size: checkpoint.size, signature, withdrawal }));
      return show(withdrawal ? 'withdrawn' : 'published', { index: String(signature.index), size });
    } catch (e) {
      return show(e instanceof LogError && $(`audit-msg-${e.code}`) ? e.code : 'error');
    } finally {
      progressBox.hidden = true;
    }
  }

  /** A `.tlog-proof` file: checked with what it holds and the keys on this page, no request. */
  async function checkFile(text) {
    offerSave(null);
    try {
      const found = await checkProofFile(text, { logVkey, witnessVkeys, petitionId, slug, nullifierOf });
      if (found.state === 'mismatch') return show('mismatch');
      const names = found.verified.witnesses.filter((w) => w.state === 'verified').map((w) => w.name);
      const witnesses = names.length ? names.join(', ') : fill($('audit-msg-no_witness'), {});
      return show(`file_${found.state}`, { index: String(found.index), size: String(found.size), witnesses });
    } catch (e) {
      return show(e instanceof LogError && WARNINGS.has(e.code) ? e.code : 'invalid');
    }
  }

  async function once(work) {
    if (busy) return;
    busy = true;
    try { await work(); } finally { busy = false; }
  }

  $('audit-form').addEventListener('submit', (event) => {
    event.preventDefault(); // never a native submission: the receipt stays here
    once(check);
  });
  $('audit-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    if (file.size >= 262144) return show('invalid');
    const text = await file.text();
    if (isProofFile(text)) once(() => checkFile(text));
    else if (file.size < 16384) $('audit-receipt').value = text;
    else show('invalid');
  });
  $('audit-nojs').hidden = true;
  $('audit-form').hidden = false;
  if (stored && !$('audit-receipt').value) {
    $('audit-receipt').value = stored.token;
    $('audit-stored').hidden = false;
    // The note is about the stored receipt only: it goes once the field says something else.
    $('audit-receipt').addEventListener('input', (event) => {
      $('audit-stored').hidden = event.target.value.trim() !== stored.token;
    });
  }
  if (location.hash === '#check') {
    // One tap from the thank-you step: land on the check, with this device's receipt in it.
    // (The browser also moves its focus starting point there, as for any fragment.)
    $('check').scrollIntoView({ block: 'start' });
    if (stored) {
      once(check);
      return;
    }
  }
  loadCheckpoint().catch(() => {}); // the status line already says what went wrong
}

if (globalThis.document) {
  if (document.getElementById('audit') && document.getElementById('tlog')) init(document);
}
