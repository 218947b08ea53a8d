"""Publication in batches (issue 6, parts 3 and 4; issue 14 part 1): signatures become public
only in batches of at least k new signatures per level, decided at slot boundaries, in
nullifier order; withdrawals ride along or need k of their own; counts come from the
batches; nothing at rest keeps arrival order; two publication runs at once publish each
entry once."""

from __future__ import annotations

import datetime
import json
import random
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from petition import blindrsa, publication, publication_policy
from petition.models import PendingSignature, PendingWithdrawal, PublicationBatch, Signature
from petition.selectors import petition_count_history, petition_counts
from petition.services import petition_close, petition_publish
from petition.signals import counts_published
from petition.tasks import publication_sweep
from tests.signing_client import b64, mint

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def at(hours: int = 0) -> datetime.datetime:
    """Half a minute past an hour boundary (`hours` after the current one): when the beat's
    run decides that slot of an hourly policy."""
    return (
        publication_policy.slot_start(timezone.now(), 3600)
        + hours * HOUR
        + datetime.timedelta(seconds=30)
    )


def publish(petition, now, seed: int = 0) -> list[PublicationBatch]:
    return publication.petition_publish_pending(
        petition_id=petition.id, now=now, rng=random.Random(seed)
    )


@pytest.fixture
def batched_petition(draft_petition):
    """The production defaults: batches of at least 5, at most one an hour, a day's wait."""
    draft_petition.publish_interval = 3600
    draft_petition.publish_min_batch = 5
    draft_petition.publish_max_wait = 86400
    draft_petition.accepts_flyer = True
    draft_petition.save()
    return petition_publish(petition=draft_petition)


def sign(client, petition, credential, **extra):
    return client.post(
        f"/api/v1/petitions/{petition.slug}/signatures",
        json.dumps(credential.payload(**extra)),
        content_type="application/json",
    )


def withdraw(client, petition, credential):
    return client.post(
        f"/api/v1/petitions/{petition.slug}/withdrawals",
        json.dumps({"token": b64(credential.token)}),
        content_type="application/json",
    )


def public_state(client, petition) -> tuple[dict, list[dict]]:
    counts = client.get(f"/api/v1/petitions/{petition.slug}").json()["counts"]
    log = client.get(f"/api/v1/petitions/{petition.slug}/log").json()["entries"]
    return counts, log


def nullifier_of(credential) -> str:
    return b64(blindrsa.nullifier(credential.token))


def test_four_signatures_stay_private_and_the_fifth_publishes_all_five_in_nullifier_order(
    client, batched_petition
):
    credentials = [mint(batched_petition) for _ in range(5)]
    before = public_state(client, batched_petition)
    for hour, credential in enumerate(credentials[:4]):
        response = sign(client, batched_petition, credential)
        assert response.status_code == 201  # accepted at once
        assert response.json()["publication"]["min_batch"] == 5
        assert publish(batched_petition, at(hour)) == []
        assert public_state(client, batched_petition) == before
    assert before[0]["total"] == 0 and before[1] == []

    assert sign(client, batched_petition, credentials[4]).status_code == 201
    # Arrived after the last boundary was decided: waits for the next one.
    assert publish(batched_petition, at(3) + datetime.timedelta(minutes=1)) == []
    publish(batched_petition, at(5))
    counts, log = public_state(client, batched_petition)
    assert counts == {"total": 5, "work_email": 0, "in_person": 5, "flyer": 0}
    expected = sorted(blindrsa.nullifier(c.token) for c in credentials)
    assert [e["nullifier"] for e in log] == [b64(n) for n in expected]
    assert PendingSignature.objects.count() == 0


def test_the_receipt_says_by_when_the_signature_is_public(client, batched_petition):
    body = sign(client, batched_petition, mint(batched_petition)).json()
    today = timezone.now().date()
    assert body["publication"]["immediate"] is False
    # Arrived today: overdue one day after the end of today at the latest.
    assert body["publication"]["public_by"] == (today + datetime.timedelta(days=2)).isoformat()


