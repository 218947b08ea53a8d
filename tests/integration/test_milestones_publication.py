"""End to end: real redemptions over HTTP, real publication batches (two runs at once), a
real worker, SMTP server and webhook receiver. Thresholds fire from published counts only,
once each."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from organizing.models import Delivery, DeliveryState, Notice, Webhook
from petition.models import Petition
from petition.publication import petition_publish_pending
from tests.signing_client import mint

from .conftest import celery_worker
from .test_milestones import FAST_RETRIES, settle, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SIGNERS = 200


def _redeem(petition: Petition, payload: str) -> int:
    try:
        response = Client().post(
            f"/api/v1/petitions/{petition.slug}/signatures",
            payload,
            content_type="application/json",
        )
        return response.status_code
    finally:
        connection.close()


def _publication_runs_at_once(petition: Petition, runs: int = 2) -> None:
    barrier = threading.Barrier(runs, timeout=30)
    errors = []

    def run():
        try:
            barrier.wait()
            petition_publish_pending(petition_id=petition.pk)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def test_200_concurrent_redemptions_published_in_batches_cross_five_thresholds_once(
    smtp_server, webhook_receiver, open_petition, organizer, campaign, tmp_path
):
    # Goal 400: the ladder's 10, 25, 50, 100, 200 is also 25 % and 50 % of the goal; 150 is
    # not a threshold. Batches of at least 20 signatures of a level.
    Petition.objects.filter(pk=open_petition.pk).update(
        goal=400, publish_min_batch=20, publish_interval=0
    )
    open_petition.refresh_from_db()
    Webhook.objects.create(campaign=campaign, url=webhook_receiver.url)
    payloads = [json.dumps(mint(open_petition).payload()) for _ in range(SIGNERS)]

    with celery_worker(smtp_server, tmp_path, **FAST_RETRIES) as worker:
        done = threading.Event()

        def publisher():
            # Publication runs keep going while signatures arrive: two at a time.
            deadline = time.monotonic() + 300
            while not done.is_set() and time.monotonic() < deadline:
                _publication_runs_at_once(open_petition)
                time.sleep(0.2)

        publishing = threading.Thread(target=publisher)
        publishing.start()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda p: _redeem(open_petition, p), payloads, timeout=300))
        done.set()
        publishing.join(timeout=120)
        assert set(statuses) == {201}, set(statuses)
        # What is left (fewer than 20) goes out once the organizers allow small batches.
        Petition.objects.filter(pk=open_petition.pk).update(publish_min_batch=1)
        _publication_runs_at_once(open_petition)
        assert open_petition.publication_batches.count() >= 2  # it did cross in several batches

        assert wait_until(lambda: len(smtp_server.mailbox.messages) >= 5, timeout=60)
        assert wait_until(lambda: len(webhook_receiver.accepted()) >= 5, timeout=60)
        _publication_runs_at_once(open_petition)  # two more runs with nothing to publish
        settle(4)
        log = worker.log_path.read_text()

    thresholds = sorted(Notice.objects.values_list("threshold", flat=True))
    assert thresholds == [10, 25, 50, 100, 200], log
    assert Delivery.objects.filter(channel="email").count() == 5
    assert Delivery.objects.filter(channel="webhook").count() == 5
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert len(smtp_server.mailbox.messages) == 5
    assert len(webhook_receiver.requests) == 5
    hooked = sorted(json.loads(body)["threshold"] for _h, body, _s in webhook_receiver.requests)
    assert hooked == [10, 25, 50, 100, 200]
