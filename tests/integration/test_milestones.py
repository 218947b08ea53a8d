"""Milestone notices through real processes: PostgreSQL, a Redis broker, a Celery worker
process (killed and restarted), a beat process, an SMTP server and a webhook receiver on
loopback. Every wait is bounded; every test ends by checking that nothing came twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection
from standardwebhooks import Webhook as StandardWebhook

from organizing.models import Delivery, DeliveryState, Notice, Webhook
from organizing.notices.channels import webhook_secret_text
from organizing.notices.tasks import notices_sweep
from tests.organizing.notices.helpers import publish, sign_and_publish
from tests.signing_client import mint

from .conftest import ROOT, celery_worker, worker_environment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FAST_RETRIES = {
    "COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK": "1",
    "COUNTERSIGN_DELIVERY_RETRY_BASE_SECONDS": "1",
    "COUNTERSIGN_DELIVERY_RETRY_MAX_SECONDS": "2",
}


def wait_until(condition, timeout: float = 30, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def settle(seconds: float = 3) -> None:
    """Give a duplicate the time it would need to show up."""
    time.sleep(seconds)


@pytest.fixture
def webhook(campaign, webhook_receiver, organizer):
    return Webhook.objects.create(campaign=campaign, url=webhook_receiver.url, created_by=organizer)


def verify_signature(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does (the example in docs/operations.md)."""
    fields = dict(item.split("=", 1) for item in headers["X-Countersign-Signature"].split(","))
    timestamp = int(fields["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


def test_crossing_a_threshold_delivers_one_email_and_one_signed_webhook(
    smtp_server, webhook_receiver, webhook, open_petition, organizer, tmp_path
):
    with celery_worker(smtp_server, tmp_path, **FAST_RETRIES) as worker:
        sign_and_publish(open_petition, 10)
        mails = smtp_server.mailbox.wait_for(1)
        hooks = webhook_receiver.wait_for(1)
        settle()
        log = worker.log_path.read_text()
    assert len(smtp_server.mailbox.messages) == 1, log
    recipients, content = mails[0]
    assert recipients == [organizer.email]
    assert open_petition.title in content and "10" in content
    assert len(webhook_receiver.requests) == 1, log
    headers, body, _status = hooks[0]
    assert verify_signature(webhook_secret_text(webhook.salt), headers, body)
    assert not verify_signature("whsec_wrong", headers, body)
    # And the Standard Webhooks headers, checked by the reference library.
    assert StandardWebhook(webhook_secret_text(webhook.salt)).verify(body, headers)
    payload = json.loads(body)
    assert (payload["type"], payload["threshold"], payload["total"]) == ("milestone", 10, 10)
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_smtp_down_for_the_first_attempts_then_delivered_exactly_once(
    smtp_server, open_petition, organizer, tmp_path
):
    smtp_server.stop()
    with celery_worker(smtp_server, tmp_path, **FAST_RETRIES) as worker:
        sign_and_publish(open_petition, 10)
        # Two attempts made and failed (the lease is released only after a failure).
        assert wait_until(
            lambda: Delivery.objects.filter(attempts__gte=2, lease_until__isnull=True).exists()
        ), worker.log_path.read_text()
        assert Delivery.objects.get().state == DeliveryState.PENDING
        smtp_server.start()
        smtp_server.mailbox.wait_for(1, timeout=30)
        settle()
        log = worker.log_path.read_text()
    assert len(smtp_server.mailbox.messages) == 1, log
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.SENT and delivery.attempts >= 3


def test_webhook_answering_500_then_200_is_delivered_exactly_once(
    smtp_server, webhook_receiver, webhook, open_petition, organizer, tmp_path
):
    webhook_receiver.statuses = [500, 500]
    with celery_worker(smtp_server, tmp_path, **FAST_RETRIES) as worker:
        sign_and_publish(open_petition, 10)
        webhook_receiver.wait_for(1)
        settle()
        log = worker.log_path.read_text()
    assert [r[2] for r in webhook_receiver.requests] == [500, 500, 200], log
    assert len(webhook_receiver.accepted()) == 1
    hook_delivery = Delivery.objects.get(channel="webhook")
    assert (hook_delivery.state, hook_delivery.attempts) == (DeliveryState.SENT, 3)


def test_worker_killed_during_a_send_delivers_exactly_once_after_restart(
    smtp_server, open_petition, organizer, tmp_path, settings
):
    settings.COUNTERSIGN_DELIVERY_LEASE_SECONDS = 4
    release = smtp_server.mailbox.hold = threading.Event()
    env = {**FAST_RETRIES, "COUNTERSIGN_DELIVERY_LEASE_SECONDS": "4"}
    with celery_worker(smtp_server, tmp_path, **env) as worker:
        sign_and_publish(open_petition, 10)
        assert smtp_server.mailbox.holding.wait(30), worker.log_path.read_text()
        worker.kill()  # SIGKILL in the middle of the SMTP transaction
        release.set()  # the server drops the half-sent message (451, not stored)
        assert Delivery.objects.get().state == DeliveryState.PENDING
        worker.start()
        # The killed task's message stays unacknowledged until the broker's visibility
        # timeout; the sweep (beat in production) takes the row once the lease expires.
        assert wait_until(lambda: Delivery.objects.get().lease_until < _now(), timeout=10)
        notices_sweep.delay()
        smtp_server.mailbox.wait_for(1, timeout=30)
        notices_sweep.delay()  # a second sweep finds nothing to do
        settle()
        log = worker.log_path.read_text()
    assert len(smtp_server.mailbox.messages) == 1, log
    assert Delivery.objects.get().state == DeliveryState.SENT


def test_redis_stopped_while_signatures_arrive_then_beat_sweeps_once_it_is_back(
    client, smtp_server, private_redis, open_petition, organizer, tmp_path
):
    with celery_worker(smtp_server, tmp_path, broker_url=private_redis.url, **FAST_RETRIES):
        private_redis.stop()
        for _ in range(10):
            response = client.post(
                f"/api/v1/petitions/{open_petition.slug}/signatures",
                json.dumps(mint(open_petition).payload()),
                content_type="application/json",
            )
            assert response.status_code == 201  # signing does not need the broker
        started = time.monotonic()
        publish(open_petition)  # the check task cannot be sent: logged, not raised
        assert time.monotonic() - started < 10
        assert not Notice.objects.exists()
        private_redis.start()
        beat = _start_beat(smtp_server, private_redis.url, tmp_path)
        try:
            mails = smtp_server.mailbox.wait_for(1, timeout=60)
            settle(4)  # several more sweeps at one a second
        finally:
            beat.terminate()
            beat.wait(timeout=20)
    assert len(mails) == 1, (tmp_path / "beat.log").read_text()
    assert Notice.objects.get().threshold == 10
    assert Delivery.objects.get().state == DeliveryState.SENT


def _start_beat(smtp_server, broker_url, tmp_path) -> subprocess.Popen:
    env = worker_environment(
        connection.settings_dict, broker_url, smtp_server.port, COUNTERSIGN_SWEEP_SECONDS="1"
    )
    from config.celery_app import app

    env["CELERY_TASK_DEFAULT_QUEUE"] = app.conf.task_default_queue
    with (tmp_path / "beat.log").open("w") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "-l",
                "INFO",
                "-s",
                str(tmp_path / "beat-schedule"),
                "--pidfile=",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _now():
    from django.utils import timezone

    return timezone.now()
