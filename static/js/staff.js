// SPDX-License-Identifier: AGPL-3.0-or-later
// Staff forms: character counters, short-name suggestions, and one submission per click.
// An ES module like every script here (loaded with type="module", so after the document is
// parsed); a static file (the CSP allows no inline script); every page works without it.

// The wording comes from the page (translated), with {n} for the number.
const counterText = (counter, left) => {
  const n = Math.abs(left);
  const key = (left >= 0 ? 'left' : 'over') + (n === 1 ? 'One' : 'Other');
  return counter.dataset[key].replace('{n}', String(n));
};

for (const counter of document.querySelectorAll('[data-counter-for]')) {
  const input = document.getElementById(counter.dataset.counterFor);
  if (!input) continue;
  const limit = Number(input.dataset.maxlength);
  const update = () => {
    const left = limit - input.value.length;
    counter.textContent = counterText(counter, left);
    counter.classList.toggle('counter-over', left < 0);
  };
  input.addEventListener('input', update);
  update();
}

// The short name follows the name (or title) until someone edits it by hand.
const slugify = (text) =>
  text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60).replace(/-+$/, '');
for (const slug of document.querySelectorAll('[data-suggest-from]')) {
  const source = document.getElementById(slug.dataset.suggestFrom);
  if (!source || slug.disabled) continue;
  let touched = slug.value !== '' && slug.value !== slugify(source.value);
  slug.addEventListener('input', () => { touched = slug.value !== ''; });
  source.addEventListener('input', () => {
    if (!touched) slug.value = slugify(source.value);
  });
}

// A second click while the first submission is on its way sends nothing (the server's
// form key also refuses it, but then the answer to the first click would be lost).
for (const form of document.querySelectorAll('form[data-submit-once]')) {
  form.addEventListener('submit', () => {
    if (form.dataset.sending) return;
    form.dataset.sending = '1';
    window.setTimeout(() => {
      for (const button of form.querySelectorAll('button[type=submit]')) button.disabled = true;
    }, 0);
  });
}
