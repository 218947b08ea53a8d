"""Print-exact PDFs from HTML templates (WeasyPrint), reusable by any printed document.

- Fonts ship with the project (`static/fonts/`, declared in `static/css/print.css`); the
  URL fetcher refuses everything that is not one of our own static files, so no font, image
  or stylesheet is ever fetched from elsewhere, whatever text a user typed.
- Long documents are laid out in chunks of pages, so WeasyPrint never holds the layout of
  more than one chunk, and each chunk's pages are written to the output as soon as they are
  made (pdfjoin.py), so the joining holds no page either: memory does not grow with the page
  count (benchmarks/README.md).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles import finders

from .pdfjoin import StreamingPdfJoiner

PRINT_CSS = "css/print.css"


class PDFLibrariesMissing(RuntimeError):
    """WeasyPrint's system libraries (Pango, HarfBuzz) are not installed."""


def weasyprint():
    """Import WeasyPrint lazily: it loads Pango through ctypes, which only the pages that
    print need; a machine without it still serves petitions, and says what to install."""
    try:
        import weasyprint as module
    except OSError as exc:
        raise PDFLibrariesMissing(
            "WeasyPrint cannot load Pango/HarfBuzz. Install them: "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
        ) from exc
    return module


def static_path(name: str) -> Path:
    found = finders.find(name)
    if not found:
        raise FileNotFoundError(f"static file {name} is missing")
    return Path(found)


@cache
def _allowed_roots() -> tuple[str, ...]:
    return tuple(os.path.realpath(static_path(name)) + os.sep for name in ("css", "fonts"))


@cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        """Serve our own static files; refuse every other URL, loudly (fail_on_errors):
        user text is escaped, so a refused URL is a bug, never something to print around."""

        def __init__(self):
            super().__init__(allowed_protocols={"file"}, fail_on_errors=True)

        def fetch(self, url, headers=None):
            path = os.path.realpath(unquote(urlsplit(url).path))
            if not path.startswith(_allowed_roots()):
                raise ValueError("Only the project's own static files may go into a PDF.")
            return super().fetch(url, headers)

    return LocalOnlyFetcher


def _layout(stylesheets: tuple[str, ...]) -> Callable[[str], object]:
    """A function that lays out HTML (a WeasyPrint Document, not yet written) with our fonts
    and `stylesheets`. Made once per thread and list of stylesheets, and used for every
    chunk of every PDF that thread makes: a font configuration made per chunk left about
    0.4 MiB behind each time (in Pango, out of Python's reach), and parsing the stylesheets
    again cost a fifth of the time; a worker rendering chunk after chunk of print runs would
    grow by that much per chunk. Per thread, because gunicorn's threads may render at once
    and a Pango font map is not made to be shared between threads."""
    cached = getattr(_layouts, "by_stylesheets", None)
    if cached is None:
        cached = _layouts.by_stylesheets = {}
    if stylesheets not in cached:
        cached[stylesheets] = _new_layout(stylesheets)
    return cached[stylesheets]


_layouts = threading.local()


def _new_layout(stylesheets: tuple[str, ...]) -> Callable[[str], object]:
    module = weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    fetcher = _fetcher_class()()
    sheets = [
        module.CSS(filename=str(static_path(name)), font_config=font_config, url_fetcher=fetcher)
        for name in (PRINT_CSS, *stylesheets)
    ]
    base_url = str(static_path(PRINT_CSS).parent) + os.sep

    def layout(html: str):
        document = module.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        return document.render(font_config=font_config, stylesheets=sheets)

    return layout


# Draws in the page's CSS pixels, y downwards, whatever state the page's own content left.
PageOverlay = Callable[[object], str]
# CSS pixels (1/96 in) to PDF points (1/72 in).
PX_TO_POINTS = "0.75 0 0 0.75 0 0 cm"


def render_pdf(
    html: str,
    *,
    stylesheets: Sequence[str] = (),
    target: BinaryIO | None = None,
    page_overlay: PageOverlay | None = None,
) -> bytes | None:
    """One HTML document to PDF. `stylesheets` are static file names, loaded after
    print.css (fonts, page basics). `page_overlay(page)` may return PDF drawing operators
    to add on top of a laid-out page (see render_pdf_chunked)."""
    out = target or io.BytesIO()
    render_pdf_chunked([html], out, stylesheets=stylesheets, page_overlay=page_overlay)
    return None if target is not None else out.getvalue()


def render_pdf_chunked(
    chunks: Iterable[str],
    out: BinaryIO,
    *,
    stylesheets: Sequence[str] = (),
    on_chunk: Callable[[int], None] | None = None,
    page_overlay: PageOverlay | None = None,
) -> int:
    """Lay out each HTML chunk on its own and append its pages to `out`. Returns the page
    count. `on_chunk(pages_so_far)` runs after each chunk (progress bars).

    `page_overlay(page)` gets each laid-out WeasyPrint page (its `links` give the boxes of
    `<a href>` elements, as x1, y1, x2, y2) and returns PDF operators to draw on it, in CSS
    pixels with y downwards: vector shapes written straight into the page are much cheaper
    than SVG that WeasyPrint must parse (QR codes, see organizing/flyers/rendering.py)."""
    layout = _layout(tuple(stylesheets))
    joiner = StreamingPdfJoiner(out)
    for html in chunks:
        document = layout(html)
        overlays = [
            f"{PX_TO_POINTS} {ops}" if (ops := page_overlay(page)) else ""
            for page in (document.pages if page_overlay else ())
        ]
        buffer = io.BytesIO()
        document.write_pdf(target=buffer)
        del document  # the layout of this chunk is no longer needed
        buffer.seek(0)
        joiner.append(buffer, overlays)
        if on_chunk is not None:
            on_chunk(joiner.page_count)
    joiner.close()
    return joiner.page_count
