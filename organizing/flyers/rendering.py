"""From a flyer's text, design and codes to HTML sheets and a PDF.

The same templates render the browser preview and the PDF (`templates/organizing/flyers/`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import BinaryIO

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import get_language_info, pgettext
from django.utils.translation import gettext_lazy as _

from config.i18n import language_codes
from petition.links import absolute_url
from petition.qr import QRCode, qr_svg
from petition.selectors import petition_text
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
    # A second language printed beside or under the first ("" for none). Its text is not
    # typed in the designer: it is `flyer_text_for(petition, second_language)`, made when
    # the sheet is laid out, so the preview and the PDF print the same words.
    second_language: str = ""

    @property
    def direction(self) -> str:
        return _direction(self.language)

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


def flyer_text_for(petition, language: str) -> FlyerText:
    """The flyer's text in `language`: the petition's words (its organizers' translation
    into that language, whole, or else the original, whole: `petition_text`) and the printed
    sentences translated. The one place a flyer's petition text per language comes from."""
    words = petition_text(petition, language)
    with translation.override(language):
        deadline = ""
        if petition.deadline:
            day = formats.date_format(petition.deadline, "DATE_FORMAT")
            deadline = str(_("Sign by %(day)s")) % {"day": day}
        return FlyerText(
            headline=words.title,
            subheadline=words.summary,
            body="",
            call_to_action=str(_("Scan to read the petition and sign it anonymously.")),
            privacy_line=str(_("Scan with your personal phone, not a work device.")),
            organized_by=str(_("Organized by %(campaign)s")) % {"campaign": petition.campaign.name},
            deadline_line=deadline,
            language=language,
        )


def default_text(petition) -> FlyerText:
    """The designer's starting text: in the language the organizer reads the page in."""
    language = translation.get_language() or "en"
    return flyer_text_for(petition, language if language in language_codes() else "en")


def second_text(petition, text: FlyerText) -> FlyerText | None:
    """The text of a bilingual sheet's second language, or None for one language."""
    if not second_text_wanted(text):
        return None
    return flyer_text_for(petition, text.second_language)


def code_words(text: FlyerText) -> str:
    """The word "code" in each printed language, for the tear-off tabs: "code · código"."""
    languages = [text.language] + ([text.second_language] if second_text_wanted(text) else [])
    words = []
    for language in languages:
        with translation.override(language):
            words.append(pgettext("on a tear-off tab", "code"))
    return " · ".join(dict.fromkeys(words))


def second_text_wanted(text: FlyerText) -> bool:
    return bool(text.second_language) and text.second_language != text.language


def petition_target_url(petition, batch=None, language: str = "") -> str:
    """Where the QR codes lead: the batch's counting redirect, or the petition itself, in
    the flyer's (first) language: `/es/p/<slug>/` for Spanish, unprefixed for English, so
    a reader lands on a page in the language they just read. A batch's short link stays
    unprefixed (config/i18n.py) and names the language in `?l=` for its redirect."""
    default = settings.LANGUAGE_CODE
    language = language if language in language_codes() else default
    if batch is not None:
        url = absolute_url(batch.get_absolute_url())
        return url if language == default else f"{url}?l={language}"
    with translation.override(language):
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
        "direction": text.direction,
        # A bilingual sheet (designs.py says how each design lays out the two languages).
        "second_text": second_text(petition, text),
        "code_words": code_words(text),
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
