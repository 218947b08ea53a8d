"""An organizer in Chromium (desktop): the flyer designer warns about a too light colour as
it is picked and remembers the last PDF's text and colour; the webhooks page copies the
secret to the clipboard and sends a test notice that arrives. axe-core on each state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from organizing.models import Webhook
from tests.browser.axe import BLOCKING, assert_accessible, axe_violations
from tests.browser.conftest import sign_in
from tests.integration.conftest import WebhookReceiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/work/shots/posters")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def flyer_petition(draft_petition):
    from petition.services import petition_publish

    draft_petition.accepts_flyer = True
    draft_petition.save()
    return petition_publish(petition=draft_petition)


def pick_colour(page, value):
    page.locator("#id_accent").evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        value,
    )


def test_the_designer_warns_about_contrast_live_and_remembers_the_last_pdf(
    live_server, desktop, organizer, flyer_petition
):
    page = desktop
    page.set_default_timeout(90_000)  # the PDF is made in the request, on a shared machine
    sign_in(page, live_server, organizer)
    page.goto(f"{live_server.url}/staff/p/{flyer_petition.slug}/flyers/")
    warning = page.locator("#accent-contrast")
    expect(warning).to_be_hidden()
    assert "accent-contrast" in page.locator("#id_accent").get_attribute("aria-describedby")

    pick_colour(page, "#f2c94c")  # a light yellow: white text on it is unreadable
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("contrast of 1.6:1")
    poster = page.locator("#flyer-preview .preview-sheet[data-design=poster]")
    shot(page, "designer-contrast-warning")
    # axe finds what the warning says: the preview's white text on the light colour. Nothing
    # else on the page may fail.
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert [v["id"] for v in blocking] == ["color-contrast"], blocking
    assert all(".flyer" in target for target in blocking[0]["targets"]), blocking

    pick_colour(page, "#7a1f3d")
    expect(warning).to_be_hidden()
    page.locator("#id_body").fill("We want a say before the tools arrive.")
    page.locator("#id_organized_by").fill("Organized by the night shift")
    expect(poster.locator(".organized-by")).to_have_text("Organized by the night shift")
    assert "no-body" not in poster.locator(".flyer").get_attribute("class")
    page.locator("#id_headline").fill("No AI watching")
    assert "headline-short" in poster.locator(".flyer").get_attribute("class")
    page.locator("#id_batch_label").fill("Break room, Building 2")
    page.locator("#id_copies").fill("1")
    page.get_by_role("button", name="Make the PDF").click()
    page.get_by_role("link", name="Download the PDF").wait_for()

    page.goto(f"{live_server.url}/staff/p/{flyer_petition.slug}/flyers/")
    assert page.locator("#id_accent").input_value() == "#7a1f3d"
    assert page.locator("#id_body").input_value() == "We want a say before the tools arrive."
    assert page.locator("#id_headline").input_value() == "No AI watching"
    expect(poster.locator(".headline")).to_have_text("No AI watching")
    band = poster.locator(".band")
    assert band.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(122, 31, 61)"
    expect(page.get_by_role("link", name="Download “Break room, Building 2”")).to_be_visible()
    shot(page, "designer-remembered")
    assert_accessible(page, "designer with remembered settings")
    assert page.problems == []


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_the_webhooks_page_copies_the_secret_and_sends_a_test_notice(
    live_server, desktop, organizer, campaign, receiver, settings
):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = False
    page = desktop
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, live_server, organizer)
    page.goto(f"{live_server.url}/staff/c/{campaign.slug}/webhooks/")
    page.get_by_label("Address").fill(receiver.url)
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".error")).to_contain_text("COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK=1")
    shot(page, "webhook-loopback-hint")
    assert_accessible(page, "webhook refused with the demo hint")
    assert page.problems == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    page.problems.clear()  # the refusal's 400, as meant

    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = True
    page.get_by_role("button", name="Add").click()
    secret = page.locator("#webhook-secret").inner_text()
    page.get_by_role("button", name="Copy the secret").click()
    expect(page.locator(".copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shot(page, "webhook-secret-copied")
    assert_accessible(page, "webhook added, secret copied")

    page.get_by_role("button", name="Send a test notice").click()
    expect(page.locator(".webhook-test-result")).to_contain_text("Delivered")
    ((_headers, raw, status),) = receiver.requests
    assert status == 200 and json.loads(raw)["test"] is True
    assert Webhook.objects.get().url == receiver.url
    shot(page, "webhook-test-delivered")
    assert_accessible(page, "test notice delivered")
    page.get_by_role("link", name="How your receiver checks the signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Checking a webhook's signature")
    shot(page, "webhook-guide")
    assert_accessible(page, "webhook guide")
    assert page.problems == []


def test_the_new_campaign_form_suggests_the_domain_and_lays_out_its_checkboxes(
    live_server, desktop
):
    """Review O3: the domain comes from the creator's own address, and each checkbox's label
    takes the form's width with its help text below, not a narrow column beside it."""
    from organizing.models import Role
    from tests.factories import MembershipFactory

    creator = MembershipFactory(
        role=Role.ORGANIZER, user__is_site_organizer=True, user__email="lee@acme.example"
    ).user
    page = desktop
    sign_in(page, live_server, creator)
    page.goto(f"{live_server.url}/staff/campaigns/new/")
    assert page.locator("#id_email_domains_text").input_value() == "acme.example"
    expect(page.locator("#id_email_domains_text_helptext")).to_contain_text(
        "acme.example comes from your own address"
    )
    label = page.locator("label[for=id_entries_need_review]").bounding_box()
    help_text = page.locator("#id_entries_need_review_helptext").bounding_box()
    form = page.locator("form.stack").bounding_box()
    assert label["width"] > 0.6 * form["width"], (label, form)  # one line, not a column
    assert help_text["y"] >= label["y"] + label["height"] - 1  # under the label
    assert abs(help_text["x"] - label["x"]) < 2  # aligned with it
    shot(page, "new-campaign-form")
    assert_accessible(page, "new campaign form")
    assert page.problems == []
