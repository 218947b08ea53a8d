// The language switcher keeps the visitor on the same page: its links already name the
// page; this adds the fragment (a code link's #code=…), which never reaches the server.
// Without JavaScript the links still work, without the fragment.
const links = () => document.querySelectorAll('.language-switcher a[data-keep-hash]');

function keepHash() {
  for (const link of links()) {
    const url = new URL(link.href, window.location.href);
    url.hash = window.location.hash;
    link.href = url.href;
  }
}

keepHash();
window.addEventListener('hashchange', keepHash);
