"""Team changes with context, in Chromium (review O15 to O17, M1): the invitation page says what
it is; Remove and Leave ask first, name the person and the campaign, and work without
JavaScript; the invite form warns about the employer's domain. axe-core checks each page.

Screenshots go to $COUNTERSIGN_SCREENSHOTS when set (never the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from organizing.invitations import invitation_token
from organizing.models import Membership, Role
from organizing.services import invitation_create
from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    folder = os.environ.get("COUNTERSIGN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_remove_asks_first_and_the_message_names_who(live_server, browser, size):
    viewport = {"desktop": (1280, 900), "phone": (390, 844)}[size]
    # The question and the removal are a link and a plain form: no script is involved
    # (axe-core needs scripts, so the context keeps them on).
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        organizer = MembershipFactory(role=Role.ORGANIZER, campaign__name="Warehouse & Office")
        campaign = organizer.campaign
        jo = MembershipFactory(campaign=campaign, role=Role.MODERATOR)
        MembershipFactory(campaign=campaign, role=Role.ORGANIZER)  # so the organizer may leave
        sign_in(page, live_server, organizer.user)
        page.goto(f"{live_server.url}/staff/c/{campaign.slug}/")
        page.get_by_role("link", name="Remove…").first.click()
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_have_text(f"Remove {jo.user.email} from the team?")
        expect(page.locator("main")).to_contain_text("Warehouse & Office as Moderator")
        _fits(page)
        _shot(page, f"team17-remove-confirm-{size}")
        assert_accessible(page, f"remove confirmation ({size})")
        assert Membership.objects.filter(pk=jo.pk).exists()  # asking changed nothing

        page.get_by_role("button", name="Remove from the team").click()
        expect(page.get_by_text(f"{jo.user.email} was removed from the team")).to_be_visible()
        assert not Membership.objects.filter(pk=jo.pk).exists()
        _shot(page, f"team17-removed-{size}")

        page.get_by_role("link", name="Leave…").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Leave Warehouse & Office?")
        _fits(page)
        _shot(page, f"team17-leave-confirm-{size}")
        assert_accessible(page, f"leave confirmation ({size})")
        page.get_by_role("link", name="Cancel").click()
        expect(page).to_have_url(f"{live_server.url}/staff/c/{campaign.slug}/")
        assert Membership.objects.filter(pk=organizer.pk).exists()

        # Inviting at the employer's domain (example.com) asks for a second click.
        page.get_by_label("Email address").fill("jo@example.com")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text("the employer's domain")).to_be_visible()
        _fits(page)
        _shot(page, f"team17-invite-warning-{size}")
        assert_accessible(page, f"invite form with the work-address warning ({size})")
    finally:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_invitation_page_says_campaign_role_and_inviter(live_server, browser, size):
    viewport = {"desktop": (1280, 900), "phone": (390, 844)}[size]
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        organizer = MembershipFactory(role=Role.ORGANIZER)
        invitation = invitation_create(
            email="jo@personal.example",
            role=Role.MODERATOR,
            campaign=organizer.campaign,
            invited_by=organizer.user,
        )
        page.goto(f"{live_server.url}/invitations/{invitation_token(invitation)}/")
        main = page.locator("main")
        expect(main).to_contain_text(organizer.campaign.name)
        expect(main).to_contain_text("Moderator")
        expect(main).to_contain_text(organizer.user.email)
        _fits(page)
        _shot(page, f"team17-invitation-{size}")
        assert_accessible(page, f"invitation page ({size})")
        page.get_by_role("link", name="Create your account").click()
        expect(page).to_have_url(f"{live_server.url}/accounts/signup/")
    finally:
        context.close()
