"""The one customization point for django-allauth: sign-up by invitation only."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext as _

# Session key holding the address of the invitation the visitor opened.
INVITED_EMAIL_SESSION_KEY = "countersign_invited_email"


def invited_email(request: HttpRequest | None) -> str | None:
    if request is None or not hasattr(request, "session"):
        return None
    return request.session.get(INVITED_EMAIL_SESSION_KEY)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Only someone who opened a valid invitation link may create an account (P5).
        return invited_email(request) is not None

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        expected = invited_email(context.request)
        if expected is not None and email.lower() != expected.lower():
            raise forms.ValidationError(
                _("Sign up with the address the invitation was sent to: %(email)s")
                % {"email": expected}
            )
        return email
