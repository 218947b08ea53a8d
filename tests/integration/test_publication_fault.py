"""A batch job killed mid-batch loses no signature and publishes nothing twice (issue 14,
bad input and faults): a real Celery worker is SIGKILLed while its publication batch has
written the published rows and waits, on a lock this test holds, to delete the waiting ones;
started again, it publishes every entry once."""

from __future__ import annotations

import json

import psycopg
import pytest
from django.db import connection
from django.test import Client

from petition import blindrsa
from petition.models import PendingSignature, Petition, PublicationBatch, Signature
from petition.publication import petition_publish_pending
from petition.selectors import petition_counts
from petition.services import petition_close
from petition.tasks import publication_sweep
from tests.signing_client import mint

from .conftest import celery_worker
from .test_milestones import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SIGNERS = 30
BLOCKED_DELETE = """
    SELECT pid FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM "petition_pendingsignature"%%'
"""


def _dsn() -> str:
    s = connection.settings_dict
    return f"host={s['HOST']} port={s['PORT']} user={s['USER']} dbname={s['NAME']}"


def _blocked_batches(admin: psycopg.Connection) -> list[int]:
    return [row[0] for row in admin.execute(BLOCKED_DELETE).fetchall()]


def test_a_batch_job_killed_mid_batch_loses_no_signature_and_publishes_nothing_twice(
    smtp_server, tmp_path, open_petition
):
    assert connection.vendor == "postgresql"
    # k = 5, interval 0: every run decides, so the restarted worker's run publishes at once.
    Petition.objects.filter(pk=open_petition.pk).update(publish_min_batch=5, publish_interval=0)
    open_petition.refresh_from_db()
    credentials = [mint(open_petition) for _ in range(SIGNERS)]
    client = Client()
    for credential in credentials:
        response = client.post(
            f"/api/v1/petitions/{open_petition.slug}/signatures",
            json.dumps(credential.payload()),
            content_type="application/json",
        )
        assert response.status_code == 201
    expected = sorted(blindrsa.nullifier(c.token) for c in credentials)

    with (
        psycopg.connect(_dsn(), autocommit=True) as admin,
        psycopg.connect(_dsn()) as holder,
        celery_worker(smtp_server, tmp_path) as worker,
    ):
        # Hold every waiting row: the batch can insert its rows but not delete these.
        holder.execute(
            "SELECT id FROM petition_pendingsignature WHERE petition_id = %s FOR UPDATE",
            [open_petition.pk],
        )
        publication_sweep.delay()
        assert wait_until(lambda: _blocked_batches(admin), timeout=60), worker.log_path.read_text()
        (backend,) = _blocked_batches(admin)
        worker.kill()  # SIGKILL mid-batch: published rows written, not committed
        holder.rollback()
        # The orphaned backend finds its client gone and rolls back; bounded wait.
        gone = wait_until(
            lambda: (
                not admin.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND xact_start IS NOT NULL",
                    [backend],
                ).fetchall()
            ),
            timeout=30,
        )
        if not gone:  # a server that never notices: end that one backend of the dead worker
            admin.execute("SELECT pg_terminate_backend(%s)", [backend])

        assert not Signature.objects.filter(petition=open_petition).exists()
        assert not PublicationBatch.objects.filter(petition=open_petition).exists()
        assert PendingSignature.objects.filter(petition=open_petition).count() == SIGNERS

        worker.start()
        publication_sweep.delay()
        assert wait_until(
            lambda: PublicationBatch.objects.filter(petition=open_petition).exists(), timeout=60
        ), worker.log_path.read_text()

    for _ in range(10):  # bounded: more runs while five or more wait (each draws at least 5)
        if PendingSignature.objects.filter(petition=open_petition).count() < 5:
            break
        petition_publish_pending(petition_id=open_petition.pk)
    petition_close(petition=open_petition)

    published = list(
        Signature.objects.filter(petition=open_petition).values_list("nullifier", flat=True)
    )
    assert sorted(bytes(n) for n in published) == expected  # none lost, none twice
    assert not PendingSignature.objects.filter(petition=open_petition).exists()
    batches = list(PublicationBatch.objects.filter(petition=open_petition).order_by("number"))
    assert [b.number for b in batches] == list(range(1, len(batches) + 1))
    assert sum(b.added for b in batches) == batches[-1].total_added == SIGNERS
    assert petition_counts(open_petition)["total"] == SIGNERS
