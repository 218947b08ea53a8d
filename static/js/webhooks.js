// The webhooks page: a button that copies the signing secret, shown once, to the clipboard.
// Without the Clipboard API (an insecure origin, an old browser) the button stays hidden and
// the secret is selected and copied by hand.
for (const button of document.querySelectorAll('[data-copy]')) {
  const source = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector('.copy-status');
  if (!source || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      status.textContent = button.dataset.copied;
    } catch {
      status.textContent = button.dataset.copyFailed;
    }
  });
}
