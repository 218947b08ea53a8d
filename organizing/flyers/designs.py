"""The printable designs: what each sheet holds, which codes it carries, how big its QR is.

Pure data plus URL building; no database access, so the command line, the web page, the
worker and the benchmark all lay out the same sheets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from petition.codes import normalize_code
from petition.models import Level
from petition.qr import QRCode, qr_svg


@dataclass(frozen=True)
class Paper:
    name: str
    label: str
    width_mm: float
    height_mm: float

    @property
    def points(self) -> tuple[float, float]:
        return (self.width_mm * 72 / 25.4, self.height_mm * 72 / 25.4)


PAPERS = {
    "letter": Paper("letter", _("US Letter"), 215.9, 279.4),
    "a4": Paper("a4", _("A4"), 210.0, 297.0),
}


@dataclass(frozen=True)
class Design:
    name: str
    label: str
    help: str
    items_per_sheet: int  # flyers, stickers or cards on one sheet
    code_level: str | None  # the level of the single-use codes it carries, if any
    codes_per_sheet: int
    # Error correction: H (30 % of the symbol may be lost) where the code is big and the URL
    # short, Q (25 %) where the URL carries a code and the symbol must stay small. Both
    # survive a crease through the symbol or a strip of glossy tape; see docs/architecture.md.
    main_ec: str = "H"
    code_ec: str = "Q"
    # How a sheet in two languages reads (FlyerText.second_language): "under", the second
    # language in smaller type under the first in each block, where one item fills the
    # sheet (poster, tear-off poster, code cards); "split", one item per language, where a
    # sheet holds several (half-page flyers: top and bottom; stickers: left and right
    # columns), so each cut-out piece reads in one language at full size.
    two_languages: str = "under"

    @property
    def template(self) -> str:
        return f"organizing/flyers/designs/{self.name}.html"

    def sheets_for(self, copies: int) -> int:
        return max(1, math.ceil(copies / self.items_per_sheet))


DESIGNS = {
    "poster": Design(
        "poster",
        _("Poster"),
        _("One full page, one large QR code."),
        items_per_sheet=1,
        code_level=None,
        codes_per_sheet=0,
    ),
    "halves": Design(
        "halves",
        _("Half-page flyers"),
        _("Two flyers per sheet: cut along the dashed line."),
        items_per_sheet=2,
        code_level=None,
        codes_per_sheet=0,
        two_languages="split",
    ),
    "tearoff": Design(
        "tearoff",
        _("Poster with tear-off tabs"),
        _("Ten tabs per poster, each with its own single-use signing code."),
        items_per_sheet=1,
        code_level=Level.FLYER,
        codes_per_sheet=10,
    ),
    "stickers": Design(
        "stickers",
        _("Sticker sheet"),
        _("Ten stickers per sheet."),
        items_per_sheet=10,
        code_level=None,
        codes_per_sheet=0,
        two_languages="split",
    ),
    "cards": Design(
        "cards",
        _("Code cards"),
        _("Ten cards per sheet, each with one single-use code to hand to a coworker."),
        items_per_sheet=10,
        code_level=Level.IN_PERSON,
        codes_per_sheet=10,
    ),
}


def code_url(target_url: str, code: str, key_prefix: str, level: str = "") -> str:
    """The URL a tab or card encodes. The code rides in the fragment, which the browser
    keeps across the /f/ redirect and never sends to a server; `level` names the key the
    code is for, whose id starts with `key_prefix` (the client checks both)."""
    level_part = f"&level={level}" if level else ""
    return f"{target_url}#code={normalize_code(code)}{level_part}&k={key_prefix}"


def short_url(url: str) -> str:
    """What people type when they cannot scan: the URL without its scheme."""
    return url.split("://", 1)[-1]


@dataclass
class CodeItem:
    code: str
    url: str
    qr: QRCode


@dataclass
class Sheet:
    """The context of one printed sheet."""

    number: int
    items: int  # how many flyers/stickers/cards are on this sheet
    codes: list[CodeItem] = field(default_factory=list)

    @property
    def slots(self) -> range:
        return range(self.items)


def build_sheets(
    design: Design,
    *,
    copies: int,
    target_url: str,
    codes: list[str] | None = None,
    key_prefix: str = "",
    level_in_url: str = "",
    first_sheet: int = 0,
    sheet_count: int | None = None,
):
    """Yield the sheets `first_sheet` … of a run, each with its own code QRs. `copies` is
    the number of items (flyers, stickers, cards); code designs carry one code per tab or
    card, taken from `codes` in order."""
    total = design.sheets_for(copies)
    last = total if sheet_count is None else min(total, first_sheet + sheet_count)
    for number in range(first_sheet, last):
        items = min(design.items_per_sheet, copies - number * design.items_per_sheet)
        sheet = Sheet(number=number, items=items)
        if design.codes_per_sheet:
            chunk = (codes or [])[
                number * design.codes_per_sheet : (number + 1) * design.codes_per_sheet
            ]
            for code in chunk:
                url = code_url(target_url, code, key_prefix, level_in_url)
                sheet.codes.append(CodeItem(code=code, url=url, qr=qr_svg(url, design.code_ec)))
            if design.name == "cards":
                sheet.items = len(chunk)
        yield sheet


def codes_needed(design: Design, copies: int) -> int:
    """Tear-off posters carry ten codes each; code cards one each."""
    if design.name == "tearoff":
        return copies * design.codes_per_sheet
    if design.name == "cards":
        return copies
    return 0
