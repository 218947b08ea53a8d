"""Which characters the shipped fonts can print.

Flyers are printed with the fonts in `static/fonts/` only (nothing is fetched, see pdf.py).
A character none of them has would print as an empty box (“tofu”) on hundreds of sheets, so
the designer refuses it with a form error instead, naming the characters, and a system check
(checks.py) refuses a translation of the printed sentences that the fonts cannot print. To
print another script (CJK, Devanagari, …), add a font that covers it to `static/fonts/` and
`static/css/print.css`, and to PRINT_FAMILIES here.
"""

from __future__ import annotations

from functools import cache

from fontTools.ttLib import TTFont

from .pdf import static_path

# The Arabic blocks print.css gives to Noto Naskh Arabic (its @font-face unicode-range):
# Arabic, Arabic Supplement, Arabic Extended-B/A, Presentation Forms-A and -B.
ARABIC_RANGES = (
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x0870, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
)
# Each family as print.css declares it: its files (flyer text is set in both weights,
# headlines bold and the rest regular, so a character must be in both) and the code points
# the stylesheet lets it print (None: all it has).
PRINT_FAMILIES = (
    (("fonts/NotoNaskhArabic-Regular.woff2", "fonts/NotoNaskhArabic-Bold.woff2"), ARABIC_RANGES),
    (("fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf"), None),
)
# Layout characters that need no glyph of their own (joiners, variation selectors, and the
# bidi marks and isolates that keep codes left to right in right-to-left text).
_NO_GLYPH_NEEDED = frozenset(
    "\n\r\t\u200c\u200d\u200e\u200f\ufe0e\ufe0f\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069"
)


def _in_ranges(point: int, ranges) -> bool:
    return ranges is None or any(low <= point <= high for low, high in ranges)


@cache
def printable() -> frozenset[int]:
    """The code points some family prints, in both weights."""
    covered: set[int] = set()
    for files, ranges in PRINT_FAMILIES:
        both: set[int] | None = None
        for name in files:
            with TTFont(static_path(name), lazy=True) as font:
                points = set(font.getBestCmap())
            both = points if both is None else both & points
        covered |= {point for point in both or () if _in_ranges(point, ranges)}
    return frozenset(covered)


def unprintable(text: str) -> list[str]:
    """The distinct characters of `text` the fonts cannot print, in order of appearance."""
    covered = printable()
    missing: dict[str, None] = {}
    for ch in text:
        if ch not in _NO_GLYPH_NEEDED and ord(ch) not in covered:
            missing[ch] = None
    return list(missing)
