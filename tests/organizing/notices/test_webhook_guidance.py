"""Webhooks that guide (review O13): a test notice through the real outbox and task, its
result on the page; the loopback refusal says how to allow it in the demo; a guide page."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.urls import reverse
from django.utils import translation

from organizing.models import AuditEntry, Delivery, Notice, Webhook
from organizing.notices.channels import SIGNATURE_HEADER, webhook_secret_text
from tests.integration.conftest import WebhookReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def webhooks_page(campaign):
    return reverse("staff:webhooks", kwargs={"slug": campaign.slug})


def test_a_test_notice_goes_through_the_outbox_signed_and_marked_as_a_test(
    client,
    organizer,
    campaign,
    receiver,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = True
    hook = Webhook.objects.create(campaign=campaign, url=receiver.url)
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff:webhook_test", args=[campaign.slug, hook.pk]))
    assert response.status_code == 302
    ((headers, raw, status),) = receiver.requests
    assert status == 200
    body = json.loads(raw)
    assert body["type"] == "test" and body["test"] is True and body["petition"] is None
    assert body["campaign"] == {"name": campaign.name}
    timestamp, signature = (part.split("=", 1)[1] for part in headers[SIGNATURE_HEADER].split(","))
    expected = hmac.new(
        webhook_secret_text(hook.salt).encode(),
        timestamp.encode() + b"." + raw,
        hashlib.sha256,
    ).hexdigest()
    assert signature == expected
    delivery = Delivery.objects.get(webhook=hook)
    assert delivery.state == "sent" and delivery.notice.kind == "test"
    assert AuditEntry.objects.filter(details__change="test notice").count() == 1
    html = client.get(webhooks_page(campaign)).content.decode()
    assert "Delivered " in html
    # A test is not a real notice: the "Delivered" count of real notices stays 0.
    assert '<td data-label="Delivered">0</td>' in html


def test_a_failing_receiver_shows_why_on_the_page(
    client, organizer, campaign, settings, django_capture_on_commit_callbacks
):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = True
    hook = Webhook.objects.create(campaign=campaign, url="http://127.0.0.1:9/nobody-listens")
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:webhook_test", args=[campaign.slug, hook.pk]))
    delivery = Delivery.objects.get(webhook=hook)
    assert delivery.state == "pending" and delivery.last_error  # the sweep tries again
    html = client.get(webhooks_page(campaign)).content.decode()
    assert "Failed once (webhook connection failed" in html


def test_a_moderator_cannot_send_a_test_notice(client, moderator, campaign):
    hook = Webhook.objects.create(campaign=campaign, url="https://hooks.example.org/x")
    client.force_login(moderator)
    response = client.post(reverse("staff:webhook_test", args=[campaign.slug, hook.pk]))
    assert response.status_code in (403, 404)
    assert not Notice.objects.exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8199/countersign", "http://localhost:8199/x"])
def test_the_loopback_refusal_says_how_to_allow_it_in_the_demo(
    client, organizer, campaign, settings, url
):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = False
    client.force_login(organizer)
    response = client.post(webhooks_page(campaign), {"url": url, "label": ""})
    assert response.status_code == 400
    assert "COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK=1" in response.content.decode()
    assert not Webhook.objects.exists()


def test_a_private_address_is_refused_without_the_demo_hint(client, organizer, campaign):
    client.force_login(organizer)
    response = client.post(webhooks_page(campaign), {"url": "http://10.0.0.5/x", "label": ""})
    html = response.content.decode()
    assert response.status_code == 400 and "private, local or link-local" in html
    assert "ALLOW_LOOPBACK" not in html


def test_the_secret_has_a_copy_button_and_the_page_links_the_guide(client, organizer, campaign):
    client.force_login(organizer)
    response = client.post(
        webhooks_page(campaign), {"url": "https://hooks.example.org/countersign", "label": ""}
    )
    html = response.content.decode()
    assert 'data-copy="webhook-secret"' in html and 'id="webhook-secret"' in html
    guide = reverse("staff:webhook_guide", args=[campaign.slug])
    assert f'href="{guide}"' in html
    page = client.get(guide).content.decode()
    assert "X-Countersign-Signature" in page and "hmac.compare_digest" in page


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "The older header"), ("es", "La cabecera antigua"), ("ar", "الترويسة القديمة")],
)
def test_the_guide_shows_the_header_format_in_every_language(
    client, organizer, campaign, language, words
):
    """The format's angle brackets are text, not tags: they once vanished (“t=,v1=”). In
    Arabic the format and the JSON field sit in left-to-right <code> so they read in order."""
    organizer.language = language
    organizer.save()
    client.force_login(organizer)
    with translation.override("en"):  # an address without a language prefix
        guide = reverse("staff:webhook_guide", args=[campaign.slug])
    page = client.get(guide).content.decode()
    assert words in page
    assert '<code dir="ltr">t=&lt;unix time&gt;,v1=&lt;hex HMAC-SHA256&gt;</code>' in page
    assert '<code dir="ltr">"test": true</code>' in page
    assert "<unix time>" not in page
