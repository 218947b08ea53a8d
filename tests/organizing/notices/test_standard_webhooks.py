"""Milestone webhooks follow the Standard Webhooks specification: a receiver verifies real
deliveries with the reference library (`standardwebhooks`), using the `whsec_…` secret the
organizer was shown, while the deprecated X-Countersign-Signature still verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks import Webhook as Receiver
from standardwebhooks.webhooks import WebhookVerificationError

from organizing.models import Delivery, DeliveryState, Webhook
from organizing.notices import channels
from tests.integration.conftest import WebhookReceiver

from .helpers import sign_and_publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = True
    server = WebhookReceiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def hook(campaign, receiver, organizer):
    return Webhook.objects.create(campaign=campaign, url=receiver.url, created_by=organizer)


def old_header_verifies(secret: str, headers: dict, body: bytes) -> bool:
    """The deprecated check of docs/operations.md, kept for one release."""
    fields = dict(item.split("=", 1) for item in headers["X-Countersign-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


def test_a_real_delivery_verifies_with_the_standard_webhooks_library(
    open_petition, organizer, hook, receiver
):
    sign_and_publish(open_petition, 10)
    [(headers, body, status)] = receiver.wait_for(1, timeout=10)
    assert status == 200
    assert Delivery.objects.get(webhook=hook).state == DeliveryState.SENT
    secret = channels.webhook_secret_text(hook.salt)

    payload = Receiver(secret).verify(body, headers)

    assert payload == json.loads(body)
    assert open_petition.title in json.dumps(payload, ensure_ascii=False)
    assert headers["webhook-signature"].startswith("v1,")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    delivery = Delivery.objects.get(webhook=hook)
    assert headers["webhook-id"] == channels.webhook_message_id(delivery.pk)
    # The old header, deprecated, still checks out for receivers not yet moved over.
    assert old_header_verifies(secret, headers, body)


def test_a_tampered_body_a_wrong_secret_or_a_stale_timestamp_fail(
    open_petition, organizer, hook, receiver
):
    sign_and_publish(open_petition, 10)
    [(headers, body, _status)] = receiver.wait_for(1, timeout=10)
    secret = channels.webhook_secret_text(hook.salt)
    with pytest.raises(WebhookVerificationError):
        Receiver(secret).verify(body.replace(b"10", b"11", 1), headers)
    other = channels.webhook_secret_text("another-salt")
    with pytest.raises(WebhookVerificationError):
        Receiver(other).verify(body, headers)
    stale = channels.webhook_headers(
        salt=hook.salt, body=body, delivery_id=1, timestamp=int(time.time()) - 3600
    )
    with pytest.raises(WebhookVerificationError):
        Receiver(secret).verify(body, stale)
    swapped_id = {**headers, "webhook-id": channels.webhook_message_id(999_999)}
    with pytest.raises(WebhookVerificationError):
        Receiver(secret).verify(body, swapped_id)


def test_existing_secrets_are_valid_standard_webhooks_secrets():
    # Secrets handed out before (whsec_ + 64 hex digits) decode as the spec's base64 key.
    secret = channels.webhook_secret_text("salt-from-2025")
    assert secret.startswith("whsec_") and len(secret) == 6 + 64
    key = channels.standard_webhooks_key(secret)
    assert len(key) == 48  # over the spec's 24-byte minimum, 256 bits of entropy
    body = b'{"a": 1}'
    headers = channels.webhook_headers(salt="salt-from-2025", body=body, delivery_id=7)
    assert Receiver(secret).verify(body, headers) == {"a": 1}
    assert Receiver(key).verify(body, headers) == {"a": 1}


def test_the_signature_matches_the_specs_construction_byte_for_byte():
    secret = "whsec_" + "ab" * 32
    body = b'{"event":"milestone"}'
    expected = hmac.new(
        channels.standard_webhooks_key(secret), b"msg_1.1700000000." + body, hashlib.sha256
    ).digest()
    assert Receiver(secret).sign("msg_1", _at(1_700_000_000), body.decode()) == (
        channels.standard_webhooks_signature(secret, "msg_1", 1_700_000_000, body)
    )
    assert channels.standard_webhooks_signature(secret, "msg_1", 1_700_000_000, body) == (
        "v1," + base64.b64encode(expected).decode()
    )


def test_a_retry_carries_the_same_webhook_id():
    first = channels.webhook_headers(salt="s", body=b"{}", delivery_id=42, timestamp=1)
    again = channels.webhook_headers(salt="s", body=b"{}", delivery_id=42, timestamp=2)
    assert first["webhook-id"] == again["webhook-id"]
    assert first["webhook-signature"] != again["webhook-signature"]


def _at(unix: int):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(unix, tz=UTC)
