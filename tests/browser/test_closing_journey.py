"""Closing, delivery and moderation that can be corrected, in Chromium on a desktop (review
O20-O22, M2, M5): the close page lists a name still waiting; delivery asks for its day and
a note; a moderator hides a name only, for a preset reason, then shows it again. axe-core
on every page, no CSP violation. Screenshots go to $COUNTERSIGN_SCREENSHOTS if set."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import expect

from organizing.models import AuditEntry, Role
from petition.models import EntryReview, Petition
from petition.services import petition_publish
from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import MembershipFactory, PetitionFactory
from tests.organizing.test_moderation import sign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _problems(page) -> list[str]:
    # A form sent with errors answers 400 on purpose; Chromium logs that status.
    return [p for p in page.problems if "status of 400" not in p]


def _shot(page, name: str) -> None:
    folder = os.environ.get("COUNTERSIGN_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_close_with_a_waiting_name_then_deliver_with_a_day_and_note(live_server, desktop):
    membership = MembershipFactory(role=Role.ORGANIZER)
    organizer, campaign = membership.user, membership.campaign
    petition = petition_publish(petition=PetitionFactory(campaign=campaign, goal=25))
    sign(petition, display_name="Dana from Logistics", comment="Waiting for a moderator")
    sign_in(desktop, live_server, organizer)
    base = live_server.url

    desktop.goto(f"{base}/staff/p/{petition.slug}/")
    desktop.get_by_role("link", name="Close signing…").click()
    desktop.wait_for_url(f"**/p/{petition.slug}/close/")
    checklist = desktop.locator(".checklist")
    expect(checklist).to_contain_text("1 name or comment still waits for review.")
    expect(checklist.get_by_role("link", name="Review them")).to_have_attribute(
        "href", f"/staff/c/{campaign.slug}/moderation/#queue-title"
    )
    assert_accessible(desktop, "close confirmation with a checklist")
    _shot(desktop, "01-close-checklist")
    desktop.get_by_role("button", name="Close signing").click()
    desktop.wait_for_url(f"**/staff/p/{petition.slug}/")
    expect(desktop.get_by_text("Closed: no more signatures.")).to_be_visible()
    expect(desktop.locator(".milestones")).not_to_contain_text("Next:")
    assert_accessible(desktop, "closed petition")
    _shot(desktop, "02-closed")

    desktop.get_by_role("link", name="Mark as delivered…").click()
    desktop.wait_for_url(f"**/p/{petition.slug}/deliver/")
    erase = timezone.localdate() + timedelta(days=campaign.retention_days)
    expect(desktop.get_by_role("alert")).to_contain_text(
        f"Names and comments are erased on {date_format(erase, 'DATE_FORMAT')}."
    )
    expect(desktop.locator(".checklist")).to_contain_text("Nobody has downloaded")
    day = desktop.get_by_label("Delivered on")
    expect(day).to_have_value(timezone.localdate().isoformat())
    assert_accessible(desktop, "mark as delivered")
    _shot(desktop, "03-deliver-form")
    # A day in the future is refused on the form, and nothing changes.
    day.fill((timezone.localdate() + timedelta(days=2)).isoformat())
    desktop.get_by_label("Note (optional)").fill("Handed to HR at the staff meeting")
    desktop.get_by_role("button", name="Mark as delivered").click()
    expect(desktop.get_by_text("The day of delivery cannot be in the future.")).to_be_visible()
    assert Petition.objects.get(pk=petition.pk).status == "closed"
    assert_accessible(desktop, "mark as delivered with an error")
    _shot(desktop, "04-deliver-error")
    desktop.get_by_label("Delivered on").fill(timezone.localdate().isoformat())
    desktop.get_by_role("button", name="Mark as delivered").click()
    desktop.wait_for_url(f"**/staff/p/{petition.slug}/")
    expect(desktop.get_by_text("Marked as delivered.")).to_be_visible()
    expect(desktop.locator(".delivered-on")).to_contain_text("Handed to HR at the staff meeting")
    assert_accessible(desktop, "delivered petition")
    _shot(desktop, "05-delivered")
    stored = Petition.objects.get(pk=petition.pk)
    assert (stored.delivered_on, stored.delivery_note) == (
        timezone.localdate(),
        "Handed to HR at the staff meeting",
    )
    desktop.goto(f"{base}/staff/p/{petition.slug}/delivery/")
    expect(desktop.get_by_text("Signed without a name")).to_have_count(0)
    expect(desktop.get_by_role("link", name="US Letter")).to_be_visible()
    _shot(desktop, "06-delivery-document")
    assert _problems(desktop) == []


def test_a_moderator_hides_a_name_only_then_shows_it_again(live_server, desktop, page):
    membership = MembershipFactory(role=Role.MODERATOR)
    moderator, campaign = membership.user, membership.campaign
    petition = petition_publish(petition=PetitionFactory(campaign=campaign))
    signature = sign(petition, display_name="Tom, desk 4B", comment="Cut the overtime")
    sign_in(desktop, live_server, moderator)
    base = live_server.url

    # On a phone (moderators use one, review M8): the hide form fits without sideways scroll.
    sign_in(page, live_server, moderator)
    page.goto(f"{base}/staff/c/{campaign.slug}/moderation/")
    page.locator(".entry", has_text="Cut the overtime").get_by_text("Hide…").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page, "moderation on a phone with the hide form open")
    _shot(page, "11-hide-form-phone")
    assert _problems(page) == []

    desktop.goto(f"{base}/staff/")
    waiting = desktop.get_by_role("link", name="1 name or comment to review")
    expect(waiting).to_be_visible()
    assert_accessible(desktop, "moderator's dashboard with what waits")
    _shot(desktop, "07-dashboard-waiting")
    waiting.click()
    desktop.wait_for_url(f"**/c/{campaign.slug}/moderation/")

    entry = desktop.locator(".entry", has_text="Cut the overtime").first
    entry.get_by_text("Hide…").click()
    entry.get_by_label("The name only").check()
    entry.get_by_label("Could identify the signer or someone else").check()
    assert_accessible(desktop, "moderation with the hide form open")
    _shot(desktop, "08-hide-name-only")
    entry.get_by_role("button", name="Hide", exact=True).click()
    expect(desktop.get_by_text("Name hidden, comment shown.")).to_be_visible()
    hidden = desktop.locator("section", has=desktop.locator("#hidden-title"))
    expect(hidden).to_contain_text("Could identify the signer or someone else")
    expect(hidden).to_contain_text("Tom, desk 4B")
    assert_accessible(desktop, "moderation with a hidden entry")
    _shot(desktop, "09-hidden-list")
    signature.refresh_from_db()
    assert (signature.review, signature.hidden_part) == (EntryReview.HIDDEN, "name")

    public = desktop.context.new_page()
    public.goto(f"{base}/p/{petition.slug}/")
    expect(public.get_by_text("Cut the overtime")).to_be_visible()
    expect(public.get_by_text("desk 4B")).to_have_count(0)
    public.close()

    hidden.get_by_role("button", name="Show again").click()
    expect(desktop.get_by_text("Shown again on the petition page.")).to_be_visible()
    expect(desktop.locator("#hidden-title + p + p")).to_have_text("Nothing here.")
    assert_accessible(desktop, "moderation after show again")
    _shot(desktop, "10-shown-again")
    signature.refresh_from_db()
    assert signature.review == EntryReview.APPROVED
    actions = list(AuditEntry.objects.filter(campaign=campaign).values_list("action", flat=True))
    assert {"entry_hide", "entry_show"} <= set(actions)
    assert _problems(desktop) == []
