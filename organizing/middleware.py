"""Every staff page needs a signed-in user with a second factor (threat model P5).

allauth offers MFA but has no switch to require it, so this middleware does: any view
routed under the `staff` URL namespace sends an anonymous visitor to the login page and a
signed-in user without TOTP or a passkey to MFA setup. Default-deny by namespace means a
new staff view cannot forget the check.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from config.i18n import path_without_language

STAFF_NAMESPACE = "staff"
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def user_has_mfa(user) -> bool:
    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exists()


class StaffMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or STAFF_NAMESPACE not in match.namespaces:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_has_mfa(request.user):
            messages.warning(
                request,
                _(
                    "Staff pages need two-factor authentication. Set up an authenticator app "
                    "or a passkey to continue."
                ),
            )
            return redirect("mfa_index")
        return None


# Staff pages post HTML forms. Under `Referrer-Policy: no-referrer` browsers send
# `Origin: null` with those posts, which Django's CSRF check rightly refuses. Staff pages
# therefore use `same-origin` (nothing leaves the site); signer pages keep `no-referrer`.
STAFF_PATH_PREFIXES = ("/staff/", "/accounts/", "/invitations/")


class StaffReferrerPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if path_without_language(request.path).startswith(STAFF_PATH_PREFIXES):
            response.headers["Referrer-Policy"] = "same-origin"
        return response
