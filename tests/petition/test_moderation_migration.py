"""Migration 0024 gives rows from before it the new states: a hidden entry hid both parts
for a reason in words ("other"), a delivered petition was delivered on the day it was
marked; going back gives every hidden entry words again, so the old constraint holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from petition.models import Petition, Signature
from petition.review import entry_approve, entry_hide
from petition.services import petition_close, petition_mark_delivered
from tests.organizing.test_moderation import sign

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("petition", "0023_tlog_backfill")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _row(signature) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT review, hidden_reason FROM petition_signature WHERE id = %s", [signature.pk]
        )
        return cursor.fetchone()


def test_hidden_entries_and_deliveries_from_before_get_the_new_states(moderator, open_petition):
    preset = sign(open_petition, display_name="Ada", comment="Bob on floor 3")
    typed = sign(open_petition, comment="Typed before presets existed")
    entry_hide(signature=preset, actor=moderator, reason="identifies", part="comment")
    entry_approve(signature=typed, actor=moderator)
    petition = petition_mark_delivered(petition=petition_close(petition=open_petition))

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    _migrate(BEFORE)
    assert _row(preset) == ("hidden", "identifies")  # words again, for the old rule
    with connection.cursor() as cursor:  # hidden the old way: words only
        cursor.execute(
            "UPDATE petition_signature SET review = 'hidden', hidden_reason = 'names Bob' "
            "WHERE id = %s",
            [typed.pk],
        )
    _migrate(latest)

    typed = Signature.objects.get(pk=typed.pk)
    assert (typed.review, typed.hidden_part, typed.hide_reason, typed.hidden_reason) == (
        "hidden",
        "both",
        "other",
        "names Bob",
    )
    preset = Signature.objects.get(pk=preset.pk)
    assert (preset.hidden_part, preset.hide_reason) == ("both", "other")
    petition = Petition.objects.get(pk=petition.pk)
    assert petition.delivered_on == timezone.localdate(petition.delivered_at)
    assert petition.delivery_note == ""
