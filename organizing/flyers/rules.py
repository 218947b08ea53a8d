"""What a print run may be: every rule, in one check that every door runs.

The designer's form, the code-card page (through `print_run_create`), the worker (before it
makes codes) and `manage.py flyers` all go through `print_run_check`: open petition, a level
the petition takes, 1 to MAX_COPIES copies on at most MAX_SHEETS sheets, printed text without
hidden controls and only with characters the shipped fonts have, an accent colour dark enough
for white text. The code-batch rules (size, level, expiry) stay in petition/codes.py and are
checked by `print_run_create` for designs that carry codes.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from petition.models import CODE_BATCH_MIN_SIZE, Petition
from petition.text import hidden_controls

from ..models.flyers import MAX_COPIES
from .designs import DESIGNS, Design, codes_needed
from .glyphs import unprintable
from .rendering import FlyerText

__all__ = ["MAX_COPIES", "MAX_SHEETS", "MIN_CONTRAST", "print_run_check"]

# MAX_COPIES is defined with the tables (organizing/models/flyers.py), whose constraints
# hold it, as the code-batch sizes are in petition/models.py; the rest lives only here.
# A run of more sheets takes the worker too long (its 30-minute limit) and the printer too.
MAX_SHEETS = 500
MIN_CONTRAST = 4.5  # WCAG AA for normal text: white on the colour, the colour on white
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_UNPRINTABLE_SHOWN = 10
# Languages a flyer can be printed in (its `lang` and writing direction; the text is yours):
# those whose script the shipped fonts cover (organizing/flyers/glyphs.py). Hindi, Bengali,
# Chinese, Japanese and Korean need a font of their own first.
FLYER_LANGUAGES = [
    "en", "es", "fr", "de", "it", "pt", "nl", "pl", "ro", "tr", "ru", "uk", "el",
    "ar", "fa", "he", "ur", "vi", "id",
]  # fmt: skip
# The fields of FlyerText that go on paper, and whether each may span several lines.
PRINTED_FIELDS = {
    "headline": False,
    "subheadline": False,
    "body": True,
    "call_to_action": False,
    "privacy_line": False,
    "organized_by": False,
    "deadline_line": False,
}


def contrast_with_white(colour: str) -> float:
    """WCAG 2 contrast ratio between `colour` (#rrggbb) and white."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


def clean_typed_text(value: str, *, multiline: bool = False) -> str:
    """Refuse the invisible characters that could hide or reorder text (bidi overrides and
    the like, petition/text.py); keep letters of every script."""
    value = unicodedata.normalize("NFC", value.strip())
    if hidden_controls(value, newlines=multiline):
        raise ValidationError(
            _("Remove the invisible control characters from this text."), code="control"
        )
    if multiline:
        value = re.sub(r"\n{3,}", "\n\n", value.replace("\r", ""))
    return value


def clean_printed_text(value: str, *, multiline: bool = False) -> str:
    """Text that goes on paper: clean, and every character in the shipped fonts."""
    value = clean_typed_text(value, multiline=multiline)
    if missing := unprintable(value):
        raise ValidationError(
            _("These characters cannot be printed with the fonts Countersign has, they would "
              "come out as empty boxes: %(characters)s. Remove them or write the text without "
              "them (emoji and some scripts, such as Chinese or Hindi, are not covered)."),
            params={"characters": " ".join(missing[:MAX_UNPRINTABLE_SHOWN])},
            code="unprintable",
        )  # fmt: skip
    return value


def clean_accent(value: str) -> str:
    accent = value.strip()
    if not HEX_COLOUR.match(accent):
        raise ValidationError(_("Pick a colour, e.g. #1f5f8b."), code="colour")
    ratio = contrast_with_white(accent)
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            _("This colour is too light: white text on it has a contrast of %(ratio)s:1, "
              "4.5:1 is needed. Pick a darker one."),
            params={"ratio": f"{ratio:.1f}"},
            code="contrast",
        )  # fmt: skip
    return accent.lower()


def check_copies(design: Design, copies: int) -> None:
    if not 1 <= copies <= MAX_COPIES:
        raise ValidationError(
            _("Make between 1 and %(max)d copies.") % {"max": MAX_COPIES}, code="copies"
        )
    if design.sheets_for(copies) > MAX_SHEETS:
        raise ValidationError(
            _("That is more than %(max)d sheets. Make several smaller runs.") % {"max": MAX_SHEETS},
            code="sheets",
        )


def smallest_run(design: Design) -> int:
    """The copies of one full sheet, or more if the codes on it are fewer than a code batch
    may hold (a single code card would be followed from the card to the signature)."""
    copies = design.items_per_sheet
    while 0 < codes_needed(design, copies) < CODE_BATCH_MIN_SIZE:
        copies += 1
    return copies


def print_run_check(
    *,
    petition: Petition,
    design: str,
    copies: int | None = None,
    text: FlyerText | None = None,
    code_level: str | None = None,
) -> None:
    """Raise ValidationError if this petition cannot have this print run now: the
    petition's state first (nothing else matters then), else every field's problem at once,
    keyed by the designer form's field names. `copies` and `text` are left out only where
    they were checked when the run was recorded (the worker, before it makes codes)."""
    if petition.status != Petition.Status.PUBLISHED:
        raise ValidationError(_("Flyers and codes can be made only while the petition is open."))
    chosen = DESIGNS[design]
    level = code_level or chosen.code_level
    errors: dict[str, list[ValidationError]] = {}
    if level and level not in petition.levels:
        errors[NON_FIELD_ERRORS] = [
            ValidationError(
                _("This petition does not take the codes this design prints."), code="level"
            )
        ]
    if copies is not None:
        try:
            check_copies(chosen, copies)
        except ValidationError as exc:
            errors["copies"] = [exc]
    if text is not None:
        for name, multiline in PRINTED_FIELDS.items():
            try:
                clean_printed_text(getattr(text, name), multiline=multiline)
            except ValidationError as exc:
                errors[name] = [exc]
        if text.language not in FLYER_LANGUAGES:
            errors["language"] = [
                ValidationError(
                    _("Flyers can be printed in these languages: %(languages)s.")
                    % {"languages": ", ".join(FLYER_LANGUAGES)},
                    code="language",
                )
            ]
        try:
            clean_accent(text.accent)
        except ValidationError as exc:
            errors["accent"] = [exc]
    if errors:
        raise ValidationError(errors)