def test_the_interval_holds_the_next_batch_back_until_its_slot_is_over(client, batched_petition):
    for _ in range(5):
        sign(client, batched_petition, mint(batched_petition))
    assert len(publish(batched_petition, at(0))) == 1
    for _ in range(5):
        sign(client, batched_petition, mint(batched_petition))
    # The slot is decided: five more arriving after its boundary wait for the next one.
    assert publish(batched_petition, at(0) + datetime.timedelta(minutes=1)) == []
    assert petition_counts(batched_petition)["total"] == 5
    assert publish(batched_petition, at(1))
    assert petition_counts(batched_petition)["total"] == 10


def test_only_a_run_soon_after_a_boundary_decides_its_slot(client, batched_petition):
    """The k-th entry arriving mid-slot does not close a batch: no run decides the slot
    more than DECISION_WINDOW after its boundary, whether or not anything was waiting."""
    for _ in range(5):
        sign(client, batched_petition, mint(batched_petition))
    late = at(0) + datetime.timedelta(seconds=publication_policy.DECISION_WINDOW)
    assert publish(batched_petition, late) == []
    assert publish(batched_petition, late + datetime.timedelta(minutes=20)) == []
    assert petition_counts(batched_petition)["total"] == 0
    assert publish(batched_petition, at(1))
    assert petition_counts(batched_petition)["total"] == 5


def test_fewer_than_k_waiting_are_never_published_while_open_even_past_the_maximum_wait(
    client, batched_petition
):
    for _ in range(4):
        sign(client, batched_petition, mint(batched_petition))
    due = publication_policy.overdue_at(timezone.now().date(), batched_petition.publish_max_wait)
    for days in range(3):  # past the maximum wait, at each boundary for a while
        later = publication_policy.slot_start(due, 3600) + datetime.timedelta(days=days, seconds=30)
        assert publish(batched_petition, later) == []
    assert petition_counts(batched_petition)["total"] == 0
    sign(client, batched_petition, mint(batched_petition))  # the fifth: merged with the four
    batches = publish(batched_petition, later + HOUR)
    assert [(b.added, b.number) for b in batches] == [(5, 1)]
    assert petition_counts(batched_petition)["total"] == 5


def test_the_pool_mix_draws_part_of_a_large_pool_and_everything_past_the_maximum_wait(
    client, batched_petition
):
    for _ in range(20):
        sign(client, batched_petition, mint(batched_petition))
    published = []
    for hour in range(3):
        published += [b.added for b in publish(batched_petition, at(hour), seed=hour)]
    # Seeded: each boundary took a random part (at least k), never the whole pool at once.
    assert all(5 <= added < 20 for added in published) and published, published
    waiting = PendingSignature.objects.filter(petition=batched_petition).count()
    assert sum(published) + waiting == 20
    assert petition_counts(batched_petition)["total"] == sum(published)
    if waiting >= 5:  # past the maximum wait every waiting signature is drawn
        due = publication_policy.overdue_at(
            timezone.now().date(), batched_petition.publish_max_wait
        )
        batches = publish(batched_petition, publication_policy.slot_start(due, 3600) + HOUR)
        assert [b.added for b in batches] == [waiting]


def test_closing_publishes_everything_pending(client, batched_petition):
    for level in ("in_person", "in_person", "flyer"):
        sign(client, batched_petition, mint(batched_petition, level))
    assert petition_counts(batched_petition)["total"] == 0
    petition_close(petition=batched_petition)
    assert petition_counts(batched_petition) == {
        "total": 3,
        "work_email": 0,
        "in_person": 2,
        "flyer": 1,
    }
    assert PendingSignature.objects.count() == 0


