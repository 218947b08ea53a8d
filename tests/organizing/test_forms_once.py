"""Every staff form that creates something does it once per form key: a reload or a
double click sends the same key and is redirected to the first result."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from organizing.idempotency import submit_once
from organizing.models import Campaign, FormSubmission, Invitation, Role
from petition.models import CodeBatch, Petition
from petition.services import petition_publish
from tests.factories import MembershipFactory, PetitionFactory, form_key

pytestmark = pytest.mark.django_db


def _create_forms(campaign, petition):
    return [
        (
            reverse("staff:campaign_create"),
            {"name": "Night shift", "slug": "night-shift", "employer_name": "Example"},
            Campaign.objects.filter(slug="night-shift"),
        ),
        (
            reverse("staff:petition_create", kwargs={"slug": campaign.slug}),
            {
                "title": "Breaks",
                "demands": "Two breaks.",
                "addressed_to": "HR",
                "goal": "10",
                "accepts_in_person": "on",
            },
            Petition.objects.filter(slug="breaks"),
        ),
        (
            reverse("staff:invitation_create", kwargs={"slug": campaign.slug}),
            {"email": "new@personal.example", "role": Role.MODERATOR},
            Invitation.objects.filter(email="new@personal.example"),
        ),
        (
            reverse("staff:code_batches", kwargs={"slug": petition.slug}),
            {"level": "in_person", "size": "10"},
            CodeBatch.objects.all(),
        ),
    ]


def test_resending_any_create_form_creates_nothing_new(
    client, organizer, campaign, draft_petition, mailoutbox, django_capture_on_commit_callbacks
):
    petition = petition_publish(petition=draft_petition)
    organizer.is_site_organizer = True  # the campaign form is among them
    organizer.save(update_fields=["is_site_organizer"])
    client.force_login(organizer)
    for url, data, created in _create_forms(campaign, petition):
        data = {**data, "form_key": form_key()}
        with django_capture_on_commit_callbacks(execute=True):
            first = client.post(url, data)
            again = client.post(url, data)  # reload / double click: the same form key
        assert created.count() == 1, url
        assert again.status_code == 302, url
        if first.status_code == 302:
            assert again["Location"] == first["Location"]
    assert len(mailoutbox) == 1  # one invitation mail, not two


def test_a_new_form_key_creates_again(client, moderator, open_petition):
    client.force_login(moderator)
    url = reverse("staff:code_batches", kwargs={"slug": open_petition.slug})
    for _ in range(2):
        client.post(url, {"level": "in_person", "size": "10", "form_key": form_key()})
    assert CodeBatch.objects.count() == 2


def test_a_refused_form_can_be_sent_again_with_the_same_key(client, organizer, campaign):
    client.force_login(organizer)
    PetitionFactory(slug="taken")
    url = reverse("staff:petition_create", kwargs={"slug": campaign.slug})
    data = {
        "form_key": form_key(),
        "title": "T",
        "slug": "taken",
        "demands": "d",
        "addressed_to": "a",
        "goal": "5",
        "accepts_in_person": "on",
    }
    refused = client.post(url, data)
    assert "This short name is not available" in refused.content.decode()
    assert not FormSubmission.objects.exists()
    accepted = client.post(url, {**data, "slug": "free"})
    assert accepted.status_code == 302
    assert Petition.objects.filter(slug="free").exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_sends_of_one_form_make_one_batch():
    membership = MembershipFactory(role=Role.MODERATOR)
    petition = petition_publish(petition=PetitionFactory(campaign=membership.campaign))
    url = reverse("staff:code_batches", kwargs={"slug": petition.slug})
    data = {"level": "in_person", "size": "10", "form_key": form_key()}
    barrier = threading.Barrier(2, timeout=10)
    answers = []

    def send() -> None:
        try:
            client = Client()
            client.force_login(membership.user)
            barrier.wait()
            response = client.post(url, data)
            answers.append((response.status_code, response["Location"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Both are sent to the one page offering the cards' PDF (the second waited for the first).
    assert len(answers) == 2 and answers[0] == answers[1]
    assert answers[0][0] == 302 and "/prints/" in answers[0][1]
    assert CodeBatch.objects.count() == 1


def test_submit_once_lets_the_actions_own_integrity_errors_through(organizer):
    from django.db import IntegrityError

    def broken() -> str:
        raise IntegrityError("not about the key")

    with pytest.raises(IntegrityError):
        submit_once(user=organizer, key=form_key(), action=broken)
    assert not FormSubmission.objects.exists()
