// Progress of a print run: poll the small JSON status endpoint, update the bar, and reload
// the page (which then offers the download or says what failed) once the run has ended.
const root = document.getElementById('print-run');
const bar = document.getElementById('print-run-progress');
const pages = document.getElementById('print-run-pages');

async function poll(delay) {
  let status;
  try {
    const response = await fetch(root.dataset.statusUrl, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(String(response.status));
    status = await response.json();
  } catch {
    setTimeout(() => poll(Math.min(delay * 2, 15000)), delay);
    return;
  }
  if (status.status === 'done' || status.status === 'failed') {
    window.location.reload();
    return;
  }
  bar.max = status.pages_total;
  bar.value = status.pages_done;
  // The sentence comes translated from the page ("{done} of {total} pages").
  const lang = document.documentElement.lang || undefined;
  pages.textContent = pages.dataset.template
    .replace('{done}', status.pages_done.toLocaleString(lang))
    .replace('{total}', status.pages_total.toLocaleString(lang));
  setTimeout(() => poll(1500), 1500);
}

if (root && bar && (root.dataset.status === 'pending' || root.dataset.status === 'running')) {
  setTimeout(() => poll(1000), 1000);
}