def test_a_withdrawal_becomes_public_only_with_a_batch(client, batched_petition):
    credentials = [mint(batched_petition) for _ in range(5)]
    for credential in credentials:
        sign(client, batched_petition, credential)
    publish(batched_petition, at(0))
    assert withdraw(client, batched_petition, credentials[0]).status_code == 200
    assert withdraw(client, batched_petition, credentials[0]).status_code == 200  # twice: once

    publish(batched_petition, at(1))
    counts, log = public_state(client, batched_petition)
    assert counts["total"] == 5  # one waiting withdrawal is not a batch
    assert not any(e["withdrawn"] for e in log)

    for _ in range(4):  # four signatures and the withdrawal: still no batch
        sign(client, batched_petition, mint(batched_petition))
    assert publish(batched_petition, at(2)) == []
    sign(client, batched_petition, mint(batched_petition))  # five new signatures
    publish(batched_petition, at(3))
    counts, log = public_state(client, batched_petition)
    assert counts["total"] == 9
    assert [e["nullifier"] for e in log if e["withdrawn"]] == [nullifier_of(credentials[0])]
    newest = PublicationBatch.objects.get(petition=batched_petition, number=2)
    assert (newest.added, newest.withdrawn, newest.total) == (5, 1, 9)
    assert PendingWithdrawal.objects.count() == 0


def test_withdrawals_go_out_on_their_own_only_k_at_a_time(client, batched_petition):
    credentials = [mint(batched_petition) for _ in range(5)]
    for credential in credentials:
        sign(client, batched_petition, credential)
    publish(batched_petition, at(0))
    assert petition_counts(batched_petition)["total"] == 5
    for credential in credentials[:4]:
        withdraw(client, batched_petition, credential)
    assert publish(batched_petition, at(1)) == []  # four withdrawals: not a batch
    withdraw(client, batched_petition, credentials[4])
    (batch,) = publish(batched_petition, at(2))
    assert (batch.added, batch.withdrawn) == (0, 5)
    assert petition_counts(batched_petition)["total"] == 0


def test_a_signature_withdrawn_before_its_batch_is_published_as_withdrawn(client, batched_petition):
    credentials = [mint(batched_petition) for _ in range(6)]
    for credential in credentials:
        sign(client, batched_petition, credential)
    withdraw(client, batched_petition, credentials[1])
    # Five live signatures fill the batch; the withdrawn one rides along, counting for nothing.
    (batch,) = publish(batched_petition, at(0))
    assert (batch.added, batch.withdrawn) == (6, 1)
    counts, log = public_state(client, batched_petition)
    assert counts["total"] == 5 and len(log) == 6
    assert [e["nullifier"] for e in log if e["withdrawn"]] == [nullifier_of(credentials[1])]


def test_signatures_withdrawn_while_waiting_never_fill_a_batch(client, batched_petition):
    credentials = [mint(batched_petition) for _ in range(5)]
    for credential in credentials:
        sign(client, batched_petition, credential)
    for credential in credentials[:4]:
        withdraw(client, batched_petition, credential)
    assert publish(batched_petition, at(0)) == []  # one live signature and four withdrawn
    assert Signature.objects.filter(petition=batched_petition).count() == 0


def test_a_second_use_is_refused_whether_the_twin_is_pending_or_published(client, batched_petition):
    pending, published = mint(batched_petition), mint(batched_petition)
    sign(client, batched_petition, pending)
    response = sign(client, batched_petition, pending)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "already_signed")

    sign(client, batched_petition, published)
    batched_petition.publish_min_batch, batched_petition.publish_interval = 1, 0
    batched_petition.save()
    publication_sweep()
    assert Signature.objects.filter(petition=batched_petition).count() == 2
    response = sign(client, batched_petition, published)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "already_signed")
    assert PendingSignature.objects.count() == 0


def test_withdrawing_an_unknown_token_is_404_and_records_nothing(client, batched_petition):
    response = withdraw(client, batched_petition, mint(batched_petition))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert PendingWithdrawal.objects.count() == 0


def test_counts_are_read_from_batches_not_from_signature_rows(client, batched_petition):
    for _ in range(5):
        sign(client, batched_petition, mint(batched_petition))
    publish(batched_petition, at(0))
    with CaptureQueriesContext(connection) as queries:
        assert petition_counts(batched_petition)["total"] == 5
        client.get(f"/api/v1/petitions/{batched_petition.slug}")
        client.get(batched_petition.get_absolute_url())
    touching = [q["sql"] for q in queries if "petition_signature" in q["sql"]]
    # The only signature read is the page's bounded list of approved names and comments
    # (an index holds just the rows that have one): nothing counts rows.
    assert not [sql for sql in touching if "COUNT(" in sql.upper()]
    assert all(sql.rstrip().endswith("LIMIT 100") for sql in touching)
    assert len([q for q in queries if "petition_publicationbatch" in q["sql"]]) >= 3


