"""A moderator signs in with TOTP, makes a batch of code cards and prints them; a coworker
signs with one card and leaves a comment; the moderator approves it and the public page
shows it. Two browsers (staff on a desktop, the signer on a phone), no CSP violation."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import expect
from pypdf import PdfReader

from organizing.models import AuditEntry, Role
from petition.models import EntryReview, Signature
from petition.services import petition_publish
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD, MembershipFactory, PetitionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_moderator_makes_cards_a_signer_uses_one_and_the_comment_goes_public(
    live_server, desktop, page, tmp_path
):
    membership = MembershipFactory(role=Role.MODERATOR)
    moderator, campaign = membership.user, membership.campaign
    petition = petition_publish(petition=PetitionFactory(campaign=campaign))

    # The moderator signs in: password, then a TOTP code.
    desktop.goto(f"{live_server.url}/staff/")
    desktop.get_by_label("Email").fill(moderator.email)
    desktop.get_by_label("Password").fill(PASSWORD)
    desktop.get_by_role("button", name="Sign In", exact=True).click()
    desktop.wait_for_url("**/accounts/2fa/authenticate/**")
    assert_accessible(desktop, "moderator's two-factor page")
    code = format_hotp_value(hotp_value(moderator.totp_secret, int(time.time()) // 30))
    desktop.locator("input[name=code]").fill(code)
    desktop.get_by_role("button", name="Sign In", exact=True).click()
    desktop.wait_for_url(f"{live_server.url}/staff/")

    # A batch of cards, printed.
    desktop.goto(f"{live_server.url}/staff/p/{petition.slug}/codes/")
    assert_accessible(desktop, "code batches")
    desktop.get_by_label("How many codes").fill("10")
    desktop.get_by_label("Note for this batch").fill("canteen")
    desktop.get_by_role("button", name="Make code cards (PDF)").click()
    link = desktop.get_by_role("link", name="Download the PDF")
    expect(link).to_be_visible(timeout=60_000)  # the PDF is made before the redirect
    assert_accessible(desktop, "code cards ready")
    with desktop.expect_download() as download:
        link.click()
    pdf = tmp_path / "cards.pdf"
    download.value.save_as(pdf)
    text = "".join(page_.extract_text() for page_ in PdfReader(pdf).pages)
    codes = sorted(set(re.findall(r"[0-9A-Z]{5}-[0-9A-Z]{5}", text)))
    assert len(codes) == 10

    # A coworker signs with one card, on their phone, with a name and a comment.
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={codes[3]}")
    page.locator("#code-submit").click()
    expect(page.locator("#step-credential")).to_be_visible()
    page.locator("#show-name").check()
    page.locator("#display-name").fill("Sam")
    page.locator("#comment").fill("Tracking every keystroke is not management")
    assert_accessible(page, "credential step with a public name and a comment")
    page.locator("#sign-now").click()
    expect(page.locator("#step-done")).to_be_visible()
    assert_accessible(page, "signed, comment waiting for review")
    public = page.goto(f"{live_server.url}/p/{petition.slug}/")
    assert "Tracking every keystroke" not in public.text()  # held for review

    # The moderator approves it from the moderation page.
    desktop.goto(f"{live_server.url}/staff/c/{campaign.slug}/moderation/")
    expect(desktop.get_by_text("1 name or comment to review")).to_be_visible()
    expect(desktop.get_by_text("Tracking every keystroke is not management")).to_be_visible()
    expect(desktop.get_by_text("canteen")).to_be_visible()
    assert_accessible(desktop, "moderation page")
    desktop.get_by_role("button", name="Approve").click()
    expect(desktop.get_by_text("Approved: it shows on the petition page.")).to_be_visible()
    assert_accessible(desktop, "moderation page after approving")
    signature = Signature.objects.get(petition=petition)
    assert signature.review == EntryReview.APPROVED

    # The public page shows it.
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    entries = page.locator("section.entries")
    expect(entries.get_by_text("Tracking every keystroke is not management")).to_be_visible()
    expect(entries.get_by_text("Sam")).to_be_visible()
    assert_accessible(page, "public page with an approved comment")
    page.screenshot(path="/tmp/moderation-public.png", full_page=True)
    desktop.goto(f"{live_server.url}/staff/c/{campaign.slug}/moderation/")
    desktop.screenshot(path="/tmp/moderation-page.png", full_page=True)

    actions = set(AuditEntry.objects.filter(actor_id=moderator.pk).values_list("action", flat=True))
    assert {"code_batch_create", "entry_approve"} <= actions
    assert page.problems == [] and desktop.problems == []
