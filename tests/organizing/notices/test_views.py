"""Staff pages of milestones, through the HTTP layer."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from organizing.models import AuditEntry, MilestonePlan, NotificationPreference, Webhook

from .helpers import sign_and_publish

pytestmark = pytest.mark.django_db


def test_organizer_sets_thresholds_and_the_change_is_audited(client, organizer, open_petition):
    client.force_login(organizer)
    url = reverse("staff:petition_milestones", kwargs={"slug": open_petition.slug})
    response = client.post(
        url,
        {
            "use_default_ladder": "on",
            "extra_thresholds_text": "75, 5 150",
            "raise_goal_when_reached": "on",
        },
    )
    assert response.status_code == 302
    plan = MilestonePlan.objects.get(petition=open_petition)
    assert plan.extra_thresholds == [5, 75, 150]
    assert (plan.use_goal_percentages, plan.raise_goal_when_reached) == (False, True)
    entry = AuditEntry.objects.get(action="milestone_update")
    assert entry.actor == organizer and entry.details["extra_thresholds"] == [5, 75, 150]


@pytest.mark.parametrize("text", ["ten", "0", "-5", "99999999", ", ".join(map(str, range(1, 30)))])
def test_bad_thresholds_answer_a_field_error_and_change_nothing(
    client, organizer, open_petition, text
):
    client.force_login(organizer)
    url = reverse("staff:petition_milestones", kwargs={"slug": open_petition.slug})
    response = client.post(url, {"extra_thresholds_text": text})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not MilestonePlan.objects.exists()


def test_the_webhook_secret_shows_once_and_registration_is_audited(client, organizer, campaign):
    client.force_login(organizer)
    url = reverse("staff:webhooks", kwargs={"slug": campaign.slug})
    response = client.post(url, {"url": "https://chat.example.org/hooks/1", "label": "Chat"})
    assert response.status_code == 200
    secret = re.search(r"whsec_[0-9a-f]{64}", response.content.decode())
    assert secret
    assert "no-store" in response["Cache-Control"]
    assert secret.group(0) not in client.get(url).content.decode()
    webhook = Webhook.objects.get()
    assert AuditEntry.objects.filter(action="webhook_update", object_id=str(webhook.pk)).exists()


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8080/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "https://user:pw@chat.example.org/hook",
        "ftp://chat.example.org/hook",
    ],
)
def test_webhooks_to_private_or_odd_addresses_are_refused(client, organizer, campaign, address):
    client.force_login(organizer)
    response = client.post(
        reverse("staff:webhooks", kwargs={"slug": campaign.slug}), {"url": address}
    )
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not Webhook.objects.exists()


def test_removing_a_webhook_stops_its_notices(client, organizer, campaign):
    webhook = Webhook.objects.create(campaign=campaign, url="https://chat.example.org/h")
    client.force_login(organizer)
    url = reverse("staff:webhook_delete", kwargs={"slug": campaign.slug, "webhook_id": webhook.pk})
    assert "Remove this webhook?" in client.get(url).content.decode()
    assert Webhook.objects.exists()  # asking changes nothing
    response = client.post(url)
    assert response.status_code == 302
    assert not Webhook.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_moderator_opts_in_and_then_hears_of_the_next_milestone(
    client, moderator, organizer, campaign, open_petition
):
    client.force_login(moderator)
    url = reverse("staff:notification_settings", kwargs={"slug": campaign.slug})
    # Moderators start with nothing: they opt in.
    assert re.search(r'value="none"[^>]*checked', client.get(url).content.decode())
    response = client.post(url, {"mode": "instant", "email": "on"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=moderator).mode == "instant"
    sign_and_publish(open_petition, 10)
    assert moderator.email in [m.to[0] for m in mail.outbox]


@pytest.mark.django_db(transaction=True)
def test_an_organizer_who_chose_nothing_gets_nothing(client, organizer, campaign, open_petition):
    client.force_login(organizer)
    url = reverse("staff:notification_settings", kwargs={"slug": campaign.slug})
    assert client.post(url, {"mode": "none"}).status_code == 302
    sign_and_publish(open_petition, 10)
    assert mail.outbox == []


def test_a_bad_preference_answers_a_field_error(client, organizer, campaign):
    client.force_login(organizer)
    url = reverse("staff:notification_settings", kwargs={"slug": campaign.slug})
    response = client.post(url, {"mode": "loud"})
    assert response.status_code == 400
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_petition_page_shows_growth_levels_and_milestones_without_inline_style(
    client, organizer, open_petition
):
    sign_and_publish(open_petition, 12)
    client.force_login(organizer)
    response = client.get(reverse("staff:petition", kwargs={"slug": open_petition.slug}))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg class="chart chart-growth"' in html
    assert "<polyline" in html
    assert "1 delivered" in html  # milestone 10, mailed to the one organizer
    assert "Code from a moderator" in html
    assert " style=" not in html and "<script>" not in html
