// SPDX-License-Identifier: AGPL-3.0-or-later
// The signer's side of protocol v1 (docs/protocol.md): get an anonymous credential for a
// code or a work-email code, keep it on this device, sign now or later, withdraw with the
// receipt. Markup and every user-visible string: templates/petition/_signing.html.
//
// Privacy choices, each on purpose:
// - Requests go to this site only (mode 'same-origin'), never with cookies
//   (credentials 'omit'), and no URL ever carries a code, an address or a token.
// - The blinding inverse `inv` and the email address live in memory for one request only.
// - The finished credential is stored (localStorage), so the signer can sign later or from
//   another network: that is what breaks the timing link between issuance and signing.
// - A code scanned from paper arrives in the URL fragment (never sent to the server) and is
//   removed from the address bar and history at once.
// - The petition id and each level's key id are pinned on this device the first time they are
//   seen, and checked again right before anything is sent that uses them (issuance and
//   signing), as is the key-id prefix printed with a code (`&k=`): a server that served one
//   signer a key or petition id of their own could recognise that signer's signature later
//   (docs/protocol.md §6).
import {
  b64urlDecode, b64urlEncode, buildMessage, completeCredential, createCredentialRequest,
  importSpki, keyId as spkiKeyId, nullifier, verify,
} from './blindrsa.js';
import { findInLog } from './log.js';

export const ALG = 'RSABSSA-SHA384-PSS-Randomized';
const CODE_LEVELS = ['in_person', 'flyer'];
const LEVELS = ['work_email', ...CODE_LEVELS];
const PREFIX_LEN = 32;
// Inside a v1 message: "countersign-v1" || 0x00 (15 bytes), petition id (16), key id (32).
const MSG_PETITION_ID = [15, 31];
const MSG_KEY_ID = [31, 63];
const KEY_PREFIX = /^[A-Za-z0-9_-]{8}$/;
// Receipt fields and their byte lengths: prepared_msg is 32 + 95 bytes; signatures come
// from 2048- to 4096-bit keys.
const RECEIPT_FIELDS = { token: [32, 32], preparedMsg: [127, 127], keyId: [32, 32], sig: [256, 512] };

/** An error the page has a message for (`<template id="msg-CODE">`). */
export class SignError extends Error {
  constructor(code) { super(code); this.code = code; }
}

export const storageKey = (slug) => `countersign:v1:${slug}`;
export const pinsKey = (slug) => `countersign:v1:pins:${slug}`;

/** Same rounding as the percent_of template filter: any signature shows (at least 2 %). */
export function percentOf(count, goal) {
  if (!(goal > 0) || !(count > 0)) return 0;
  return Math.max(2, Math.min(100, Math.round((100 * count) / goal)));
}

/** The page's own wording for `n` (data-one / data-other, `{n}` replaced). */
export function pluralText(el, n, lang) {
  const form = new Intl.PluralRules(lang).select(n) === 'one' ? 'one' : 'other';
  return (el.dataset[form] ?? '').replace('{n}', new Intl.NumberFormat(lang).format(n));
}

/**
 * `#code=K7Q2M-9XW4H` (optionally `&level=flyer`, `&k=<key-id prefix>`) → {code, level,
 * keyPrefix} or null. The prefix is the first 8 base64url characters of the key id the
 * code was printed for.
 */
