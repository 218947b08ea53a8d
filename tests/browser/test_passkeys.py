"""A staff member without MFA is sent to set it up, adds a passkey (Chromium's virtual
authenticator), and later signs in with the passkey alone. axe-core checks every page on
the way, with the CSP enforced."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from organizing.models import Role
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_member_adds_a_passkey_and_signs_in_with_it(live_server, page, settings):
    # The live server speaks plain http on localhost (a secure context for the browser);
    # production keeps this False.
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
    membership = MembershipFactory(role=Role.ORGANIZER, user__totp=False)
    user = membership.user
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    page.goto(f"{live_server.url}/accounts/login/")
    assert_accessible(page, "sign-in page")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.locator(".form-errors, .errorlist").first).to_be_visible()
    assert_accessible(page, "sign-in page with an error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    # Let the sign-in land first: a goto now would cancel the POST and leave us signed out.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{live_server.url}/staff/")
    page.wait_for_url("**/accounts/2fa/")  # no second factor yet: sent to set one up
    assert_accessible(page, "two-factor set-up")

    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/?passwordless")
    if "/reauthenticate/" in page.url:
        assert_accessible(page, "password asked again")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url("**/webauthn/add/**")
    assert_accessible(page, "add a passkey")
    page.get_by_label("Name").fill("My phone")
    page.get_by_label("Passwordless").check()
    page.locator("#mfa_webauthn_add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    assert_accessible(page, "passkey added")

    page.goto(f"{live_server.url}/staff/")
    expect(page.get_by_role("heading", name="Your campaigns")).to_be_visible()
    assert_accessible(page, "dashboard after the passkey")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(f"{live_server.url}/staff/")
    page.wait_for_url("**/accounts/login/**")  # signed out for real
    assert_accessible(page, "signed out, asked to sign in")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    assert_accessible(page, "signed in with the passkey")
    page.goto(f"{live_server.url}/staff/")
    expect(page.get_by_role("heading", name="Your campaigns")).to_be_visible()
    assert page.problems == []
