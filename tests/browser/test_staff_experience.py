"""Staff pages tried as a newcomer would: reloads and double clicks make
nothing twice, errors speak plainly and are tied to their inputs, irreversible actions ask
first, and the pages fit a phone. axe-core checks every state on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from organizing.models import Campaign, Role
from petition.models import CodeBatch, Petition
from petition.services import petition_publish
from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import MembershipFactory, PetitionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_reloading_the_code_cards_page_makes_no_second_batch(live_server, desktop):
    membership = MembershipFactory(role=Role.MODERATOR)
    petition = petition_publish(petition=PetitionFactory(campaign=membership.campaign))
    sign_in(desktop, live_server, membership.user)

    desktop.goto(f"{live_server.url}/staff/p/{petition.slug}/codes/")
    assert_accessible(desktop, "code batches page")
    desktop.get_by_label("How many codes").fill("12")
    desktop.get_by_role("button", name="Make code cards (PDF)").click()
    # The cards' PDF is made before the redirect: seconds on a busy machine.
    expect(desktop.get_by_role("link", name="Download the PDF")).to_be_visible(timeout=60_000)
    assert_accessible(desktop, "code cards ready to download")

    desktop.reload()  # the POST redirected: a reload only shows the download again
    expect(desktop.get_by_role("link", name="Download the PDF")).to_be_visible()
    desktop.go_back()
    desktop.go_forward()
    assert CodeBatch.objects.count() == 1
    assert desktop.problems == []


def test_double_click_on_make_codes_makes_one_batch(live_server, desktop):
    membership = MembershipFactory(role=Role.MODERATOR)
    petition = petition_publish(petition=PetitionFactory(campaign=membership.campaign))
    sign_in(desktop, live_server, membership.user)

    desktop.goto(f"{live_server.url}/staff/p/{petition.slug}/codes/")
    desktop.get_by_label("How many codes").fill("12")
    desktop.get_by_role("button", name="Make code cards (PDF)").dblclick()
    expect(desktop.get_by_role("link", name="Download the PDF")).to_be_visible(timeout=60_000)
    assert CodeBatch.objects.count() == 1


def test_double_click_on_save_makes_one_petition(live_server, desktop):
    membership = MembershipFactory(role=Role.ORGANIZER)
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/c/{membership.campaign.slug}/petitions/new/")
    desktop.get_by_label("Title").fill("Fair rotas")
    desktop.get_by_label("Demands").fill("Rotas two weeks ahead.")
    desktop.get_by_label("Addressed to").fill("HR")
    desktop.get_by_label("Signature goal").fill("50")
    desktop.get_by_role("button", name="Save").dblclick()
    expect(desktop.get_by_text("Draft saved")).to_be_visible()
    assert Petition.objects.count() == 1
    # No short name typed: one was made from the title.
    assert Petition.objects.get().slug == "fair-rotas"


def test_petition_form_errors_are_plain_and_tied_to_their_inputs(live_server, desktop):
    membership = MembershipFactory(role=Role.ORGANIZER)
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/c/{membership.campaign.slug}/petitions/new/")
    assert_accessible(desktop, "empty petition form")

    desktop.get_by_label("Title").fill("Restore night breaks")
    desktop.get_by_label("Short name").fill("Night breaks!")
    desktop.get_by_label("Demands").fill("Two paid breaks.")
    desktop.get_by_label("Addressed to").fill("Management")
    desktop.get_by_label("Signature goal").fill("0")
    for box in ("Accept work email codes", "Accept codes from moderators"):
        desktop.get_by_label(box).uncheck()
    desktop.get_by_role("button", name="Save").click()

    errors = desktop.locator(".form-errors")
    expect(errors).to_contain_text("Accept at least one way for signers to verify.")
    text = desktop.locator("main").inner_text()
    for internal in ("petition_petition", "Constraint", "slug", "“"):
        assert internal not in text
    slug = desktop.get_by_label("Short name")
    assert slug.get_attribute("aria-invalid") == "true"
    described = slug.get_attribute("aria-describedby").split()
    messages = [desktop.locator(f"#{i}").inner_text() for i in described]
    assert any("lowercase letters" in m for m in messages)
    legend = desktop.locator("fieldset legend").first
    expect(legend).to_have_text("Ways signers can prove they work here")
    assert not Petition.objects.exists()
    assert_accessible(desktop, "petition form with errors")


def test_a_title_over_the_limit_is_counted_and_refused_not_cut(live_server, desktop):
    membership = MembershipFactory(role=Role.ORGANIZER)
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/c/{membership.campaign.slug}/petitions/new/")
    title = desktop.get_by_label("Title")
    expect(desktop.locator("#id_title_counter")).to_have_text("160 characters left")
    title.fill("x" * 150)
    expect(desktop.locator("#id_title_counter")).to_have_text("10 characters left")
    title.fill("y" * 161)
    assert title.input_value() == "y" * 161  # nothing cut while typing or pasting
    expect(desktop.locator("#id_title_counter")).to_have_text("1 character too many")
    assert_accessible(desktop, "title counter over the limit")
    desktop.get_by_label("Demands").fill("d")
    desktop.get_by_label("Addressed to").fill("a")
    desktop.get_by_label("Signature goal").fill("5")
    desktop.get_by_role("button", name="Save").click()
    expect(desktop.get_by_text("Use at most 160 characters; this has 161.")).to_be_visible()
    assert_accessible(desktop, "petition form with a title over the limit")
    assert desktop.get_by_label("Title").input_value() == "y" * 161
    assert not Petition.objects.exists()


def test_campaign_short_name_is_suggested_from_the_name(live_server, desktop):
    membership = MembershipFactory(role=Role.ORGANIZER, user__is_site_organizer=True)
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/campaigns/new/")
    expect(desktop.get_by_text("Part of the campaign's web address")).to_be_visible()
    assert_accessible(desktop, "new campaign form")
    desktop.locator("#id_name").fill("Café Workers of Zürich")
    expect(desktop.get_by_label("Short name")).to_have_value("cafe-workers-of-zurich")
    desktop.locator("#id_employer_name").fill("Café AG")
    desktop.get_by_role("button", name="Save").click()
    expect(desktop.get_by_text("Campaign created.")).to_be_visible()
    assert_accessible(desktop, "campaign created")
    assert Campaign.objects.filter(slug="cafe-workers-of-zurich").exists()


def test_publish_close_and_deliver_ask_first(live_server, desktop):
    membership = MembershipFactory(role=Role.ORGANIZER)
    petition = PetitionFactory(campaign=membership.campaign)
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/p/{petition.slug}/")
    expect(desktop.locator("main")).not_to_contain_text("in_person")
    expect(desktop.locator("main")).to_contain_text("Code from a moderator")

    steps = [
        ("Publish…", "Publish", Petition.Status.PUBLISHED),
        ("Close signing…", "Close signing", Petition.Status.CLOSED),
        ("Mark as delivered…", "Mark as delivered", Petition.Status.DELIVERED),
    ]
    for link, button, status in steps:
        before = Petition.objects.get().status
        desktop.get_by_role("link", name=link).click()
        expect(desktop.get_by_text("This cannot be undone")).to_be_visible()
        assert_accessible(desktop, f"confirmation for {button}")
        assert Petition.objects.get().status == before  # asking changed nothing
        desktop.get_by_role("button", name=button, exact=True).click()
        expect(desktop.locator(".messages")).to_be_visible()
        assert_accessible(desktop, f"after {button}")
        assert Petition.objects.get().status == status
    assert desktop.problems == []


def test_revoking_a_batch_asks_first(live_server, desktop):
    from petition.codes import code_batch_create

    membership = MembershipFactory(role=Role.MODERATOR)
    petition = petition_publish(petition=PetitionFactory(campaign=membership.campaign))
    batch, _codes = code_batch_create(petition=petition, level="in_person", size=10)
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/p/{petition.slug}/codes/")
    desktop.get_by_role("link", name="Revoke…").click()
    # No count: usage is shown only in steps of 5, so nobody can watch one card being used.
    expect(desktop.get_by_text("Its unused codes stop working")).to_be_visible()
    assert_accessible(desktop, "revoke confirmation")
    batch.refresh_from_db()
    assert batch.revoked_at is None
    desktop.get_by_role("button", name="Revoke the batch").click()
    expect(desktop.get_by_text("Batch revoked")).to_be_visible()
    assert_accessible(desktop, "batch revoked")
    batch.refresh_from_db()
    assert batch.revoked_at is not None


def test_a_draft_has_a_staff_only_preview_of_its_public_page(live_server, desktop, page):
    membership = MembershipFactory(role=Role.MODERATOR)
    petition = PetitionFactory(campaign=membership.campaign, title="Preview me")
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/p/{petition.slug}/")
    desktop.get_by_role("link", name="Preview").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Preview me")
    expect(desktop.get_by_text("Preview of a draft.")).to_be_visible()
    assert_accessible(desktop, "draft preview")
    # Anyone else, and the public address, still see nothing.
    response = page.goto(f"{live_server.url}/staff/p/{petition.slug}/preview/")
    assert "/accounts/login/" in page.url
    response = page.goto(f"{live_server.url}/p/{petition.slug}/")
    assert response.status == 404


def test_dashboard_shows_count_progress_and_trend(live_server, desktop):
    from django.utils import timezone

    from petition.models import PublicationBatch, Signature

    membership = MembershipFactory(role=Role.ORGANIZER)
    petition = petition_publish(petition=PetitionFactory(campaign=membership.campaign, goal=500))
    key = petition.keys.get()
    # Three signatures published today in one batch (counts come from batches).
    batch = PublicationBatch.objects.create(
        petition=petition,
        level=key.level,
        number=1,
        published_on=timezone.localdate(),
        added=3,
        withdrawn=0,
        total_added=3,
        total_withdrawn=0,
    )
    for i in range(3):
        Signature.objects.create(
            petition=petition,
            batch=batch,
            key=key,
            level=key.level,
            nullifier=bytes([i]) * 32,
            msg=b"m",
            sig=b"s",
        )
    sign_in(desktop, live_server, membership.user)
    desktop.goto(f"{live_server.url}/staff/")
    row = desktop.locator(".petition-summary")
    expect(row).to_contain_text("3 / 500")
    expect(row).to_contain_text("+3 this week")
    assert row.locator("progress").get_attribute("value") == "2"  # 3 of 500 still shows
    trend = row.locator("svg.chart-sparkline")
    expect(trend).to_have_count(1)
    assert "to 3" in trend.get_attribute("aria-label")
    assert_accessible(desktop, "dashboard")


def test_moderator_on_an_edit_url_gets_a_styled_refusal_and_tables_fit_a_phone(live_server, page):
    from petition.codes import code_batch_create

    membership = MembershipFactory(role=Role.MODERATOR)
    petition = petition_publish(
        petition=PetitionFactory(campaign=membership.campaign, title="W" * 120)
    )
    code_batch_create(petition=petition, level="in_person", size=10, label="canteen, floor 2")
    sign_in(page, live_server, membership.user)

    response = page.goto(f"{live_server.url}/staff/p/{petition.slug}/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot do this with your role")
    assert page.locator("link[rel=stylesheet]").count() >= 1
    assert_accessible(page, "403 page")

    page.goto(f"{live_server.url}/staff/p/{petition.slug}/codes/")
    expect(page.get_by_role("link", name="Revoke…")).to_be_visible()
    assert _no_sideways_scroll(page)
    assert_accessible(page, "code batches on a phone")
    page.goto(f"{live_server.url}/staff/p/{petition.slug}/")
    assert _no_sideways_scroll(page)  # a 120-character word in the title wraps
    assert_accessible(page, "staff petition page with a long word, on a phone")
    assert page.title().startswith("W" * 39) and len(page.title()) < 60


def test_asking_to_invalidate_a_key_is_folded_away_until_wanted(live_server, desktop):
    membership = MembershipFactory(role=Role.ORGANIZER)
    petition = petition_publish(petition=PetitionFactory(campaign=membership.campaign))
    sign_in(desktop, live_server, membership.user)

    desktop.goto(f"{live_server.url}/staff/p/{petition.slug}/")
    ask = desktop.get_by_role("button", name="Ask to invalidate")
    expect(ask).to_be_hidden()  # no open red button beside every key
    desktop.get_by_text("This key may have leaked…").click()
    assert_accessible(desktop, "key invalidation opened")
    desktop.get_by_label("What happened to this key?").fill("The backup laptop was stolen")
    ask.click()
    expect(desktop.get_by_text("Waiting for another organizer to confirm.")).to_be_visible()
    key = petition.keys.get()
    assert key.invalidation.reason == "The backup laptop was stolen" and key.invalidated_at is None