export function parseFragment(hash) {
  const params = new URLSearchParams(String(hash ?? '').replace(/^#/, ''));
  const code = (params.get('code') ?? '').trim();
  if (!/^[0-9A-Za-z][0-9A-Za-z -]{2,38}[0-9A-Za-z]$/.test(code)) return null;
  const level = params.get('level');
  const k = params.get('k');
  return {
    code,
    level: CODE_LEVELS.includes(level) ? level : null,
    keyPrefix: KEY_PREFIX.test(k ?? '') ? k : null,
  };
}

/**
 * Check GET …/keys before using it: the algorithm, every key id = SHA-256(spki) of an
 * acceptable key (e = 65537, at least 2048 bits), the petition id and key ids against what
 * this device pinned before (`pins`), and the key of `level` against the prefix printed
 * with the code. Returns the pins to keep (first sight adds to them); throws SignError
 * key_unsupported, petition_changed, key_changed or key_not_printed.
 */
export async function checkKeys(doc, { pins = null, level = null, keyPrefix = null } = {}) {
  const unsupported = () => new SignError('key_unsupported');
  if (!doc || doc.alg !== ALG || !Array.isArray(doc.keys)) throw unsupported();
  let petitionId;
  try { petitionId = b64urlDecode(doc.petition_id); } catch { throw unsupported(); }
  if (petitionId.length !== 16) throw unsupported();
  const seen = {};
  for (const key of doc.keys) {
    if (!LEVELS.includes(key?.level) || key.level in seen) throw unsupported();
    let spki;
    try { spki = importSpki(key.spki).spki; } catch { throw unsupported(); }
    if (b64urlEncode(await spkiKeyId(spki)) !== key.key_id) throw unsupported();
    seen[key.level] = key.key_id;
  }
  if (pins) {
    if (pins.petitionId !== doc.petition_id) throw new SignError('petition_changed');
    for (const [pinnedLevel, keyId] of Object.entries(pins.keys)) {
      if (seen[pinnedLevel] !== keyId) throw new SignError('key_changed');
    }
  }
  if (keyPrefix && level && !(seen[level] ?? '').startsWith(keyPrefix)) {
    throw new SignError('key_not_printed');
  }
  return { petitionId: doc.petition_id, keys: { ...seen, ...(pins?.keys ?? {}) } };
}

/** Pins as stored, or null when there are none (or they are damaged). */
export function parsePins(text) {
  try {
    const pins = JSON.parse(text);
    const ok = pins && typeof pins.petitionId === 'string' && pins.keys && typeof pins.keys === 'object' &&
      Object.entries(pins.keys).every(([l, k]) => LEVELS.includes(l) && typeof k === 'string');
    return ok ? { petitionId: pins.petitionId, keys: { ...pins.keys } } : null;
  } catch {
    return null;
  }
}

/**
 * Before redeeming: the petition id and key id inside the credential's message must be the
 * pinned ones (and its key id the one it claims).
 */
export function checkRedemption(rec, pins) {
  let msg;
  try { msg = b64urlDecode(rec.preparedMsg).subarray(PREFIX_LEN); } catch { throw new SignError('receipt_invalid'); }
  if (b64urlEncode(msg.subarray(...MSG_PETITION_ID)) !== pins.petitionId) throw new SignError('petition_changed');
  const keyId = b64urlEncode(msg.subarray(...MSG_KEY_ID));
  if (keyId !== rec.keyId || pins.keys[rec.level] !== keyId) throw new SignError('key_changed');
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

// ---------------------------------------------------------------- the page

function init(root) {
  const steps = root.querySelector('#sign-steps');
  if (!steps) return; // not open for signing: the template says so instead
  const slug = root.dataset.slug;
  const levels = (root.dataset.levels ?? '').split(',').filter((l) => LEVELS.includes(l));
  const apiBase = root.dataset.api || `/api/v1/petitions/${encodeURIComponent(slug)}`;
  const $ = (id) => root.querySelector(`#${id}`);
  const text = (id) => root.querySelector(`#msg-${id}`)?.content.textContent.trim();
  const ALIASES = { bad_signature: 'credential_rejected', wrong_key: 'credential_rejected', petition_mismatch: 'credential_rejected' };
  const PANELS = { receipt: ['credential', 'later', 'done', 'used', 'withdrawn'], 'withdraw-box': ['done', 'used', 'token'] };
  const state = { level: null, email: null, rec: null, busy: false, keyPrefix: null, pins: null };

  const say = (id) => { $('sign-status').textContent = id ? text(id) ?? '' : ''; };
  const fail = (code) => { $('sign-error').textContent = text(ALIASES[code] ?? code) ?? text('error'); };

  function show(name, focus = true) {
    // A new step starts clean: an error from an earlier step must not stay on screen.
    $('sign-error').textContent = '';
    for (const el of steps.querySelectorAll('[data-step]')) el.hidden = el.dataset.step !== name;
    for (const [id, names] of Object.entries(PANELS)) {
      $(id).hidden = !names.includes(name) || (id === 'receipt' && !state.rec?.preparedMsg);
    }
    for (const b of steps.querySelectorAll('[data-confirm]')) toggleConfirm(b, false);
    // Focus the new step's heading so keyboard and screen-reader users land on it. Not on
    // page load: there the signer starts reading at the top, as on any page.
    // Work-email credentials: nudge to finish later, elsewhere (the mailbox's reader saw it).
    $('credential-work-email').hidden = name !== 'credential' || state.rec?.level !== 'work_email';
    if (focus) $(`step-${name}`).querySelector('h3').focus();
  }

  function toggleConfirm(button, open) {
    button.setAttribute('aria-expanded', String(open));
    $(button.dataset.confirm).hidden = !open;
  }

  // ----- talking to the API
  async function request(path, body, url) {
    let res;
    try {
      res = await fetch(url ?? (path ? `${apiBase}/${path}` : apiBase), {
        method: body ? 'POST' : 'GET',
        mode: 'same-origin',
        credentials: 'omit', // no cookie, ever: the blind signature is the authorization
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new SignError('network');
    }
    const data = await res.json().catch(() => null);
    if (!res.ok) throw new SignError(data?.error?.code ?? (res.status === 429 ? 'rate_limited' : 'error'));
    return data ?? {};
  }
  const get = (path) => request(path);
  const post = (path, body) => request(path, body);

  /** Run one user action: one at a time, errors to the alert region. */
  async function run(scope, action) {
    if (state.busy) return;
    state.busy = true;
    // aria-disabled rather than disabled: the focused button keeps the focus.
    const buttons = [...scope.querySelectorAll('button')];
    buttons.forEach((b) => b.setAttribute('aria-disabled', 'true'));
    $('sign-error').textContent = '';
    say('working');
    try {
      say(await action());
    } catch (e) {
      say('');
      if (!(e instanceof SignError)) console.error(e);
      fail(e instanceof SignError ? e.code : 'error');
    } finally {
      buttons.forEach((b) => b.removeAttribute('aria-disabled'));
      state.busy = false;
    }
  }

  function onSubmit(id, action) {
    const form = $(id);
    form.addEventListener('submit', (event) => {
      event.preventDefault(); // never a native submission
      run(form, action);
    });
  }

  // ----- keys, checked against the pins and the printed prefix before every use
  function loadPins() {
    try {
      return parsePins(localStorage.getItem(pinsKey(slug))) ?? state.pins;
    } catch {
      return state.pins; // storage blocked: pins last as long as the page
    }
  }

  async function trustedKeys({ level = null } = {}) {
    const doc = await get('keys');
    const keyPrefix = CODE_LEVELS.includes(level) ? state.keyPrefix : null;
    state.pins = await checkKeys(doc, { pins: loadPins(), level, keyPrefix });
    try { localStorage.setItem(pinsKey(slug), JSON.stringify(state.pins)); } catch { /* kept in memory */ }
    return doc;
  }

  // ----- the credential
  async function issue(level, proof) {
    const keys = await trustedKeys({ level });
    const key = keys.keys?.find((k) => k.level === level);
    if (!key) throw new SignError('no_key');
    // Token, prepared message and inv are made here; only the blinded message leaves.
    const req = await createCredentialRequest({ spki: key.spki, petitionId: keys.petition_id });
    const answer = await post('credentials', { level, ...proof, blinded_msg: b64urlEncode(req.blindedMsg) });
    let sig;
    try {
      // Finalize verifies: a server that signed something else gets caught here.
      sig = await completeCredential({ spki: key.spki, preparedMsg: req.preparedMsg, blindSig: answer.blind_sig, inv: req.inv });
    } catch {
      throw new SignError('bad_credential');
    }
    return {
      token: b64urlEncode(req.token), preparedMsg: b64urlEncode(req.preparedMsg),
      sig: b64urlEncode(sig), keyId: b64urlEncode(req.keyId), level, used: false, withdrawn: false,
    };
  }

  function persist() {
    try {
      localStorage.setItem(storageKey(slug), JSON.stringify(storedRecord(state.rec)));
    } catch {
      fail('storage_failed'); // the download link still works: the signer must use it
    }
  }

  let downloadUrl = null;
  function keep(rec) {
    state.rec = rec;
    $('receipt-token').value = rec.token;
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = rec.preparedMsg
      ? URL.createObjectURL(new Blob([receiptFile(rec, slug)], { type: 'application/json' }))
      : null;
    const link = $('receipt-download');
    if (downloadUrl) link.href = downloadUrl; else link.removeAttribute('href');
    if (rec.preparedMsg) persist();
  }

  function load() {
    try {
      const stored = localStorage.getItem(storageKey(slug));
      return stored ? parseReceipt(stored, { slug, levels }) : null;
    } catch {
      return null; // storage blocked, or a damaged entry: start afresh
    }
  }

  // ----- signing, withdrawing, the count
  async function sign() {
    const rec = state.rec;
    // Right before redemption: the keys again, and what the credential's message names.
    await trustedKeys();
    checkRedemption(rec, state.pins);
    const body = { key_id: rec.keyId, msg: rec.preparedMsg, sig: rec.sig };
    const name = $('display-name').value.trim();
    if ($('show-name').checked && name) body.display_name = name; // unticked: never sent
    const comment = $('comment').value.trim();
    if (comment) body.comment = comment;
    let answer;
    try {
      answer = await post('signatures', body);
    } catch (e) {
      if (e.code === 'already_signed') { keep({ ...rec, used: true }); show('used'); }
      throw e;
    }
    keep({ ...rec, used: true });
    $('display-name').value = $('comment').value = '';
    $('done-public').textContent = publicWhen(answer.publication);
    show('done');
    refreshCount();
    return 'signed';
  }

  async function withdraw() {
    try {
      await post('withdrawals', { token: state.rec.token });
    } catch (e) {
      throw e.code === 'not_found' ? new SignError('withdraw_not_found') : e;
    }
    keep({ ...state.rec, ...(state.rec.preparedMsg && { used: true, withdrawn: true }) });
    show('withdrawn');
    refreshCount();
    return 'withdrawn';
  }

  /** When the signature becomes public, from the 201 answer (docs/protocol.md §5.8). */
  function publicWhen(publication) {
    if (!publication || publication.immediate) return text('public-now') ?? '';
    const lang = document.documentElement.lang || undefined;
    const day = new Date(`${publication.public_by}T00:00:00Z`);
    const date = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(day);
    const when = (text('public-batch') ?? '').replaceAll('{k}', String(publication.min_batch)).replace('{date}', date);
    // Below the safe floor the receipt says so instead of implying a promise (review M5).
    return publication.unsafe ? `${when} ${text('public-unsafe') ?? ''}`.trim() : when;
  }

  async function refreshCount() {
    try {
      const { counts } = await get('');
      const lang = document.documentElement.lang || undefined;
      const number = new Intl.NumberFormat(lang);
      for (const el of document.querySelectorAll('[data-count]')) {
        el.textContent = number.format(counts.total);
      }
      // Every number and word on the page at once: per method, singular or plural, and
      // what is left to the goal.
      for (const el of document.querySelectorAll('[data-count-level]')) {
        el.textContent = number.format(counts[el.dataset.countLevel] ?? 0);
      }
      for (const el of document.querySelectorAll('[data-count-noun]')) {
        el.textContent = pluralText(el, counts.total, lang);
      }
      const goal = Number(root.dataset.goal);
      for (const el of document.querySelectorAll('[data-remaining]')) {
        const left = goal - counts.total;
        el.textContent = left > 0 ? pluralText(el, left, lang) : el.dataset.done;
      }
      const pct = percentOf(counts.total, goal);
      for (const bar of document.querySelectorAll('progress[data-progress], progress.progress')) {
        bar.value = pct;
        bar.textContent = new Intl.NumberFormat(lang, { style: 'percent' }).format(pct / 100);
      }
    } catch {
      // Only cosmetic: the signature itself went through.
    }
  }

  /**
   * Where a receipt's signature stands, read from the public log on this device (the
   * receipt is never sent: static/js/log.js). 'absent' also covers a signature that waits
   * for its publication batch; signing then answers "already used".
   */
  async function logState(token) {
    try {
      const found = await findInLog(token, { firstUrl: `${apiBase}/log`, fetchPage: (url) => request(null, null, url) });
      return found.state;
    } catch {
      return 'unknown';
    }
  }

  async function importReceipt() {
    const rec = parseReceipt($('import-text').value, { slug, levels });
    if (rec.preparedMsg) {
      await checkReceipt(rec, await trustedKeys());
      checkRedemption(rec, state.pins);
    }
    // Whether it was used or withdrawn is not the file's to say: the public log says it.
    const stateInLog = await logState(rec.token);
    if (rec.preparedMsg) {
      Object.assign(rec, { used: stateInLog === 'published' || stateInLog === 'withdrawn', withdrawn: stateInLog === 'withdrawn' });
    }
    keep(rec);
    $('import-text').value = '';
    if (stateInLog === 'withdrawn') show('withdrawn');
    else if (stateInLog === 'published') show('done');
    else show(rec.preparedMsg ? 'credential' : 'token');
    return 'imported';
  }

  // ----- choosing a method, codes from a scanned link
  function chooseMethod(level, focus = true) {
    state.level = level;
    if (level === 'work_email') return show('email', focus);
    const help = $('code-help');
    help.textContent = help.dataset[level] ?? '';
    show('code', focus);
  }

  function applyCode({ code, level, keyPrefix }, focus) {
    state.keyPrefix = keyPrefix;
    const codeLevels = CODE_LEVELS.filter((l) => levels.includes(l));
    if (!codeLevels.length) return show('method', focus);
    $('code-input').value = code;
    const chosen = codeLevels.includes(level) ? level : codeLevels.length === 1 ? codeLevels[0] : null;
    if (chosen) return chooseMethod(chosen, focus);
    show('method', focus);
    say('code_found');
  }

  /** Read a `#code=` fragment, then drop it from the address bar and the history entry. */
  function takeFragment() {
    if (!new URLSearchParams(location.hash.slice(1)).has('code')) return null;
    const found = parseFragment(location.hash);
    history.replaceState(history.state, '', location.pathname + location.search);
    return found;
  }

  // ----- wiring
  for (const b of steps.querySelectorAll('[data-method]')) b.addEventListener('click', () => chooseMethod(b.dataset.method));
  for (const b of steps.querySelectorAll('[data-back]')) b.addEventListener('click', () => show('method'));
  for (const b of steps.querySelectorAll('[data-confirm]')) {
    b.addEventListener('click', () => toggleConfirm(b, b.getAttribute('aria-expanded') !== 'true'));
  }
  for (const b of steps.querySelectorAll('[data-cancel]')) {
    b.addEventListener('click', () => {
      const opener = steps.querySelector(`[data-confirm="${b.closest('[data-confirm-box]').id}"]`);
      toggleConfirm(opener, false);
      opener.focus();
    });
  }
  $('method-import').addEventListener('click', () => show('import'));
  $('email-again').addEventListener('click', () => show('email'));
  $('email-change').addEventListener('click', () => {
    show('email');
    $('email-input').select();
  });
  $('sign-later').addEventListener('click', () => show('later'));
  $('later-sign').addEventListener('click', () => show('credential'));
  $('show-name').addEventListener('change', (e) => { $('display-name-field').hidden = !e.target.checked; });

  onSubmit('code-form', async () => {
    keep(await issue(state.level, { code: $('code-input').value.trim() }));
    $('code-input').value = '';
    show('credential');
  });
  onSubmit('email-form', async () => {
    state.email = $('email-input').value.trim();
    await post('email-codes', { email: state.email });
    $('email-sent-to').textContent = state.email; // on this page only, never stored
    show('email-code');
    return 'email_sent';
  });
  onSubmit('email-code-form', async () => {
    keep(await issue('work_email', { email: state.email, code: $('email-code-input').value.trim() }));
    state.email = null; // done with it: forget the address
    $('email-input').value = $('email-code-input').value = '';
    show('credential');
  });
  onSubmit('sign-form', sign);
  onSubmit('import-form', importReceipt);
  $('withdraw-confirm').addEventListener('click', () => run($('withdraw-box'), withdraw));
  $('forget-confirm').addEventListener('click', () => {
    try { localStorage.removeItem(storageKey(slug)); } catch { /* nothing stored */ }
    keep({ token: '' });
    state.rec = null;
    show('method');
    say('forgotten');
  });
  $('receipt-copy').addEventListener('click', async () => {
    const input = $('receipt-token');
    try {
      await navigator.clipboard.writeText(input.value);
      say('copied');
    } catch {
      input.focus();
      input.select(); // clipboard refused: leave it selected for a manual copy
    }
  });
  $('import-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (file && file.size < 16384) $('import-text').value = await file.text();
    else if (file) fail('receipt_invalid');
  });
  window.addEventListener('hashchange', () => {
    const found = takeFragment();
    if (found && !state.rec) applyCode(found, true);
  });

  // ----- start
  const found = takeFragment(); // first of all, so the code leaves the address bar at once
  $('sign-nojs').hidden = true;
  steps.hidden = false;
  if (!globalThis.crypto?.subtle) { // WebCrypto exists only on https (and localhost)
    for (const el of steps.children) el.hidden = !el.matches('#sign-error');
    fail('crypto_unavailable');
    return;
  }
  // Pin the petition id and keys at first sight, and say so at once if they changed.
  state.keyPrefix = found?.keyPrefix ?? null;
  trustedKeys({ level: found?.level }).catch((e) => {
    if (e instanceof SignError && e.code !== 'network') fail(e.code);
  });
  const stored = load();
  if (stored) {
    // One credential per person: a stored one wins over a newly scanned code.
    keep(stored);
    show(stored.withdrawn ? 'withdrawn' : stored.used ? 'done' : 'credential', false);
  } else if (found) {
    applyCode(found, false);
    // From a code card or tear-off tab: straight to the sign step, no scrolling needed.
    root.scrollIntoView({ block: 'start' });
  } else {
    show('method', false);
  }
}

if (globalThis.document) {
  const root = document.getElementById('signing');
  if (root) init(root);
}
