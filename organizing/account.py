"""A staff member's own settings: for now the language of their pages and mail."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import User


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of my staff pages and email"),
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Notices, invitations you send and moderation alerts are written in it. "
            "Signers choose their own language on each page."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Language names in their own language: each reader finds theirs.
        self.fields["language"].choices = [("", _("My browser's language")), *settings.LANGUAGES]


def user_language_set(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])
