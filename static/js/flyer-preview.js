// Live preview of the flyer designer: the server rendered one sheet of every design with the
// same templates as the PDF; here we only copy the typed text into it, show the chosen design
// and paper, set the accent colour (CSSOM, which the strict CSP allows), and warn while the
// colour is too light for white text (the server refuses it: organizing/flyers/rules.py).
const form = document.getElementById('flyer-form');
const preview = document.getElementById('flyer-preview');
const warning = document.getElementById('accent-contrast');
const HEX = /^#[0-9a-fA-F]{6}$/;
// The headline's size steps: organizing/flyers/rendering.py HEADLINE_STEPS.
const HEADLINE_STEPS = [
  [28, 'short'],
  [55, 'medium'],
];

function field(name) {
  return form.elements.namedItem(name);
}

// WCAG 2 contrast ratio between #rrggbb and white, as rules.contrast_with_white computes it.
export function contrastWithWhite(hex) {
  const channel = (value) => {
    const c = value / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [1, 3, 5].map((i) => channel(parseInt(hex.slice(i, i + 2), 16)));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return 1.05 / (luminance + 0.05);
}

export function headlineSize(text) {
  const step = HEADLINE_STEPS.find(([limit]) => text.length <= limit);
  return step ? step[1] : 'long';
}

function showContrast(accent) {
  if (!warning) return;
  const input = field('accent');
  const floor = Number(input?.dataset.minContrast ?? '4.5');
  const ratio = HEX.test(accent) ? contrastWithWhite(accent) : floor;
  const tooLight = ratio < floor;
  // An empty live region that fills in is what screen readers announce; `hidden` is not.
  warning.textContent = tooLight ? warning.dataset.template.replace('{ratio}', ratio.toFixed(1)) : '';
  warning.classList.toggle('has-warning', tooLight);
}

function update() {
  for (const node of preview.querySelectorAll('[data-field]')) {
    const input = field(node.dataset.field);
    if (input) node.textContent = input.value;
  }
  const size = headlineSize(field('headline')?.value ?? '');
  const hasBody = (field('body')?.value ?? '').trim() !== '';
  for (const flyer of preview.querySelectorAll('.flyer')) {
    // A bilingual sheet's second-language flyer keeps its own text and sizes.
    if (!flyer.querySelector('[data-field=headline]')) continue;
    for (const name of ['short', 'medium', 'long']) {
      flyer.classList.toggle(`headline-${name}`, name === size);
    }
    flyer.classList.toggle('no-body', !hasBody);
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
  showContrast(accent);
  const language = field('language')?.value;
  if (language) preview.lang = language;
}

if (form && preview) {
  const accent = field('accent');
  if (accent && warning) {
    const described = (accent.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
    accent.setAttribute('aria-describedby', [...described, warning.id].join(' '));
  }
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  update();
}
