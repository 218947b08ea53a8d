"""The one customization point for django-allauth: sign-up by invitation only."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from allauth.account import app_settings as allauth_account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context

# The module allauth's own adapter counts failed logins with: its usages can be rolled back.
from allauth.core.internal import ratelimit
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

from petition.keys import server_secret
from petition.network import client_address, client_bucket

from .models import User

# Session key holding the address of the invitation the visitor opened.
INVITED_EMAIL_SESSION_KEY = "countersign_invited_email"
# Session key holding who signed up in this session, and when (see just_signed_up).
SIGNED_UP_SESSION_KEY = "countersign_signed_up"


def invited_email(request: HttpRequest | None) -> str | None:
    if request is None or not hasattr(request, "session"):
        return None
    return request.session.get(INVITED_EMAIL_SESSION_KEY)


def just_signed_up(request: HttpRequest | None) -> bool:
    """The signed-in user created their account in this session less than
    ACCOUNT_REAUTHENTICATION_TIMEOUT seconds ago: they typed their new password moments ago."""
    if request is None or not hasattr(request, "session") or not request.user.is_authenticated:
        return False
    record = request.session.get(SIGNED_UP_SESSION_KEY)
    if not isinstance(record, dict) or record.get("user") != str(request.user.pk):
        return False
    timeout = allauth_account_settings.REAUTHENTICATION_TIMEOUT
    return 0 <= time.time() - float(record.get("at", 0)) < timeout


def client_tag(request: HttpRequest) -> str:
    """Who allauth's limits count against: a keyed hash of the client's bucket (its IPv4
    address, or its IPv6 /64), so the cache holds no staff member's address either."""
    return hmac.new(
        server_secret(b"login-client"), client_bucket(request).encode(), hashlib.sha256
    ).hexdigest()[:32]


class AccountAdapter(DefaultAccountAdapter):
    @staticmethod
    def mail_language(user, email: str) -> str:
        """Mail to a staff member is written in their account's language (User.language), like
        every other mail to staff, whatever page asked for it; to an address with no account,
        or an account that follows the browser, in the page's language."""
        user = user or User.objects.filter(email__iexact=email).first()
        chosen = getattr(user, "language", "")
        return user.mail_language if chosen else translation.get_language()

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        with translation.override(self.mail_language(context.get("user"), email)):
            super().send_mail(template_prefix, email, context)

    def send_password_reset_mail(self, user, email: str, context: dict) -> None:
        # allauth made the link in the page's language; the mail may be in another one, and
        # the page the link opens should read like the mail that carried it.
        with translation.override(self.mail_language(user, email)):
            key = f"{context['uid']}-{context['key']}"
            context = {**context, "password_reset_url": self.get_reset_password_from_key_url(key)}
        super().send_password_reset_mail(user, email, context)

    def render_mail(self, template_prefix, email, context, headers=None):
        # Plain-text mail has no lang attribute: the header names the language (RFC 3282).
        headers = {"Content-Language": translation.get_language(), **(headers or {})}
        return super().render_mail(template_prefix, email, context, headers=headers)

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's login limits count per client address. Behind a reverse proxy the socket
        # address is the proxy's, and ten failed logins from anyone would lock every
        # organizer out; read it the way the rest of the site does (COUNTERSIGN_TRUSTED_PROXIES).
        # allauth only uses it as a rate-limit bucket here (no user sessions, no security
        # mails), so it gets the keyed hash, never the address itself.
        if not client_address(request):
            raise PermissionDenied("Unable to determine the client address.")
        return client_tag(request)

    # Failed logins. allauth counts them per address ("10/m/ip") and per
    # account ("5/5m/key"); keyed on the account alone, five wrong passwords every five
    # minutes from anywhere kept the account's owner out. The per-account key now carries
    # the client too (a keyed hash of its address, IPv6 per /64, like the signer limits),
    # so one client's failures lock out only that client; a higher ceiling per account over
    # all clients together ("login_failed_account" in ACCOUNT_RATE_LIMITS) still bounds a
    # password guessed from many addresses. A password reset clears the reset client's count.
    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{client_tag(request)}"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        super().pre_authenticate(request, **credentials)
        account = super()._get_login_attempts_cache_key(request, **credentials)
        ceiling = ratelimit.consume(
            request, app="allauth.account", action="login_failed_account", key=account
        )
        if not ceiling:
            raise self.validation_error("too_many_login_attempts")
        # A successful login rolls back this attempt on both counts, as allauth does.
        self._login_failed_rl_usage.usage.extend(ceiling.usage)

    def _delete_login_attempts_cached_email(self, request: HttpRequest, **credentials: Any) -> None:
        # After a password reset (itself rate limited), as allauth wipes the account's count.
        super()._delete_login_attempts_cached_email(request, **credentials)
        ratelimit.clear(
            request,
            app="allauth.account",
            action="login_failed_account",
            key=super()._get_login_attempts_cache_key(request, **credentials),
        )

    def post_login(self, request: HttpRequest, user, **kwargs: Any):
        if kwargs.get("signup"):
            request.session[SIGNED_UP_SESSION_KEY] = {"user": str(user.pk), "at": time.time()}
        return super().post_login(request, user, **kwargs)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        # Review M1: staff must set up two-factor right after signing up, and allauth asked
        # for the password again first, a minute after it was chosen. Within the
        # reauthentication window after sign-up (ACCOUNT_REAUTHENTICATION_TIMEOUT, 300 s by
        # default) the new password counts as that confirmation; after it, or in any later
        # session, allauth asks as usual.
        if just_signed_up(context.request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

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
