"""A batch job killed mid-batch loses no signature and publishes nothing twice (issue 14,
bad input and faults; issue 19, item 3): a real Celery worker, its broker and the sealing
store on a private redis-server, is SIGKILLed

- while its publication batch has written the published rows and waits, on a lock this test
  holds, to delete the waiting ones: nothing of the batch commits;
- after one petition's batch has committed, while the same sweep waits for the next
  petition's row: the committed batch stays, the rest waits.

Started again, the next sweep (beat's next minute) publishes every entry once: rows, batch
counts and transparency-log entries are counted after."""

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
from petition.services import petition_close, petition_publish
from petition.tasks import publication_sweep
from petition.tlog.entries import KIND_SIGNATURE, KIND_SUMMARY
from petition.tlog.models import LogEntry
from tests.factories import PetitionFactory
from tests.signing_client import mint

from .conftest import celery_worker
from .test_milestones import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.faults, pytest.mark.django_db(transaction=True)]

SIGNERS = 30
BLOCKED_DELETE = """
    SELECT pid FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM "petition_pendingsignature"%%'
"""


def _dsn() -> str:
    s = connection.settings_dict
    return f"host={s['HOST']} port={s['PORT']} user={s['USER']} dbname={s['NAME']}"


def _blocked_batches(admin: psycopg.Connection, query: str = BLOCKED_DELETE) -> list[int]:
    return [row[0] for row in admin.execute(query).fetchall()]


@pytest.fixture
def private_stores(settings, private_redis):
    """The sealing store on the private Redis (the worker follows: worker_environment reads
    these settings), which is the broker too; its URL."""
    settings.CACHES = {
        **settings.CACHES,
        "sealing": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "KEY_PREFIX": "faults-sealing",
            "TIMEOUT": None,
        },
    }
    return private_redis.url


def _sign(petition: Petition, count: int) -> list[bytes]:
    credentials = [mint(petition) for _ in range(count)]
    client = Client()
    for credential in credentials:
        response = client.post(
            f"/api/v1/petitions/{petition.slug}/signatures",
            json.dumps(credential.payload()),
            content_type="application/json",
        )
        assert response.status_code == 201
    return sorted(blindrsa.nullifier(c.token) for c in credentials)


def _assert_published_once(petition: Petition, expected: list[bytes]) -> None:
    published = list(
        Signature.objects.filter(petition=petition).values_list("nullifier", flat=True)
    )
    assert sorted(bytes(n) for n in published) == expected  # none lost, none twice
    assert not PendingSignature.objects.filter(petition=petition).exists()
    batches = list(PublicationBatch.objects.filter(petition=petition).order_by("number"))
    assert [b.number for b in batches] == list(range(1, len(batches) + 1))
    assert sum(b.added for b in batches) == batches[-1].total_added == len(expected)
    assert petition_counts(petition)["total"] == len(expected)
    entries = LogEntry.objects.filter(petition_id=petition.id)
    assert entries.filter(kind=KIND_SIGNATURE).count() == len(expected)
    assert entries.filter(kind=KIND_SUMMARY).count() == len(batches)


def _assert_log_unbroken() -> None:
    positions = list(LogEntry.objects.values_list("position", flat=True))
    assert positions == list(range(len(positions)))  # ordered by position: no gap, no twin


def test_a_batch_job_killed_mid_batch_loses_no_signature_and_publishes_nothing_twice(
    smtp_server, tmp_path, open_petition, private_stores
):
    assert connection.vendor == "postgresql"
    # k = 5, interval 0: every run decides, so the restarted worker's run publishes at once.
    Petition.objects.filter(pk=open_petition.pk).update(publish_min_batch=5, publish_interval=0)
    open_petition.refresh_from_db()
    expected = _sign(open_petition, SIGNERS)

    with (
        psycopg.connect(_dsn(), autocommit=True) as admin,
        psycopg.connect(_dsn()) as holder,
        celery_worker(smtp_server, tmp_path, broker_url=private_stores) as worker,
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
    _assert_published_once(open_petition, expected)
    _assert_log_unbroken()


BLOCKED_PETITION = """
    SELECT pid FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT %%"petition_petition"%%FOR NO KEY UPDATE'
"""


def test_a_sweep_killed_between_two_petitions_keeps_the_first_batch_and_repeats_nothing(
    smtp_server, tmp_path, campaign, private_stores
):
    """One sweep publishes petition after petition (in id order), each batch its own
    transaction. Killed after the first petition's batch committed: that batch stays, and
    the next sweep publishes the second petition and nothing of the first again."""
    petitions = [petition_publish(petition=PetitionFactory(campaign=campaign)) for _ in range(2)]
    # k = 5, interval 0: every run decides (a draw of at least 5 of those waiting).
    Petition.objects.filter(pk__in=[p.pk for p in petitions]).update(
        publish_min_batch=5, publish_interval=0
    )
    first, second = (Petition.objects.get(pk=pk) for pk in sorted(p.pk for p in petitions))
    expected = {first.pk: _sign(first, 12), second.pk: _sign(second, 8)}

    with (
        psycopg.connect(_dsn(), autocommit=True) as admin,
        psycopg.connect(_dsn()) as holder,
        celery_worker(smtp_server, tmp_path, broker_url=private_stores) as worker,
    ):
        # The second petition's row, held: the sweep publishes the first, then waits here.
        holder.execute("SELECT id FROM petition_petition WHERE id = %s FOR UPDATE", [second.pk])
        publication_sweep.delay()
        blocked = wait_until(lambda: _blocked_batches(admin, BLOCKED_PETITION), timeout=60)
        assert blocked, worker.log_path.read_text()
        worker.kill()  # SIGKILL between two petitions: the first batch is committed
        holder.rollback()

        (batch,) = PublicationBatch.objects.filter(petition=first)
        assert Signature.objects.filter(petition=first).count() == batch.added >= 5
        assert not Signature.objects.filter(petition=second).exists()

        # The task was never acknowledged (acks_late): Redis gives it back after the
        # visibility timeout, and beat sends a sweep every minute; here, the next sweep.
        worker.start()
        publication_sweep.delay()
        assert wait_until(
            lambda: PublicationBatch.objects.filter(petition=second).exists(), timeout=60
        ), worker.log_path.read_text()

    # The late redelivery of the killed sweep, run here: the first petition's batch is
    # not made again (only a new draw of what still waits, numbered next).
    publication_sweep.apply()
    again = PublicationBatch.objects.filter(petition=first).exclude(pk=batch.pk)
    assert all(b.number > 1 for b in again)
    assert (
        not Signature.objects.filter(petition=first, batch__in=again)
        .filter(nullifier__in=Signature.objects.filter(batch=batch).values("nullifier"))
        .exists()
    )

    # Nothing of either petition went out twice, nothing was lost.
    for petition in (first, second):
        petition_close(petition=petition)
        _assert_published_once(petition, expected[petition.pk])
    _assert_log_unbroken()
