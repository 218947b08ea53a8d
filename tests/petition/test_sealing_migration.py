"""The upgrade seals the signatures that wait at that moment (migration 0020):
they open afterwards with their fields intact, and the clear columns are gone."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from petition import sealing
from petition.models import Petition
from petition.services import petition_publish

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("petition", "0019_window_keys")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_the_upgrade_seals_waiting_signatures(draft_petition):
    draft_petition.accepts_flyer = True
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    key = petition.keys.get(level="flyer")
    try:
        old_apps = _migrate(BEFORE).loader.project_state(BEFORE).apps
        waiting = old_apps.get_model("petition", "PendingSignature")
        for i in range(3):
            waiting.objects.create(
                id=uuid.uuid4(),
                petition_id=petition.pk,
                key_id=key.pk,
                level="flyer",
                nullifier=bytes([i]) * 32,
                msg=b"m" * 127,
                sig=b"s" * 256,
                display_name=f"Name {i}",
                comment=f"waited through the upgrade {i}",
                received_on=datetime.date(2026, 12, 1),
            )
    finally:
        _migrate(latest)

    entries = sealing.waiting_signatures_open(Petition.objects.get(pk=petition.pk), "flyer")
    assert [(e.nullifier, e.comment, e.key_id) for e in entries] == [
        (bytes([i]) * 32, f"waited through the upgrade {i}", key.pk) for i in range(3)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM petition_pendingsignature")
        dump = repr(cursor.fetchall())
    assert "waited through the upgrade" not in dump and "Name 1" not in dump
