"""The milestone parts of the staff pages in Chromium: the growth chart draws under the
CSP, the milestone table tells delivery states, a webhook's secret shows once, and forms
speak plainly. Screenshots go to $COUNTERSIGN_SCREENSHOTS when set (never the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from organizing.models import Role, Webhook
from petition.services import petition_publish
from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import MembershipFactory, PetitionFactory
from tests.organizing.notices.helpers import sign_and_publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _problems(page) -> list[str]:
    # A form sent with errors answers 400 on purpose; Chromium logs that status.
    return [p for p in page.problems if "status of 400" not in p]


def _shot(page, name: str) -> None:
    folder = os.environ.get("COUNTERSIGN_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_the_petition_page_draws_growth_and_milestones(live_server, desktop, page):
    membership = MembershipFactory(role=Role.ORGANIZER)
    petition = petition_publish(
        petition=PetitionFactory(campaign=membership.campaign, goal=60, accepts_flyer=True)
    )
    sign_and_publish(petition, 12)
    sign_and_publish(petition, 20, level="flyer")
    sign_in(desktop, live_server, membership.user)

    desktop.goto(f"{live_server.url}/staff/p/{petition.slug}/")
    chart = desktop.locator("svg.chart-growth")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 100
    assert desktop.locator(".chart-line").evaluate("e => getComputedStyle(e).stroke") != "none"
    expect(desktop.get_by_role("row", name="25")).to_contain_text("1 delivered")
    expect(desktop.locator("dt", has_text="Code from a flyer tab")).to_be_visible()
    assert_accessible(desktop, "staff petition page with chart")
    _shot(desktop, "petition-dashboard")
    assert _problems(desktop) == []

    sign_in(page, live_server, membership.user)
    page.goto(f"{live_server.url}/staff/p/{petition.slug}/")
    expect(page.locator("svg.chart-growth")).to_be_visible()
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    _shot(page, "petition-dashboard-phone")
    assert_accessible(page, "staff petition page with chart, on a phone")
    assert _problems(page) == []


def test_an_organizer_registers_a_webhook_and_sees_the_secret_once(live_server, desktop):
    membership = MembershipFactory(role=Role.ORGANIZER)
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/c/{membership.campaign.slug}/")
    desktop.get_by_role("link", name="Webhooks").click()
    desktop.wait_for_url(f"{live_server.url}/staff/c/{membership.campaign.slug}/webhooks/")
    assert_accessible(desktop, "webhooks page")

    desktop.get_by_label("Address").fill("https://10.0.0.7/hook")
    desktop.get_by_role("button", name="Add").click()
    expect(desktop.get_by_text("never go to private")).to_be_visible()
    assert_accessible(desktop, "webhook form with an error")

    desktop.get_by_label("Address").fill("https://chat.example.org/hooks/countersign")
    desktop.get_by_label("Label").fill("Team chat")
    desktop.get_by_role("button", name="Add").click()
    expect(desktop.locator("code.secret")).to_contain_text("whsec_")
    _shot(desktop, "webhook-secret")
    assert_accessible(desktop, "webhook secret shown once")
    desktop.goto(desktop.url)
    expect(desktop.locator("code.secret")).to_have_count(0)
    assert_accessible(desktop, "webhook listed")
    assert Webhook.objects.get().label == "Team chat"
    assert _problems(desktop) == []


def test_thresholds_form_refuses_words_plainly(live_server, desktop):
    membership = MembershipFactory(role=Role.ORGANIZER)
    petition = petition_publish(petition=PetitionFactory(campaign=membership.campaign))
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/p/{petition.slug}/")
    desktop.get_by_role("link", name="Milestone settings").click()
    desktop.wait_for_url(f"{live_server.url}/staff/p/{petition.slug}/milestones/")
    assert_accessible(desktop, "milestone settings")
    desktop.get_by_label("Other thresholds").fill("75, lots")
    desktop.get_by_role("button", name="Save").click()
    expect(desktop.get_by_text("“lots” is not a whole number")).to_be_visible()
    assert_accessible(desktop, "milestone settings with an error")
    _shot(desktop, "milestone-settings-error")
    desktop.get_by_label("Other thresholds").fill("75, 150")
    desktop.get_by_role("button", name="Save").click()
    expect(desktop.get_by_text("Milestone settings saved.")).to_be_visible()
    assert_accessible(desktop, "milestone settings saved")
    assert _problems(desktop) == []
