// SPDX-License-Identifier: AGPL-3.0-or-later
// The signer's side of protocol v1 (docs/protocol.md): get an anonymous credential for a
// code or a work-email code, keep it on this device, sign now or later, withdraw with the
// receipt. Markup and every user-visible string: templates/petition/_signing.html.
//
// Privacy choices, each on purpose:
// - Requests go to this site only (mode 'same-origin'), never with cookies
//   (credentials 'omit'), and no URL ever carries a code, an address or a token.
// - The blinding inverse `inv` lives in memory for one request only.
// - The work address is kept on this device (localStorage) only while its code works, so
//   the "enter the code" step survives a reload or a trip to the mail app (review S11);
//   it is dropped once the credential is issued, and ignored and removed after the code's
//   lifetime. It never goes anywhere but the two work-email requests.
// - The finished credential is stored (localStorage), so the signer can sign later or from
//   another network: that is what breaks the timing link between issuance and signing.
// - A code scanned from paper arrives in the URL fragment (never sent to the server) and is
//   removed from the address bar and history at once.
// - The petition id and each level's key id are pinned on this device the first time they are
//   seen, and checked again right before anything is sent that uses them (issuance and
//   signing), as is the key-id prefix printed with a code (`&k=`): a server that served one
//   signer a key or petition id of their own could recognise that signer's signature later
//   (docs/protocol.md §6).
import { b64urlDecode, b64urlEncode, completeCredential, createCredentialRequest, importSpki, keyId as spkiKeyId } from './blindrsa.js';
import { findInLog } from './log.js';
import {
  CODE_LEVELS, LEVELS, PREFIX_LEN, SignError, checkReceipt, parseReceipt, receiptFile, storageKey, storedRecord,
} from './receipt.js';

export { SignError, storageKey };
export const ALG = 'RSABSSA-SHA384-PSS-Randomized';
// Inside a v1 message: "countersign-v1" || 0x00 (15 bytes), petition id (16), key id (32).
const MSG_PETITION_ID = [15, 31];
const MSG_KEY_ID = [31, 63];
const KEY_PREFIX = /^[A-Za-z0-9_-]{8}$/;

export const pinsKey = (slug) => `countersign:v1:pins:${slug}`;
export const pendingEmailKey = (slug) => `countersign:v1:email-code:${slug}`;

/** What localStorage holds while a mailed code works: the address and until when (ms). */
export function pendingEmailRecord(email, now, minutes) {
  return { email: String(email), until: now + minutes * 60_000 };
}

/**
 * The stored pending address, or null when there is none, it is damaged, or its code can no
 * longer work (`until` passed, or further ahead than a code lives: a clock set back).
 */
export function readPendingEmail(text, now, minutes) {
  let rec;
  try { rec = JSON.parse(text); } catch { return null; }
  if (!rec || typeof rec.email !== 'string' || !rec.email.includes('@') || rec.email.length > 254) return null;
  if (!Number.isFinite(rec.until) || rec.until <= now || rec.until > now + minutes * 60_000) return null;
  return { email: rec.email, until: rec.until };
}

// A 503 means the server changed nothing and asks for the same request again (a database
// restart, Redis down: docs/operations.md, "When a part fails"). Sent again at most this many
// times, after 1, 2, 4 and 8 s or sooner if Retry-After says so: about 15 s in all, then the
// signer sees the server's message and the credential stays on this device.
export const RETRY_TRIES = 4;

/**
 * Seconds to wait before sending again after an answer with `status` and Retry-After
 * `retryAfter` (the header's text or null) on try `attempt` (0 for the first answer), or null
 * when the answer stands: anything but 503, or the tries are used up.
 */
export function retryDelay(status, retryAfter, attempt) {
  if (status !== 503 || !(attempt >= 0) || attempt >= RETRY_TRIES) return null;
  const backoff = 2 ** attempt;
  const asked = /^\d+$/.test(String(retryAfter ?? '').trim()) ? Number(retryAfter) : backoff;
  return Math.min(asked, backoff);
}

/** Same rounding as the percent_of template filter: any signature shows (at least 2 %). */
export function percentOf(count, goal) {
  if (!(goal > 0) || !(count > 0)) return 0;
  return Math.max(2, Math.min(100, Math.round((100 * count) / goal)));
}

