// Live preview of the flyer designer: the server rendered one sheet of every design with the
// same templates as the PDF; here we only copy the typed text into it, show the chosen design
// and paper, and set the accent colour (CSSOM, which the strict CSP allows).
const form = document.getElementById('flyer-form');
const preview = document.getElementById('flyer-preview');
const HEX = /^#[0-9a-fA-F]{6}$/;

function field(name) {
  return form.elements.namedItem(name);
}

function update() {
  for (const node of preview.querySelectorAll('[data-field]')) {
    const input = field(node.dataset.field);
    if (input) node.textContent = input.value;
  }
  const design = field('design')?.value;
  for (const sheet of preview.querySelectorAll('.preview-sheet')) {
    sheet.hidden = sheet.dataset.design !== design;
  }
  const paper = field('paper')?.value;
  preview.classList.toggle('paper-letter', paper === 'letter');
  preview.classList.toggle('paper-a4', paper === 'a4');
  const accent = field('accent')?.value ?? '';
  if (HEX.test(accent)) preview.style.setProperty('--accent', accent);
  const language = field('language')?.value;
  if (language) preview.lang = language;
}

if (form && preview) {
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  update();
}
