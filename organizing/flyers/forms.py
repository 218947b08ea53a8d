"""The flyer designer's form: text, language, colour, design, paper, copies."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from organizing.forms import StaffFormMixin, apply_validation_error
from organizing.idempotency import IdempotentFormMixin
from petition.models import Petition

from .designs import DESIGNS, PAPERS
from .rendering import DEFAULT_ACCENT, FlyerText
from .rules import (
    FLYER_LANGUAGES,
    MAX_COPIES,
    MAX_SHEETS,
    MIN_CONTRAST,
    clean_accent,
    clean_printed_text,
    clean_typed_text,
    print_run_check,
)


def _language_choices():
    return [(code, get_language_info(code)["name_local"]) for code in FLYER_LANGUAGES]


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
        max_value=MAX_COPIES,
        initial=10,
        # Lazy all the way: `_(...) % {...}` here would freeze the text in the language of
        # the moment the module was imported (English), whatever the visitor reads.
        help_text=lazy(
            lambda: (
                _("Posters, half-page flyers or stickers. Tear-off posters: up to %(max)d.")
                % {"max": MAX_SHEETS}
            ),
            str,
        )(),
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
    organized_by = forms.CharField(
        label=_("Who is behind it"),
        max_length=120,
        required=False,
        help_text=_("Printed on the poster, e.g. “Organized by the Warehouse Staff Committee”."),
    )
    deadline_line = forms.CharField(
        label=_("Until when"),
        max_length=80,
        required=False,
        help_text=_("Printed next to the QR code and on each tab, e.g. “Sign by March 31”."),
    )
    language = forms.ChoiceField(
        label=_("Language of the flyer"),
        initial="en",
        help_text=_("Its QR codes lead to the petition in this language."),
    )
    second_language = forms.ChoiceField(
        label=_("Second language"),
        required=False,
        help_text=_(
            "Optional. Posters and tear-off posters print it under the first language; "
            "half-page flyers print one flyer in each; sticker sheets one column in each."
        ),
    )
    accent = forms.CharField(
        label=_("Accent colour"),
        initial=DEFAULT_ACCENT,
        # The live preview warns while the colour is too light (static/js/flyer-preview.js,
        # same formula and floor as rules.contrast_with_white); the server refuses it.
        widget=forms.TextInput(attrs={"type": "color", "data-min-contrast": str(MIN_CONTRAST)}),
        help_text=_("Dark enough for white text on it (contrast 4.5:1 or more)."),
    )

    def __init__(self, *args, petition: Petition, **kwargs):
        super().__init__(*args, **kwargs)
        self.petition = petition
        self.fields["language"].choices = _language_choices()
        self.fields["second_language"].choices = [
            ("", _("No second language")),
            *_language_choices(),
        ]

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

    def clean_organized_by(self):
        return clean_printed_text(self.cleaned_data["organized_by"])

    def clean_deadline_line(self):
        return clean_printed_text(self.cleaned_data["deadline_line"])

    def clean_second_language(self):
        second = self.cleaned_data["second_language"]
        if second and second == self.cleaned_data.get("language"):
            raise ValidationError(
                _("Pick a language other than the first one, or none."), code="same_language"
            )
        return second

    def clean_batch_label(self):
        return clean_typed_text(self.cleaned_data["batch_label"])  # shown to staff, not printed

    def clean_accent(self):
        return clean_accent(self.cleaned_data["accent"])

    def clean(self):
        """The print-run rules (organizing/flyers/rules.py) on what the fields let through;
        the text was checked field by field already, with the same rules."""
        cleaned = super().clean()
        design, copies = cleaned.get("design"), cleaned.get("copies")
        if design and copies:
            try:
                print_run_check(petition=self.petition, design=design, copies=copies)
            except ValidationError as exc:
                apply_validation_error(self, exc)
        return cleaned

    def text(self) -> FlyerText:
        fields = (
            "headline",
            "subheadline",
            "body",
            "call_to_action",
            "privacy_line",
            "organized_by",
            "deadline_line",
        )
        return FlyerText(
            **{name: self.cleaned_data[name] for name in fields},
            language=self.cleaned_data["language"],
            second_language=self.cleaned_data["second_language"],
            accent=self.cleaned_data["accent"],
        )