/**
 * The page's own wording for `n`, `{n}` replaced: one data attribute per plural category of
 * the page's language (data-zero, -one, -two, -few, -many, -other; Arabic has all six),
 * data-other when the page gives none for the category.
 */
export function pluralText(el, n, lang) {
  const form = new Intl.PluralRules(lang).select(n);
  return (el.dataset[form] ?? el.dataset.other ?? '').replace('{n}', new Intl.NumberFormat(lang).format(n));
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

// ---------------------------------------------------------------- the page
//
// One SigningPage per `#signing` root. Its methods are the page's parts in the order a signer
// meets them: showing a step, talking to the API, the keys, the credential, signing and
// withdrawing, importing a receipt, choosing a method. FORM_STEPS and BUTTON_STEPS below say
// which form or button runs which of them; `start` picks the first step.

// Server error codes that the page explains with one shared message.
const ALIASES = { bad_signature: 'credential_rejected', wrong_key: 'credential_rejected', petition_mismatch: 'credential_rejected' };
// Panels outside the steps, and the steps they are shown with.
const PANELS = { receipt: ['credential', 'later', 'done', 'used', 'withdrawn'], 'withdraw-box': ['done', 'used', 'token'] };

class SigningPage {
  constructor(root, steps) {
    this.root = root;
    this.steps = steps;
    this.slug = root.dataset.slug;
    this.levels = (root.dataset.levels ?? '').split(',').filter((l) => LEVELS.includes(l));
    this.apiBase = root.dataset.api || `/api/v1/petitions/${encodeURIComponent(this.slug)}`;
    this.state = { level: null, email: null, rec: null, busy: false, keyPrefix: null, pins: null };
    this.codeMinutes = Number(root.dataset.emailCodeMinutes) || 15;
    this.downloadUrl = null;
  }

  $(id) { return this.root.querySelector(`#${id}`); }
  text(id) { return this.root.querySelector(`#msg-${id}`)?.content.textContent.trim(); }
  say(id) { this.$('sign-status').textContent = id ? this.text(id) ?? '' : ''; }
  fail(code) { this.$('sign-error').textContent = this.text(ALIASES[code] ?? code) ?? this.text('error'); }

  // ----- steps on screen
  show(name, focus = true) {
    // A new step starts clean: an error from an earlier step must not stay on screen.
    this.$('sign-error').textContent = '';
    for (const el of this.steps.querySelectorAll('[data-step]')) el.hidden = el.dataset.step !== name;
    for (const [id, names] of Object.entries(PANELS)) {
      this.$(id).hidden = !names.includes(name) || (id === 'receipt' && !this.state.rec?.preparedMsg);
    }
    for (const b of this.steps.querySelectorAll('[data-confirm]')) this.toggleConfirm(b, false);
    // Work-email credentials: nudge to finish later, elsewhere (the mailbox's reader saw it).
    this.$('credential-work-email').hidden = name !== 'credential' || this.state.rec?.level !== 'work_email';
    // Focus the new step's heading so keyboard and screen-reader users land on it. Not on
    // page load: there the signer starts reading at the top, as on any page.
    if (focus) this.$(`step-${name}`).querySelector('h3').focus();
  }

  toggleConfirm(button, open) {
    button.setAttribute('aria-expanded', String(open));
    this.$(button.dataset.confirm).hidden = !open;
  }

  // ----- talking to the API
  async request(path, body, url) {
    let res;
    for (let attempt = 0; ; attempt += 1) {
      try {
        res = await fetch(url ?? (path ? `${this.apiBase}/${path}` : this.apiBase), {
          method: body ? 'POST' : 'GET',
          mode: 'same-origin',
          credentials: 'omit', // no cookie, ever: the blind signature is the authorization
          cache: 'no-store',
          referrerPolicy: 'no-referrer',
          // The page's language, so that a mailed code is written in it (config/i18n.py).
          headers: { 'Accept-Language': globalThis.document?.documentElement.lang || 'en', ...(body ? { 'Content-Type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
      } catch {
        // Not sent again: a POST that vanished may have been done (only a 503 says it was not).
        throw new SignError('network');
      }
      const wait = retryDelay(res.status, res.headers.get('Retry-After'), attempt);
      if (wait === null) break;
      await new Promise((resolve) => { setTimeout(resolve, wait * 1000); });
    }
    const data = await res.json().catch(() => null);
    if (!res.ok) throw new SignError(data?.error?.code ?? (res.status === 429 ? 'rate_limited' : 'error'));
    return data ?? {};
  }

  get(path) { return this.request(path); }
  post(path, body) { return this.request(path, body); }

  /** Run one user action: one at a time, errors to the alert region. */
  async run(scope, action) {
    if (this.state.busy) return;
    this.state.busy = true;
    // aria-disabled rather than disabled: the focused button keeps the focus.
    const buttons = [...scope.querySelectorAll('button')];
    buttons.forEach((b) => b.setAttribute('aria-disabled', 'true'));
    this.$('sign-error').textContent = '';
    this.say('working');
    try {
      this.say(await action());
    } catch (e) {
      this.say('');
      if (!(e instanceof SignError)) console.error(e);
      this.fail(e instanceof SignError ? e.code : 'error');
    } finally {
      buttons.forEach((b) => b.removeAttribute('aria-disabled'));
      this.state.busy = false;
    }
  }

  // ----- keys, checked against the pins and the printed prefix before every use
  loadPins() {
    try {
      return parsePins(localStorage.getItem(pinsKey(this.slug))) ?? this.state.pins;
    } catch {
      return this.state.pins; // storage blocked: pins last as long as the page
    }
  }

  async trustedKeys({ level = null } = {}) {
    const doc = await this.get('keys');
    const keyPrefix = CODE_LEVELS.includes(level) ? this.state.keyPrefix : null;
    this.state.pins = await checkKeys(doc, { pins: this.loadPins(), level, keyPrefix });
    try { localStorage.setItem(pinsKey(this.slug), JSON.stringify(this.state.pins)); } catch { /* kept in memory */ }
    return doc;
  }

  // ----- the credential
  async issue(level, proof) {
    const keys = await this.trustedKeys({ level });
    const key = keys.keys?.find((k) => k.level === level);
    if (!key) throw new SignError('no_key');
    // Token, prepared message and inv are made here; only the blinded message leaves.
    const req = await createCredentialRequest({ spki: key.spki, petitionId: keys.petition_id });
    const answer = await this.post('credentials', { level, ...proof, blinded_msg: b64urlEncode(req.blindedMsg) });
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

  /** The code form: a credential for an in-person or flyer code. */
  async redeemCode() {
    this.keep(await this.issue(this.state.level, { code: this.$('code-input').value.trim() }));
    this.$('code-input').value = '';
    this.show('credential');
  }

  /** The email form: a code mailed to a work address, kept on this device while it works. */
  async sendEmailCode() {
    const email = this.$('email-input').value.trim();
    const again = this.loadPendingEmail()?.email === email;
    await this.post('email-codes', { email });
    this.toEmailCode(email, { sent: true });
    // Asking again does not replace the earlier code: both work until they expire.
    return again ? 'email_sent_again' : 'email_sent';
  }

  /** "I already have a code": straight to the code field for the address typed above. */
  haveEmailCode() {
    const input = this.$('email-input');
    if (!input.value.trim() || !input.checkValidity()) {
      input.focus();
      this.fail('email_needed');
      return;
    }
    this.toEmailCode(input.value.trim(), { sent: false });
  }

  /** The code step for `email`; `fresh`: a mail just went out, so its code's clock starts now. */
  toEmailCode(email, { sent, fresh = sent, focus = true }) {
    this.state.level = 'work_email';
    this.state.email = email;
    this.$('email-input').value = email;
    this.$('email-sent-to').textContent = email;
    this.$('email-to-sent').hidden = !sent;
    this.$('email-to-have').hidden = sent;
    const stored = this.loadPendingEmail();
    // A new mail restarts the clock; a reload or "I already have a code" keeps the deadline.
    const until = fresh || stored?.email !== email ? null : stored.until;
    try {
      const rec = pendingEmailRecord(email, Date.now(), this.codeMinutes);
      if (until) rec.until = until;
      localStorage.setItem(pendingEmailKey(this.slug), JSON.stringify(rec));
    } catch { /* storage blocked: the step lasts as long as the page */ }
    this.show('email-code', focus);
  }

  loadPendingEmail() {
    try {
      const key = pendingEmailKey(this.slug);
      const text = localStorage.getItem(key);
      if (text === null) return null;
      const rec = readPendingEmail(text, Date.now(), this.codeMinutes);
      if (!rec) localStorage.removeItem(key); // expired or damaged: nothing to keep
      return rec;
    } catch {
      return null;
    }
  }

  forgetPendingEmail() {
    try { localStorage.removeItem(pendingEmailKey(this.slug)); } catch { /* nothing stored */ }
  }

  /** The mailed code's form: the work-email credential, then the address is forgotten. */
  async redeemEmailCode() {
    this.keep(await this.issue('work_email', { email: this.state.email, code: this.$('email-code-input').value.trim() }));
    this.state.email = null; // done with it: forget the address, here and on the device
    this.forgetPendingEmail();
    this.$('email-input').value = this.$('email-code-input').value = '';
    this.show('credential');
  }

  persist() {
    try {
      localStorage.setItem(storageKey(this.slug), JSON.stringify(storedRecord(this.state.rec)));
    } catch {
      this.fail('storage_failed'); // the download link still works: the signer must use it
    }
  }

  keep(rec) {
    this.state.rec = rec;
    this.$('receipt-token').value = rec.token;
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
    this.downloadUrl = rec.preparedMsg
      ? URL.createObjectURL(new Blob([receiptFile(rec, this.slug)], { type: 'application/json' }))
      : null;
    const link = this.$('receipt-download');
    if (this.downloadUrl) link.href = this.downloadUrl; else link.removeAttribute('href');
    if (rec.preparedMsg) this.persist();
  }

  load() {
    try {
      const stored = localStorage.getItem(storageKey(this.slug));
      return stored ? parseReceipt(stored, { slug: this.slug, levels: this.levels }) : null;
    } catch {
      return null; // storage blocked, or a damaged entry: start afresh
    }
  }

  forget() {
    try { localStorage.removeItem(storageKey(this.slug)); } catch { /* nothing stored */ }
    this.keep({ token: '' });
    this.state.rec = null;
    this.show('method');
    this.say('forgotten');
  }

  // ----- signing, withdrawing, the count
  async sign() {
    const rec = this.state.rec;
    // Right before redemption: the keys again, and what the credential's message names.
    await this.trustedKeys();
    checkRedemption(rec, this.state.pins);
    const body = { key_id: rec.keyId, msg: rec.preparedMsg, sig: rec.sig };
    const name = this.$('display-name').value.trim();
    if (this.$('show-name').checked && name) body.display_name = name; // unticked: never sent
    const comment = this.$('comment').value.trim();
    if (comment) body.comment = comment;
    let answer;
    try {
      answer = await this.post('signatures', body);
    } catch (e) {
      if (e.code === 'already_signed') { this.keep({ ...rec, used: true }); this.show('used'); }
      throw e;
    }
    this.keep({ ...rec, used: true });
    this.$('display-name').value = this.$('comment').value = '';
    this.$('done-public').textContent = this.publicWhen(answer.publication);
    // A name or comment waits for (or answers to) a moderator: the thank-you says which.
    this.$('done-review').hidden = !(body.display_name || body.comment);
    this.show('done');
    this.refreshCount();
    return ''; // the heading says it; a second "signature added" line only repeated it
  }

  async withdraw() {
    const rec = this.state.rec;
    try {
      await this.post('withdrawals', { token: rec.token });
    } catch (e) {
      throw e.code === 'not_found' ? new SignError('withdraw_not_found') : e;
    }
    this.keep({ ...rec, ...(rec.preparedMsg && { used: true, withdrawn: true }) });
    this.show('withdrawn');
    this.refreshCount();
    return 'withdrawn';
  }

  /** When the signature becomes public, from the 201 answer (docs/protocol.md §5.8). */
  publicWhen(publication) {
    if (!publication || publication.immediate) return this.text('public-now') ?? '';
    const lang = document.documentElement.lang || undefined;
    const day = new Date(`${publication.public_by}T00:00:00Z`);
    const date = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(day);
    const when = (this.text('public-batch') ?? '').replaceAll('{k}', String(publication.min_batch)).replace('{date}', date);
    // Below the safe floor the receipt says so instead of implying a promise of anonymity.
    return publication.unsafe ? `${when} ${this.text('public-unsafe') ?? ''}`.trim() : when;
  }

  async refreshCount() {
    try {
      const { counts } = await this.get('');
      showCounts(counts, Number(this.root.dataset.goal), document.documentElement.lang || undefined);
    } catch {
      // Only cosmetic: the signature itself went through.
    }
  }

  // ----- importing a receipt
  /**
   * Where a receipt's signature stands, read from the public log on this device (the
   * receipt is never sent: static/js/log.js). 'absent' also covers a signature that waits
   * for its publication batch; signing then answers "already used".
   */
  async logState(token) {
    try {
      const fetchPage = (url) => this.request(null, null, url);
      const found = await findInLog(token, { firstUrl: `${this.apiBase}/log`, fetchPage });
      return found.state;
    } catch {
      return 'unknown';
    }
  }

  async importReceipt() {
    const rec = parseReceipt(this.$('import-text').value, { slug: this.slug, levels: this.levels });
    if (rec.preparedMsg) {
      await checkReceipt(rec, await this.trustedKeys());
      checkRedemption(rec, this.state.pins);
    }
    // Whether it was used or withdrawn is not the file's to say: the public log says it.
    const stateInLog = await this.logState(rec.token);
    if (rec.preparedMsg) {
      Object.assign(rec, { used: stateInLog === 'published' || stateInLog === 'withdrawn', withdrawn: stateInLog === 'withdrawn' });
    }
    this.keep(rec);
    this.$('import-text').value = '';
    if (stateInLog === 'withdrawn') this.show('withdrawn');
    else if (stateInLog === 'published') this.show('done');
    else this.show(rec.preparedMsg ? 'credential' : 'token');
    return 'imported';
  }

  async readImportFile(file) {
    if (file && file.size < 16384) this.$('import-text').value = await file.text();
    else if (file) this.fail('receipt_invalid');
  }

  async copyReceipt() {
    const input = this.$('receipt-token');
    try {
      await navigator.clipboard.writeText(input.value);
      this.say('copied');
    } catch {
      input.focus();
      input.select(); // clipboard refused: leave it selected for a manual copy
    }
  }

  // ----- choosing a method, codes from a scanned link
  chooseMethod(level, focus = true) {
    this.state.level = level;
    if (level === 'work_email') return this.show('email', focus);
    const help = this.$('code-help');
    help.textContent = help.dataset[level] ?? '';
    this.show('code', focus);
  }

  applyCode({ code, level, keyPrefix }, focus) {
    this.state.keyPrefix = keyPrefix;
    const codeLevels = CODE_LEVELS.filter((l) => this.levels.includes(l));
    if (!codeLevels.length) return this.show('method', focus);
    this.$('code-input').value = code;
    const chosen = codeLevels.includes(level) ? level : codeLevels.length === 1 ? codeLevels[0] : null;
    if (chosen) return this.chooseMethod(chosen, focus);
    this.show('method', focus);
    this.say('code_found');
  }

  // ----- wiring and start
  wire() {
    const steps = this.steps;
    for (const b of steps.querySelectorAll('[data-method]')) b.addEventListener('click', () => this.chooseMethod(b.dataset.method));
    for (const b of steps.querySelectorAll('[data-back]')) b.addEventListener('click', () => this.show('method'));
    for (const b of steps.querySelectorAll('[data-confirm]')) {
      b.addEventListener('click', () => this.toggleConfirm(b, b.getAttribute('aria-expanded') !== 'true'));
    }
    for (const b of steps.querySelectorAll('[data-cancel]')) {
      b.addEventListener('click', () => {
        const opener = steps.querySelector(`[data-confirm="${b.closest('[data-confirm-box]').id}"]`);
        this.toggleConfirm(opener, false);
        opener.focus();
      });
    }
    for (const [id, step] of Object.entries(BUTTON_STEPS)) this.$(id).addEventListener('click', () => this.show(step));
    this.$('email-have-code').addEventListener('click', () => this.haveEmailCode());
    this.$('email-change').addEventListener('click', () => {
      this.show('email');
      this.$('email-input').select();
    });
    this.$('show-name').addEventListener('change', (e) => { this.$('display-name-field').hidden = !e.target.checked; });
    for (const [id, action] of Object.entries(FORM_STEPS)) {
      const form = this.$(id);
      form.addEventListener('submit', (event) => {
        event.preventDefault(); // never a native submission
        this.run(form, () => action(this));
      });
    }
    this.$('withdraw-confirm').addEventListener('click', () => this.run(this.$('withdraw-box'), () => this.withdraw()));
    this.$('forget-confirm').addEventListener('click', () => this.forget());
    this.$('receipt-copy').addEventListener('click', () => this.copyReceipt());
    this.$('import-file').addEventListener('change', (e) => this.readImportFile(e.target.files[0]));
    window.addEventListener('hashchange', () => {
      const found = takeFragment();
      if (found && !this.state.rec) this.applyCode(found, true);
    });
  }

  start() {
    const found = takeFragment(); // first of all, so the code leaves the address bar at once
    this.$('sign-nojs').hidden = true;
    this.steps.hidden = false;
    if (!globalThis.crypto?.subtle) { // WebCrypto exists only on https (and localhost)
      for (const el of this.steps.children) el.hidden = !el.matches('#sign-error');
      this.fail('crypto_unavailable');
      return;
    }
    // Pin the petition id and keys at first sight, and say so at once if they changed.
    this.state.keyPrefix = found?.keyPrefix ?? null;
    this.trustedKeys({ level: found?.level }).catch((e) => {
      if (e instanceof SignError && e.code !== 'network') this.fail(e.code);
    });
    const stored = this.load();
    if (stored) {
      // One credential per person: a stored one wins over a newly scanned code.
      this.keep(stored);
      this.show(stored.withdrawn ? 'withdrawn' : stored.used ? 'done' : 'credential', false);
    } else if (found) {
      this.applyCode(found, false);
      // From a code card or tear-off tab: straight to the sign step, no scrolling needed.
      this.root.scrollIntoView({ block: 'start' });
    } else if (this.levels.includes('work_email') && this.loadPendingEmail()) {
      // Back from the mail app, or reloaded: the code step is still here (review S11).
      this.toEmailCode(this.loadPendingEmail().email, { sent: true, fresh: false, focus: false });
      this.say('email_restored');
      this.root.scrollIntoView({ block: 'start' });
    } else {
      this.show('method', false);
    }
  }
}

// Each form and the step it runs through SigningPage.run (one at a time, errors shown).
const FORM_STEPS = {
  'code-form': (page) => page.redeemCode(),
  'email-form': (page) => page.sendEmailCode(),
  'email-code-form': (page) => page.redeemEmailCode(),
  'sign-form': (page) => page.sign(),
  'import-form': (page) => page.importReceipt(),
};
// Buttons that only move to another step.
const BUTTON_STEPS = { 'method-import': 'import', 'email-again': 'email', 'sign-later': 'later', 'later-sign': 'credential' };

/** Every number and word about the count on the page at once: per method, singular or
 * plural, what is left to the goal, and the progress bars. */
function showCounts(counts, goal, lang) {
  const number = new Intl.NumberFormat(lang);
  for (const el of document.querySelectorAll('[data-count]')) el.textContent = number.format(counts.total);
  for (const el of document.querySelectorAll('[data-count-level]')) {
    el.textContent = number.format(counts[el.dataset.countLevel] ?? 0);
  }
  for (const el of document.querySelectorAll('[data-count-noun]')) el.textContent = pluralText(el, counts.total, lang);
  for (const el of document.querySelectorAll('[data-remaining]')) {
    const left = goal - counts.total;
    el.textContent = left > 0 ? pluralText(el, left, lang) : el.dataset.done;
  }
  const pct = percentOf(counts.total, goal);
  for (const bar of document.querySelectorAll('progress[data-progress], progress.progress')) {
    bar.value = pct;
    bar.textContent = new Intl.NumberFormat(lang, { style: 'percent' }).format(pct / 100);
  }
}

/** Read a `#code=` fragment, then drop it from the address bar and the history entry. */
function takeFragment() {
  if (!new URLSearchParams(location.hash.slice(1)).has('code')) return null;
  const found = parseFragment(location.hash);
  history.replaceState(history.state, '', location.pathname + location.search);
  return found;
}

if (globalThis.document) {
  const root = document.getElementById('signing');
  const steps = root?.querySelector('#sign-steps'); // none when not open: the template says so
  if (steps) {
    const page = new SigningPage(root, steps);
    page.wire();
    page.start();
  }
}
