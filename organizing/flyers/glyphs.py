"""Which characters the shipped fonts can print.

Flyers are printed with the fonts in `static/fonts/` only (nothing is fetched, see pdf.py).
A character none of them has would print as an empty box (“tofu”) on hundreds of sheets, so
the designer refuses it with a form error instead, naming the characters. To print another
script (CJK, Devanagari, …), add a font that covers it to `static/fonts/` and
`static/css/print.css`, and to PRINT_FONTS here.
"""

from __future__ import annotations

from functools import cache

from fontTools.ttLib import TTFont

from .pdf import static_path

# Flyer text is set in both weights (headlines bold, the rest regular): a character must be
# in both to print everywhere it may be used.
PRINT_FONTS = ("fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf")
# Layout characters that need no glyph of their own.
_NO_GLYPH_NEEDED = frozenset("\n\r\t\u200c\u200d\ufe0e\ufe0f")


@cache
def printable() -> frozenset[int]:
    """The code points every one of PRINT_FONTS maps to a glyph."""
    covered: set[int] | None = None
    for name in PRINT_FONTS:
        with TTFont(static_path(name), lazy=True) as font:
            points = set(font.getBestCmap())
        covered = points if covered is None else covered & points
    return frozenset(covered or ())


def unprintable(text: str) -> list[str]:
    """The distinct characters of `text` the fonts cannot print, in order of appearance."""
    covered = printable()
    missing: dict[str, None] = {}
    for ch in text:
        if ch not in _NO_GLYPH_NEEDED and ord(ch) not in covered:
            missing[ch] = None
    return list(missing)
