"""What a person reads on staff pages: human messages, no internal names, confirmations,
styled refusals, and the app's own not-found page even with DJANGO_DEBUG=1."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from petition.models import Petition
from tests.factories import CampaignFactory, PetitionFactory, form_key

pytestmark = pytest.mark.django_db


def test_petition_form_never_shows_constraint_or_field_names(client, organizer, campaign):
    client.force_login(organizer)
    response = client.post(
        reverse("staff:petition_create", kwargs={"slug": campaign.slug}),
        {
            "form_key": form_key(),
            "title": "Night breaks",
            "slug": "Night breaks!",
            "demands": "d",
            "addressed_to": "a",
            "goal": "0",
        },
    )
    page = response.content.decode()
    assert "Accept at least one way for signers to verify." in page
    assert "Use lowercase letters, digits and single hyphens only" in page
    for internal in ("petition_petition", "Constraint", "“slug”", "is violated"):
        assert internal not in page
    assert not Petition.objects.exists()


def test_a_long_title_is_refused_not_cut(client, organizer, campaign):
    client.force_login(organizer)
    response = client.post(
        reverse("staff:petition_create", kwargs={"slug": campaign.slug}),
        {
            "form_key": form_key(),
            "title": "x" * 161,
            "demands": "d",
            "addressed_to": "a",
            "goal": "5",
            "accepts_in_person": "on",
        },
    )
    assert response.context["form"].errors["title"] == ["Use at most 160 characters; this has 161."]
    assert ' maxlength="160"' not in response.content.decode()  # the browser cuts nothing
    assert not Petition.objects.exists()


def test_error_messages_are_tied_to_their_inputs(client, organizer, campaign):
    client.force_login(organizer)
    response = client.post(
        reverse("staff:petition_create", kwargs={"slug": campaign.slug}),
        {"form_key": form_key(), "title": "", "goal": "5", "accepts_in_person": "on"},
    )
    page = response.content.decode()
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_title_counter id_title_error1"' in page
    assert 'id="id_title_error1"' in page


def test_petition_page_shows_labels_not_internal_names(client, organizer, open_petition):
    client.force_login(organizer)
    page = client.get(reverse("staff:petition", kwargs={"slug": open_petition.slug}))
    text = page.content.decode()
    assert "Code from a moderator" in text and "Work email code" in text
    assert "in_person" not in text and "work_email" not in text


def test_the_petition_page_leads_organizers_to_the_flyers(
    client, organizer, moderator, open_petition
):
    flyers = reverse("staff:flyers", kwargs={"slug": open_petition.slug})
    page = reverse("staff:petition", kwargs={"slug": open_petition.slug})
    client.force_login(organizer)
    assert f'href="{flyers}"' in client.get(page).content.decode()
    client.force_login(moderator)  # flyers are the organizers' (the designer refuses others)
    assert f'href="{flyers}"' not in client.get(page).content.decode()
    assert client.get(flyers).status_code == 403


def test_publish_asks_first_and_changes_nothing_until_confirmed(client, organizer, draft_petition):
    client.force_login(organizer)
    url = reverse("staff:petition_publish", kwargs={"slug": draft_petition.slug})
    page = client.get(url)
    assert "This cannot be undone" in page.content.decode()
    draft_petition.refresh_from_db()
    assert draft_petition.status == Petition.Status.DRAFT
    client.post(url)
    draft_petition.refresh_from_db()
    assert draft_petition.status == Petition.Status.PUBLISHED


def test_moderator_gets_the_styled_refusal(client, moderator, draft_petition):
    client.force_login(moderator)
    response = client.get(reverse("staff:petition_edit", kwargs={"slug": draft_petition.slug}))
    assert response.status_code == 403
    assert "You cannot do this with your role" in response.content.decode()
    assert "css/app.css" in response.content.decode()


@override_settings(DEBUG=True)
def test_with_debug_an_unknown_address_shows_the_app_page_without_routes():
    response = Client().get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here" in page
    assert "URLconf" not in page and "api/v1" not in page


@override_settings(DEBUG=True)
def test_with_debug_a_missing_slash_still_redirects():
    response = Client().get("/staff")
    assert response.status_code == 301
    assert response["Location"] == "/staff/"


@override_settings(DEBUG=True)
def test_with_debug_a_missing_petition_shows_the_app_page():
    response = Client().get("/p/no-such-petition/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()


def test_a_taken_short_name_says_nothing_about_the_petition_that_has_it(
    client, organizer, campaign
):
    """A leak accepted in docs/threat-model.md: short names are unique site-wide, so a
    taken one is refused, but the refusal reads the same for a draft of another campaign,
    a published petition and one's own, and names nothing about the petition."""
    PetitionFactory(
        campaign=CampaignFactory(name="Beta Union"), slug="beta-draft", title="Secret plan"
    )
    PetitionFactory(campaign=campaign, slug="own-draft", title="Our plan")
    client.force_login(organizer)
    url = reverse("staff:petition_create", kwargs={"slug": campaign.slug})
    data = {
        "title": "T",
        "demands": "d",
        "addressed_to": "a",
        "goal": "5",
        "accepts_in_person": "on",
    }
    refusals = []
    for slug in ("beta-draft", "own-draft"):
        page = client.post(url, {**data, "form_key": form_key(), "slug": slug}).content.decode()
        assert "This short name is not available. Choose another." in page
        for telltale in ("Secret plan", "Beta Union", "draft", "Another petition"):
            assert telltale not in page.replace(f'value="{slug}"', "")
        refusals.append(page.count("not available"))
    assert refusals[0] == refusals[1]
    assert Petition.objects.count() == 2
    # The other campaign's draft answers 404 publicly, like a short name nobody uses.
    assert client.get("/p/beta-draft/").status_code == client.get("/p/no-such-xyz/").status_code
    ok = client.post(url, {**data, "form_key": form_key(), "slug": "no-such-slug-xyz"})
    assert ok.status_code == 302
