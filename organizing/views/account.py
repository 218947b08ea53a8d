"""The staff member's own account page: their language (passwords and two-factor
authentication are allauth's pages, linked from here)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from config.i18n import path_without_language

from ..account import LanguageForm, user_language_set


def account(request: HttpRequest) -> HttpResponse:
    """Any signed-in staff member, for themselves only (the MFA middleware guards it)."""
    form = LanguageForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        user_language_set(user=request.user, language=language)
        # The next page is in the new language: at its own address when one was chosen,
        # else unprefixed, where the browser's language applies.
        with translation.override(language or translation.get_language()):
            messages.success(request, _("Language saved."))
            path = reverse("staff:account")
        return redirect(path if language else path_without_language(path))
    return render(
        request, "organizing/account.html", {"form": form}, status=400 if form.errors else 200
    )
