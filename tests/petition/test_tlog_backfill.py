"""Migration 0023 backfills the log from what was published before it: the same entries,
byte for byte, that the batches write live, and one checkpoint per batch."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from petition.models import LogCheckpoint, LogEntry
from petition.services import petition_publish
from petition.tlog import merkle, notes, services
from tests.signing_client import mint

from .test_publication import at, publish, sign, withdraw

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("petition", "0021_drop_clear_waiting_columns")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_the_backfill_writes_what_the_batches_wrote(client, draft_petition):
    draft_petition.publish_interval = 3600
    draft_petition.publish_min_batch = 5
    draft_petition.accepts_flyer = True
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    first = [mint(petition) for _ in range(5)] + [mint(petition, "flyer") for _ in range(5)]
    for credential in first:
        sign(client, petition, credential)
    publish(petition, at(0))
    second = [mint(petition) for _ in range(6)]
    for credential in second:
        sign(client, petition, credential)
    withdraw(client, petition, second[0])
    withdraw(client, petition, first[1])
    publish(petition, at(1))
    live = [bytes(e.data) for e in LogEntry.objects.order_by("position")]
    sizes = list(LogCheckpoint.objects.order_by("size").values_list("size", flat=True))
    assert len(sizes) == 3

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    _migrate(BEFORE)  # the log's tables go; the published signatures stay
    _migrate(latest)

    backfilled = [bytes(e.data) for e in LogEntry.objects.order_by("position")]
    # Same entries; the order of two batches of one day differs: live runs go level by
    # level (work_email, in_person, flyer), the migration sorts by level name.
    assert sorted(backfilled) == sorted(live) and len(backfilled) == len(live)
    assert backfilled[:6] == live[6:12] and backfilled[6:] == [*live[:6], *live[12:]]
    assert list(LogCheckpoint.objects.order_by("size").values_list("size", flat=True)) == sizes
    latest_checkpoint = LogCheckpoint.objects.order_by("-size").first()
    text, _ = notes.verify_note(latest_checkpoint.note, [services.log_verifier()])
    assert notes.parse_checkpoint(text).root == merkle.root_from_hashes(
        [merkle.leaf_hash(e) for e in backfilled]
    )
