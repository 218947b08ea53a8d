"""The one customization point for django-allauth: sign-up by invitation only."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from petition.network import client_address

# Session key holding the address of the invitation the visitor opened.
INVITED_EMAIL_SESSION_KEY = "countersign_invited_email"


def invited_email(request: HttpRequest | None) -> str | None:
    if request is None or not hasattr(request, "session"):
        return None
    return request.session.get(INVITED_EMAIL_SESSION_KEY)


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's login limits count per client address. Behind a reverse proxy the socket
        # address is the proxy's, and ten failed logins from anyone would lock every
        # organizer out; read it the way the rest of the site does (COUNTERSIGN_TRUSTED_PROXIES).
        address = client_address(request)
        if not address:
            raise PermissionDenied("Unable to determine the client address.")
        return address

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
