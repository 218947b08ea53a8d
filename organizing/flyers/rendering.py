"""From a flyer's text, design and codes to HTML sheets and a PDF.

The same templates render the browser preview and the PDF (`templates/organizing/flyers/`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import BinaryIO

from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from petition.links import absolute_url
from petition.qr import QRCode, qr_svg
from petition.tlog.services import log_identity

from .designs import DESIGNS, PAPERS, build_sheets, short_url
from .pdf import render_pdf_chunked

FLYER_CSS = "css/flyers.css"
# Sheets per WeasyPrint document. Small enough that layout memory stays flat, large enough
# that the fixed cost per document (fonts, stylesheets) is spread over many pages.
CHUNK_SHEETS = 25

DEFAULT_ACCENT = "#1f5f8b"
# Headlines up to these lengths print in the larger sizes of static/css/flyers.css, so a
# short headline fills the band instead of leaving half of it empty (review O7). The live
# preview applies the same steps (static/js/flyer-preview.js).
HEADLINE_STEPS = ((28, "short"), (55, "medium"))


@dataclass(frozen=True)
class FlyerText:
    headline: str = ""
    subheadline: str = ""
    body: str = ""
    call_to_action: str = ""
    privacy_line: str = ""
    # Who is behind the petition and until when it runs: a poster on a wall needs both.
    organized_by: str = ""
    deadline_line: str = ""
    language: str = "en"
    accent: str = DEFAULT_ACCENT

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def headline_size(self) -> str:
        length = len(self.headline)
        return next((name for limit, name in HEADLINE_STEPS if length <= limit), "long")

    @classmethod
    def from_dict(cls, data: dict) -> FlyerText:
        """Read back a stored text: fields added since it was stored take their defaults,
        fields no longer known are dropped."""
        known = cls.__dataclass_fields__
        return cls(**{name: value for name, value in data.items() if name in known})


def default_text(petition) -> FlyerText:
    deadline = ""
    if petition.deadline:
        day = formats.date_format(petition.deadline, "DATE_FORMAT")
        deadline = str(_("Sign by %(day)s")) % {"day": day}
    return FlyerText(
        headline=petition.title,
        subheadline=petition.summary,
        body="",
        call_to_action=str(_("Scan to read the petition and sign it anonymously.")),
        privacy_line=str(_("Scan with your personal phone, not a work device.")),
        organized_by=str(_("Organized by %(campaign)s")) % {"campaign": petition.campaign.name},
        deadline_line=deadline,
    )


def petition_target_url(petition, batch=None) -> str:
    """Where the QR codes lead: the batch's counting redirect, or the petition itself."""
    if batch is not None:
        return absolute_url(batch.get_absolute_url())
    return absolute_url(petition.get_absolute_url())


def level_in_url(petition, level: str | None) -> str:
    """The `&level=` of a printed code. Always there, so that the server cannot hand this
    signer a key of its own to recognise them: the browser client checks
    the key-id prefix against the key of the level it names before it sends anything."""
    return level or ""


def _direction(language: str) -> str:
    try:
        return "rtl" if get_language_info(language)["bidi"] else "ltr"
    except KeyError:
        return "ltr"


def sheet_context(
    *, petition, design: str, paper: str, text: FlyerText, target_url: str, key_prefix: str
) -> dict:
    chosen = DESIGNS[design]
    return {
        "petition": petition,
        "design": chosen,
        "paper": PAPERS[paper],
        "text": text,
        "direction": _direction(text.language),
        "target_url": target_url,
        "short_url": short_url(target_url),
        "main_qr": qr_svg(target_url, chosen.main_ec),
        "key_prefix": key_prefix,
        # The transparency log's verifier key (issue 16: "on printed flyers and cards"), in
        # small type on every design, so a reader can compare it with the one the audit page
        # checks the log against; the cards also name its 8-hex id next to the code's key.
        "log_vkey": log_identity()["vkey"],
        "log_key_id": log_identity()["vkey"].split("+")[1],
    }


def render_sheets_html(context: dict, sheets) -> str:
    """One HTML document holding `sheets`, for WeasyPrint. QR codes are empty links there;
    `qr_overlay` draws the symbols into the PDF where the links were laid out."""
    with translation.override(context["text"].language):
        return render_to_string(
            "organizing/flyers/document.html",
            {**context, "sheets": list(sheets), "for_print": True},
        )


def qr_overlay(symbols: dict[str, QRCode]):
    """A page overlay (pdf.render_pdf_chunked) that draws each QR code link's symbol."""

    def overlay(page) -> str:
        ops = []
        # WeasyPrint gives each link's box as (x1, y1, x2, y2) in CSS pixels.
        for link_type, target, (x1, y1, x2, _y2), _box in page.links:
            symbol = symbols.get(target) if link_type == "external" else None
            if symbol is not None:
                ops.append(symbol.pdf_ops(x1, y1, x2 - x1))
        return " ".join(ops)

    return overlay


def flyer_pdf(
    *,
    petition,
    design: str,
    paper: str,
    copies: int,
    text: FlyerText,
    out: BinaryIO,
    target_url: str,
    codes: Sequence[str] | None = None,
    key_prefix: str = "",
    code_level: str = "",
    on_progress: Callable[[int, int], None] | None = None,
    first_sheet: int = 0,
    sheet_count: int | None = None,
) -> int:
    """Write the PDF of a run to `out`; returns its page count. `on_progress(done, total)`
    is called after each chunk of pages. `first_sheet` and `sheet_count` make the PDF of
    part of the run only (a chunk that a worker renders, organizing/flyers/chunks.py);
    `codes` is always indexed from the run's first code."""
    chosen = DESIGNS[design]
    context = sheet_context(
        petition=petition,
        design=design,
        paper=paper,
        text=text,
        target_url=target_url,
        key_prefix=key_prefix,
    )
    end = chosen.sheets_for(copies)
    if sheet_count is not None:
        end = min(end, first_sheet + sheet_count)
    total = end - first_sheet
    main_qr = context["main_qr"]
    symbols: dict[str, QRCode] = {}

    def chunks() -> Iterator[str]:
        for first in range(first_sheet, end, CHUNK_SHEETS):
            sheets = list(
                build_sheets(
                    chosen,
                    copies=copies,
                    target_url=target_url,
                    codes=codes,
                    key_prefix=key_prefix,
                    level_in_url=level_in_url(petition, code_level),
                    first_sheet=first,
                    sheet_count=min(CHUNK_SHEETS, end - first),
                )
            )
            # The symbols of this chunk only: the overlay runs before the next chunk.
            symbols.clear()
            symbols[main_qr.data] = main_qr
            symbols.update((item.url, item.qr) for sheet in sheets for item in sheet.codes)
            yield render_sheets_html(context, sheets)

    def progress(done: int) -> None:
        if on_progress is not None:
            on_progress(done, total)

    return render_pdf_chunked(
        chunks(),
        out,
        stylesheets=[FLYER_CSS],
        on_chunk=progress,
        page_overlay=qr_overlay(symbols),
    )