def test_count_history_is_the_cumulative_total_per_day(batched_petition):
    day = datetime.date(2026, 11, 2)
    rows = [  # (day, level, number, added, withdrawn, total_added, total_withdrawn)
        (day, "in_person", 1, 5, 0, 5, 0),
        (day, "flyer", 1, 6, 0, 6, 0),
        (day + datetime.timedelta(days=1), "in_person", 2, 5, 2, 10, 2),
        (day + datetime.timedelta(days=3), "in_person", 3, 7, 0, 17, 2),
    ]
    for published_on, level, number, added, withdrawn, total_added, total_withdrawn in rows:
        PublicationBatch.objects.create(
            petition=batched_petition,
            level=level,
            number=number,
            published_on=published_on,
            added=added,
            withdrawn=withdrawn,
            total_added=total_added,
            total_withdrawn=total_withdrawn,
        )
    assert petition_count_history(batched_petition) == [
        (day, 11),
        (day + datetime.timedelta(days=1), 14),
        (day + datetime.timedelta(days=3), 21),
    ]
    assert petition_counts(batched_petition)["total"] == 21


def test_counts_published_is_sent_after_the_batch_commits(
    client, batched_petition, django_capture_on_commit_callbacks
):
    received = []

    def listener(sender, petition_id, **kwargs):
        received.append((petition_id, petition_counts(batched_petition)["total"]))

    counts_published.connect(listener)
    try:
        for _ in range(5):
            sign(client, batched_petition, mint(batched_petition))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            publish(batched_petition, at(0))
        assert received == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        counts_published.disconnect(listener)
    assert received == [(batched_petition.id, 5)]


def _copy_published_table(petition) -> list[tuple[bytes, str]]:
    """The table as `COPY … TO STDOUT` (what pg_dump writes) returns it: physical order."""
    rows = []
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY petition_signature (petition_id, nullifier, batch_id) TO STDOUT"
        ) as copy,
    ):
        for petition_id, nullifier, batch_id in copy.rows():
            if petition_id == str(petition.id):
                rows.append((nullifier, batch_id))
    return rows


def test_a_copy_dump_of_the_published_table_is_in_nullifier_order_within_each_batch(
    client, batched_petition
):
    assert connection.vendor == "postgresql"
    credentials = [mint(batched_petition) for _ in range(12)]
    # Arrival order is the reverse of nullifier order, so a dump in arrival order would fail.
    credentials.sort(key=lambda c: blindrsa.nullifier(c.token), reverse=True)
    for credential in credentials[:6]:
        sign(client, batched_petition, credential)
    publish(batched_petition, at(0))
    for credential in credentials[6:]:
        sign(client, batched_petition, credential)
    publish(batched_petition, at(1))
    petition_close(petition=batched_petition)  # whatever the draws left

    dump = _copy_published_table(batched_petition)
    assert len(dump) == 12
    batch_ids = [batch_id for _, batch_id in dump]
    batches = list(PublicationBatch.objects.filter(petition=batched_petition))
    # Each batch is one contiguous run, in nullifier order.
    assert batch_ids == [str(b.id) for b in batches for _ in range(b.added)]
    for batch_id in {str(b.id) for b in batches}:
        nullifiers = [n for n, b in dump if b == batch_id]
        assert nullifiers == sorted(nullifiers)
    assert [n for n, _ in dump][:6] != [
        "\\x" + blindrsa.nullifier(c.token).hex() for c in credentials[:6]
    ]


