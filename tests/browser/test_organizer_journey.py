"""An organizer signs in with a password and TOTP, writes a petition, publishes it, and the
public page shows it, all in Chromium, with no CSP violation along the way."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from organizing.models import Role
from petition.models import Petition
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_organizer_signs_in_with_totp_creates_and_publishes_a_petition(live_server, page):
    membership = MembershipFactory(role=Role.ORGANIZER)
    user, campaign = membership.user, membership.campaign

    page.goto(f"{live_server.url}/staff/")
    assert "/accounts/login/" in page.url
    assert_accessible(page, "sign-in page")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()

    page.wait_for_url("**/accounts/2fa/authenticate/**")
    assert page.title() == "Two-factor check · Countersign"
    # One main action; the alternative and "Cancel" do not look like it.
    assert page.get_by_role("button", name="Sign In", exact=True).get_attribute("class") == "button"
    key = page.get_by_role("button", name="Use a security key")
    assert key.get_attribute("class") == "button secondary"
    assert page.get_by_role("button", name="Cancel").get_attribute("class") == "link-button"
    assert_accessible(page, "two-factor page")
    page.locator("input[name=code]").fill("000000")
    page.get_by_role("button", name="Sign In", exact=True).click()
    assert page.locator("input[name=code]").get_attribute("aria-invalid") == "true"
    assert_accessible(page, "two-factor page with a wrong code")
    code = format_hotp_value(hotp_value(user.totp_secret, int(time.time()) // 30))
    page.locator("input[name=code]").fill(code)
    page.get_by_role("button", name="Sign In", exact=True).click()

    page.wait_for_url(f"{live_server.url}/staff/")
    assert_accessible(page, "dashboard")
    page.get_by_role("link", name=campaign.name).click()
    page.wait_for_url(f"{live_server.url}/staff/c/{campaign.slug}/")
    assert_accessible(page, "campaign page")
    page.get_by_role("link", name="New petition").click()
    page.wait_for_url(f"{live_server.url}/staff/c/{campaign.slug}/petitions/new/")
    assert_accessible(page, "new petition form")
    page.get_by_label("Title").fill("Give us our Fridays back")
    page.get_by_label("Short name").fill("fridays-back")
    page.get_by_label("Demands").fill("1. A **four-day** week\n2. No pay cut")
    page.get_by_label("Addressed to").fill("The board of directors")
    page.get_by_label("Signature goal").fill("250")
    page.get_by_role("button", name="Save").click()

    page.get_by_text("Draft saved").wait_for()
    assert_accessible(page, "draft with a flash message")
    page.get_by_role("link", name="Publish…").click()
    page.get_by_text("This cannot be undone").wait_for()
    assert_accessible(page, "publish confirmation")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_text("Published: people can sign now.").wait_for()
    assert_accessible(page, "published petition")
    assert Petition.objects.get(slug="fridays-back").status == Petition.Status.PUBLISHED

    page.get_by_role("link", name="View public page").click()
    page.wait_for_url(f"{live_server.url}/p/fridays-back/")
    assert page.get_by_role("heading", level=1).inner_text() == "Give us our Fridays back"
    assert page.locator(".demands strong").inner_text() == "four-day"
    assert page.get_by_text("Use your personal phone").is_visible()
    assert page.locator("progress.progress").get_attribute("value") == "0"
    assert_accessible(page, "public page")
    assert page.problems == []
