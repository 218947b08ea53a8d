// SPDX-License-Identifier: AGPL-3.0-or-later
// "Pass it on" on the petition page (templates/petition/detail.html): copy the petition's
// link, or hand it to the phone's own share sheet. The QR code is drawn by the server and
// needs no script. Nothing here talks to any server: no share widget, no counter, no
// request at all, so passing the petition on leaves no trace with us or anyone else.

/** What the share sheet gets: the petition's title and its public link, nothing else. */
export function shareData(title, url) {
  return { title: String(title ?? '').trim(), url: String(url) };
}

/** Whether this browser has a share sheet for this data (Chromium on Linux has none). */
export function canShare(nav, data) {
  if (typeof nav?.share !== 'function') return false;
  return typeof nav.canShare !== 'function' || nav.canShare(data);
}

function init(section) {
  const $ = (id) => section.querySelector(`#${id}`);
  const link = $('share-link');
  const status = $('share-status');
  const say = (id) => { status.textContent = $(`share-msg-${id}`)?.content.textContent.trim() ?? ''; };
  const data = shareData($('share-actions').dataset.title, link.value);

  const copy = $('share-copy');
  copy.hidden = false;
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(link.value);
      say('copied');
    } catch {
      link.focus();
      link.select(); // clipboard refused: leave it selected for a manual copy
      say('select');
    }
  });

  const native = $('share-native');
  if (canShare(navigator, data)) {
    native.hidden = false;
    native.addEventListener('click', async () => {
      status.textContent = '';
      try {
        await navigator.share(data);
      } catch {
        // Dismissed, or the system refused: nothing to report, the link is still here.
      }
    });
  }
}

if (globalThis.document) {
  const section = document.getElementById('share');
  if (section) init(section);
}