def test_the_log_is_paginated_by_nullifier(client, batched_petition):
    key = batched_petition.keys.get(level="in_person")
    batch = PublicationBatch.objects.create(
        petition=batched_petition,
        level="in_person",
        number=1,
        published_on=timezone.now().date(),
        added=2500,
        withdrawn=0,
        total_added=2500,
        total_withdrawn=0,
    )
    import secrets

    Signature.objects.bulk_create(
        Signature(
            petition=batched_petition,
            batch=batch,
            key=key,
            level="in_person",
            nullifier=secrets.token_bytes(32),
            msg=b"m" * 127,
            sig=b"s" * 256,
        )
        for _ in range(2500)
    )
    url = f"/api/v1/petitions/{batched_petition.slug}/log"
    seen, sizes = [], []
    for _ in range(5):  # bounded: three pages expected
        page = client.get(url).json()
        sizes.append(len(page["entries"]))
        seen += [e["nullifier"] for e in page["entries"]]
        if page["next"] is None:
            break
        assert page["next"].startswith(f"/api/v1/petitions/{batched_petition.slug}/log?after=")
        url = page["next"]
    assert sizes == [1000, 1000, 500]
    raw = [blindrsa.b64url_decode(n) for n in seen]
    assert raw == sorted(raw) and len(set(raw)) == 2500


@pytest.mark.parametrize("after", ["***", b64(b"\x01" * 31), b64(b"\x01" * 32) + "="])
def test_a_malformed_log_cursor_is_400(client, batched_petition, after):
    response = client.get(f"/api/v1/petitions/{batched_petition.slug}/log", {"after": after})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "malformed")


def test_the_log_is_rate_limited(client, batched_petition, settings):
    from django.core.cache import cache

    settings.COUNTERSIGN_RATE_LIMITS = {**settings.COUNTERSIGN_RATE_LIMITS, "log": (2, 600)}
    cache.clear()
    url = f"/api/v1/petitions/{batched_petition.slug}/log"
    statuses = [client.get(url, REMOTE_ADDR="192.0.2.77").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get(url, REMOTE_ADDR="192.0.2.78").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_publication_runs_publish_each_entry_once(draft_petition):
    assert connection.vendor == "postgresql"
    draft_petition.publish_interval = 3600
    draft_petition.publish_min_batch = 5
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    client = Client()
    credentials = [mint(petition) for _ in range(20)]
    for credential in credentials:
        assert sign(client, petition, credential).status_code == 201
    errors: list[BaseException] = []
    barrier = threading.Barrier(6, timeout=30)
    boundary = at(0)

    def run():
        try:
            barrier.wait()
            publication.petition_publish_pending(petition_id=petition.id, now=boundary)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    # One run decided the slot; the others found it decided.
    (batch,) = PublicationBatch.objects.filter(petition=petition)
    assert Signature.objects.filter(petition=petition).count() == batch.added >= 5
    assert PendingSignature.objects.filter(petition=petition).count() == 20 - batch.added
    assert petition_counts(petition)["total"] == batch.added


@pytest.mark.django_db(transaction=True)
def test_a_redemption_racing_the_batch_that_publishes_its_twin_gets_409(
    draft_petition, monkeypatch
):
    """The batch moving the twin is held open after its last statement; the second
    redemption must wait for it and then see the twin published."""
    assert connection.vendor == "postgresql"
    draft_petition.publish_interval = 3600
    draft_petition.publish_min_batch = 1
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    credential = mint(petition)
    assert sign(Client(), petition, credential).status_code == 201

    mid_batch, release = threading.Event(), threading.Event()
    real_on_commit = transaction.on_commit

    def hold_open(func, *args, **kwargs):
        mid_batch.set()
        release.wait(timeout=30)
        real_on_commit(func, *args, **kwargs)

    monkeypatch.setattr(publication.transaction, "on_commit", hold_open)
    statuses: list[int] = []

    def publish():
        try:
            publication.petition_publish_pending(petition_id=petition.id, now=at(0))
        finally:
            connection.close()

    def redeem_again():
        try:
            statuses.append(sign(Client(), petition, credential).status_code)
        finally:
            connection.close()

    publisher = threading.Thread(target=publish)
    publisher.start()
    assert mid_batch.wait(timeout=30)
    redeemer = threading.Thread(target=redeem_again)
    redeemer.start()
    time.sleep(1)
    assert statuses == []  # waiting for the batch's transaction
    release.set()
    publisher.join(timeout=30)
    redeemer.join(timeout=30)
    assert statuses == [409]
    assert Signature.objects.filter(petition=petition).count() == 1
    assert PendingSignature.objects.filter(petition=petition).count() == 0
