"""The flyer designer's form: text, language, colour, design, paper, copies."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from organizing.forms import StaffFormMixin
from organizing.idempotency import IdempotentFormMixin
from petition.text import hidden_controls

from .designs import DESIGNS, PAPERS
from .glyphs import unprintable
from .rendering import DEFAULT_ACCENT, FlyerText

# Languages a flyer can be printed in (its `lang` and writing direction; the text is yours):
# those whose script the shipped fonts cover (organizing/flyers/glyphs.py). Hindi, Bengali,
# Chinese, Japanese and Korean need a font of their own first.
FLYER_LANGUAGES = [
    "en", "es", "fr", "de", "it", "pt", "nl", "pl", "ro", "tr", "ru", "uk", "el",
    "ar", "fa", "he", "ur", "vi", "id",
]  # fmt: skip
MAX_UNPRINTABLE_SHOWN = 10
MAX_SHEETS = 500
MIN_CONTRAST = 4.5  # WCAG AA for normal text: white on the colour, the colour on white
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _language_choices():
    return [(code, get_language_info(code)["name_local"]) for code in FLYER_LANGUAGES]


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
        raise forms.ValidationError(
            _("Remove the invisible control characters from this text."), code="control"
        )
    if multiline:
        value = re.sub(r"\n{3,}", "\n\n", value.replace("\r", ""))
    return value


def clean_printed_text(value: str, *, multiline: bool = False) -> str:
    """Text that goes on paper: clean, and every character in the shipped fonts."""
    value = clean_typed_text(value, multiline=multiline)
    if missing := unprintable(value):
        raise forms.ValidationError(
            _("These characters cannot be printed with the fonts Countersign has, they would "
              "come out as empty boxes: %(characters)s. Remove them or write the text without "
              "them (emoji and some scripts, such as Chinese or Hindi, are not covered)."),
            params={"characters": " ".join(missing[:MAX_UNPRINTABLE_SHOWN])},
            code="unprintable",
        )  # fmt: skip
    return value


class FlyerForm(StaffFormMixin, IdempotentFormMixin, forms.Form):
    design = forms.ChoiceField(
        label=_("Design"), choices=[(n, d.label) for n, d in DESIGNS.items() if n != "cards"]
    )
    paper = forms.ChoiceField(
        label=_("Paper"), choices=[(n, p.label) for n, p in PAPERS.items()], initial="letter"
    )
    copies = forms.IntegerField(
        label=_("Copies"),
        min_value=1,
        max_value=5000,
        initial=10,
        help_text=_("Posters, half-page flyers or stickers. Tear-off posters: up to 500."),
    )
    batch_label = forms.CharField(
        label=_("Where these go"),
        max_length=120,
        required=False,
        help_text=_(
            "E.g. “Building 20, 2nd floor”. Makes a batch: its QR codes count scans per day, "
            "shown from 5 up. Leave empty for codes that lead straight to the petition."
        ),
    )
    headline = forms.CharField(label=_("Headline"), max_length=90)
    subheadline = forms.CharField(label=_("Sub-headline"), max_length=160, required=False)
    body = forms.CharField(
        label=_("Text"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    call_to_action = forms.CharField(label=_("Call to action"), max_length=100)
    privacy_line = forms.CharField(label=_("Privacy line"), max_length=120)
    language = forms.ChoiceField(label=_("Language of the flyer"), initial="en")
    accent = forms.CharField(
        label=_("Accent colour"),
        initial=DEFAULT_ACCENT,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Dark enough for white text on it (contrast 4.5:1 or more)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = _language_choices()

    def clean_headline(self):
        return clean_printed_text(self.cleaned_data["headline"])

    def clean_subheadline(self):
        return clean_printed_text(self.cleaned_data["subheadline"])

    def clean_body(self):
        return clean_printed_text(self.cleaned_data["body"], multiline=True)

    def clean_call_to_action(self):
        return clean_printed_text(self.cleaned_data["call_to_action"])

    def clean_privacy_line(self):
        return clean_printed_text(self.cleaned_data["privacy_line"])

    def clean_batch_label(self):
        return clean_typed_text(self.cleaned_data["batch_label"])  # shown to staff, not printed

    def clean_accent(self):
        accent = self.cleaned_data["accent"].strip()
        if not HEX_COLOUR.match(accent):
            raise forms.ValidationError(_("Pick a colour, e.g. #1f5f8b."), code="colour")
        ratio = contrast_with_white(accent)
        if ratio < MIN_CONTRAST:
            raise forms.ValidationError(
                _("This colour is too light: white text on it has a contrast of %(ratio)s:1, "
                  "4.5:1 is needed. Pick a darker one."),
                params={"ratio": f"{ratio:.1f}"},
                code="contrast",
            )  # fmt: skip
        return accent.lower()

    def clean(self):
        cleaned = super().clean()
        design, copies = cleaned.get("design"), cleaned.get("copies")
        if design and copies and DESIGNS[design].sheets_for(copies) > MAX_SHEETS:
            self.add_error(
                "copies",
                _("That is more than %(max)d sheets. Make several smaller runs.")
                % {"max": MAX_SHEETS},
            )
        return cleaned

    def text(self) -> FlyerText:
        fields = ("headline", "subheadline", "body", "call_to_action", "privacy_line")
        return FlyerText(
            **{name: self.cleaned_data[name] for name in fields},
            language=self.cleaned_data["language"],
            accent=self.cleaned_data["accent"],
        )
