"""Petition states and the invariants the database keeps."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from petition.models import Petition
from petition.services import (
    TransitionError,
    petition_close,
    petition_mark_delivered,
    petition_publish,
    petition_update,
)
from tests.factories import PetitionFactory, form_key

pytestmark = pytest.mark.django_db


def test_petition_goes_draft_published_closed_delivered(draft_petition):
    petition = petition_publish(petition=draft_petition)
    assert petition.status == Petition.Status.PUBLISHED and petition.published_at
    petition = petition_close(petition=petition)
    assert petition.status == Petition.Status.CLOSED and petition.closed_at
    petition = petition_mark_delivered(petition=petition)
    assert petition.status == Petition.Status.DELIVERED


def test_it_refuses_to_publish_twice(draft_petition):
    petition_publish(petition=draft_petition)
    with pytest.raises(TransitionError):
        petition_publish(petition=draft_petition)


def test_it_refuses_to_close_a_draft(draft_petition):
    with pytest.raises(TransitionError):
        petition_close(petition=draft_petition)
    draft_petition.refresh_from_db()
    assert draft_petition.status == Petition.Status.DRAFT


def test_signed_text_is_fixed_after_publishing(published_petition):
    with pytest.raises(TransitionError):
        petition_update(petition=published_petition, demands="Something else entirely.")
    published_petition.refresh_from_db()
    assert "Stop" in published_petition.demands
    petition_update(petition=published_petition, goal=250)
    published_petition.refresh_from_db()
    assert published_petition.goal == 250


def test_signed_text_stays_fixed_when_a_form_already_copied_the_change(published_petition):
    # A ModelForm copies its cleaned values onto the instance before the service runs.
    published_petition.demands = "Something else entirely."
    with pytest.raises(TransitionError):
        petition_update(petition=published_petition, demands="Something else entirely.")
    published_petition.refresh_from_db()
    assert "Stop" in published_petition.demands


@pytest.mark.parametrize(
    "changes",
    [
        {"goal": 0},
        {"goal": 10_000_001},
        {"status": "archived"},
        {"slug": "Not A Slug"},
        {"title": ""},
        {"accepts_work_email": False, "accepts_in_person": False, "accepts_flyer": False},
        {"status": "published"},  # without a publication time
    ],
    ids=lambda c: ",".join(c),
)
def test_the_database_rejects_an_invalid_petition(draft_petition, changes):
    with pytest.raises(IntegrityError), transaction.atomic():
        Petition.objects.filter(pk=draft_petition.pk).update(**changes)


def test_slug_is_unique(campaign, draft_petition):
    with pytest.raises(IntegrityError), transaction.atomic():
        PetitionFactory(campaign=campaign, slug=draft_petition.slug)


def test_organizer_form_reports_bad_input_and_changes_nothing(client, organizer, campaign):
    client.force_login(organizer)
    url = reverse("staff:petition_create", kwargs={"slug": campaign.slug})
    response = client.post(
        url,
        {
            "form_key": form_key(),
            "title": "",
            "slug": "Bad Slug!",
            "demands": "x",
            "addressed_to": "",
            "goal": "0",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"title", "slug", "addressed_to", "goal"} <= errors.keys()
    assert "__all__" in errors  # no verification level chosen
    assert not Petition.objects.exists()


def test_organizer_creates_and_publishes_through_the_pages(client, organizer, campaign):
    client.force_login(organizer)
    response = client.post(
        reverse("staff:petition_create", kwargs={"slug": campaign.slug}),
        {
            "form_key": form_key(),
            "title": "Four-day week",
            "slug": "four-day-week",
            "demands": "- Fridays off",
            "addressed_to": "The board",
            "goal": "300",
            "accepts_in_person": "on",
        },
    )
    assert response.status_code == 302
    petition = Petition.objects.get(slug="four-day-week")
    assert petition.status == Petition.Status.DRAFT
    assert client.get(petition.get_absolute_url()).status_code == 404
    client.post(reverse("staff:petition_publish", kwargs={"slug": petition.slug}))
    assert client.get(petition.get_absolute_url()).status_code == 200


def test_publishing_twice_publishes_once_without_an_error(client, organizer, draft_petition):
    client.force_login(organizer)
    url = reverse("staff:petition_publish", kwargs={"slug": draft_petition.slug})
    client.post(url)
    response = client.post(url, follow=True)  # a double click or a reload
    assert b"not possible in the petition" not in response.content
    draft_petition.refresh_from_db()
    assert draft_petition.status == Petition.Status.PUBLISHED
    assert draft_petition.keys.count() == len(draft_petition.levels)


def test_closing_a_draft_says_it_is_not_possible(client, organizer, draft_petition):
    client.force_login(organizer)
    url = reverse("staff:petition_close", kwargs={"slug": draft_petition.slug})
    response = client.post(url, follow=True)
    assert b"not possible in the petition" in response.content
    draft_petition.refresh_from_db()
    assert draft_petition.status == Petition.Status.DRAFT
