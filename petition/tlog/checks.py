"""System checks of the transparency log (countersign.E022 to E025)."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core import checks
from django.db import DatabaseError
from django.db.models import Max

from ..models import LogCheckpoint, LogKey, WitnessState
from . import services, witness


@checks.register(checks.Tags.security)
def log_configuration(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    try:
        witnesses = witness.parse_witnesses(settings.COUNTERSIGN_WITNESSES)
    except ValueError as error:
        witnesses = []
        errors.append(
            checks.Error(
                f"COUNTERSIGN_WITNESSES: {error}",
                hint='A JSON list of {"name": ..., "url": ..., "vkey": ...} (docs/operations.md).',
                id="countersign.E023",
            )
        )
    if getattr(settings, "COUNTERSIGN_PRODUCTION", False):
        errors += [
            checks.Error(
                f"Witness {w.name} is reached over plain HTTP.",
                hint="Use its https:// submission URL.",
                id="countersign.E024",
            )
            for w in witnesses
            if w.url.startswith("http://")
        ]
    with contextlib.suppress(DatabaseError):  # before `migrate`: nothing to compare yet
        errors += _database_state()
    return errors


def _database_state() -> list[checks.CheckMessage]:
    errors = []
    key = LogKey.objects.filter(pk=1).first()
    if key is not None and key.name != services.log_origin():
        errors.append(
            checks.Error(
                f"The log's origin is {key.name}, but COUNTERSIGN_BASE_URL makes it "
                f"{services.log_origin()}.",
                hint="A log never changes its origin: set COUNTERSIGN_BASE_URL back "
                "(docs/operations.md, the transparency log).",
                id="countersign.E022",
            )
        )
    latest = LogCheckpoint.objects.aggregate(size=Max("size"))["size"] or 0
    ahead = WitnessState.objects.filter(size__gt=latest).order_by("name")
    errors += [
        checks.Error(
            f"Witness {state.name} cosigned size {state.size}, but the log has only "
            f"{latest} entries: the database was rolled back.",
            hint="Never restore an older database over the log; see docs/operations.md, backups.",
            id="countersign.E025",
        )
        for state in ahead
    ]
    return errors
