"""The append-only audit log of staff actions (threat model, adversary 3).

Every staff-side service calls `audit_record` inside the transaction that does the work, so
an action and its record commit together or not at all. Rows are never changed or deleted:
the model and its queryset refuse, and on PostgreSQL (and SQLite) a trigger refuses UPDATE
and DELETE for raw SQL too (migration organizing 0002).

Nothing here is about a signer: callers pass staff-side facts only.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models
from django.db.models import QuerySet

from .models import AuditAction, AuditEntry, Campaign, User

DETAILS_MAX_BYTES = 2000
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def audit_record(
    *,
    actor: User | None,
    action: str,
    campaign: Campaign | None,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one staff action. `actor=None` is the system (command line, scheduled task).

    Call it inside the service's transaction. `details` must be small and JSON-serialisable,
    and must never carry a signer's name, comment, address or time.
    """
    action = AuditAction(action).value  # an unknown action is a programming error
    # Facts only: an empty value says nothing and would show as "None" in the log.
    details = {key: value for key, value in (details or {}).items() if value is not None}
    encoded = json.dumps(details, sort_keys=True, default=str)
    if len(encoded.encode()) > DETAILS_MAX_BYTES:
        raise ValueError("audit details are limited to a few facts")
    return AuditEntry.objects.create(
        campaign=campaign,
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        action=action,
        object_type=target._meta.model_name if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_label=str(target)[:200] if target is not None else "",
        details=json.loads(encoded),
    )


def audit_entries_for_campaign(campaign: Campaign) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(campaign=campaign).order_by("-created_at", "-id")


def _safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        # OWASP's advice for CSV injection: make the cell plain text.
        return "'" + text
    return text


CSV_HEADER = ("date_time_utc", "actor", "action", "object_type", "object_id", "object", "details")


def audit_csv_rows(entries: Iterable[AuditEntry]) -> Iterator[list[str]]:
    yield list(CSV_HEADER)
    for entry in entries:
        yield [
            _safe_cell(value)
            for value in (
                entry.created_at.isoformat(timespec="seconds"),
                entry.actor_email or "system",
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.object_label,
                json.dumps(entry.details, sort_keys=True) if entry.details else "",
            )
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """CSV text line by line, for a streaming response."""
    writer = csv.writer(_Echo())
    for row in audit_csv_rows(entries):
        yield writer.writerow(row)
