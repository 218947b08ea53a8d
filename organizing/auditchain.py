"""The audit log's hash chains: tamper evidence against whoever owns the table.

The append-only trigger stops the app and a hand-typed UPDATE or DELETE, but the table's
owner can disable it, or TRUNCATE. So each row also carries its place in a chain (`seq`,
from 1), the hash of the row before it in that chain (`prev_hash`; 64 zeros for the first)
and its own hash over a canonical encoding of its fields (`hash`). Changing, removing or
inserting a row breaks every later link, which `manage.py audit_verify` finds; rewriting the
whole chain, or cutting its end, changes the head, which organizers see on the audit page
and in the daily digest, outside the database.

One chain per campaign, plus one for rows without a campaign (site-wide actions, the
system). Per campaign because organizers read only their own campaign's log: they can
check their chain end to end from what they are allowed to see, and the head they are shown
moves only with their own campaign's actions (a single chain would interleave other
campaigns' rows and leak when those act). It also keeps writers of different campaigns from
waiting on one lock.

The encoding (version 1), documented in docs/operations.md: the UTF-8 bytes of the JSON
object with exactly these keys, sorted, no spaces (`separators=(",", ":")`), non-ASCII
characters as themselves (`ensure_ascii=False`):

    v            1
    seq          the row's place in its chain (integer, from 1)
    prev         the previous row's hash (hex), 64 zeros for the first row
    campaign     the campaign's id, or null
    actor        the actor's user id, or null (the system)
    actor_email  the actor's address at the time ("" for the system)
    action, object_type, object_id, object_label   as stored (strings)
    details      the stored JSON object (its keys sorted like the rest)
    created_at   the time in UTC, ISO 8601 with microseconds and "+00:00"

and `hash` is the lowercase hex SHA-256 of those bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection

GENESIS = "0" * 64
ENCODING_VERSION = 1
# pg_advisory_xact_lock's first key: this lock's namespace among the app's advisory locks.
_LOCK_NAMESPACE = 0x4155_4454  # "AUDT"


def canonical_bytes(
    *,
    seq: int,
    prev_hash: str,
    campaign_id: int | None,
    actor_id: int | None,
    actor_email: str,
    action: str,
    object_type: str,
    object_id: str,
    object_label: str,
    details: Any,
    created_at: datetime,
) -> bytes:
    fields = {
        "v": ENCODING_VERSION,
        "seq": seq,
        "prev": prev_hash,
        "campaign": campaign_id,
        "actor": actor_id,
        "actor_email": actor_email,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_label": object_label,
        "details": details,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(**fields: Any) -> str:
    return hashlib.sha256(canonical_bytes(**fields)).hexdigest()


def entry_hash(entry) -> str:
    """The hash an AuditEntry (or a row with the same attributes) should carry."""
    return row_hash(
        seq=entry.seq,
        prev_hash=entry.prev_hash,
        campaign_id=entry.campaign_id,
        actor_id=entry.actor_id,
        actor_email=entry.actor_email,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        object_label=entry.object_label,
        details=entry.details,
        created_at=entry.created_at,
    )


def lock_chain(campaign_id: int | None) -> None:
    """Serialise appends to one chain until the transaction ends, so two writers cannot
    both read the same head and fork it (the unique (chain, seq) constraints would refuse
    the second anyway, as an error instead of a wait). An advisory lock, not a row lock:
    an empty chain has no row to lock, and the campaign row is locked for other reasons by
    other services. Other databases (SQLite) serialise writers by themselves."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # Keys are int4: a campaign id beyond 2**31 shares a lock with another, which costs
        # a wait, never a fork. -1 is the chain without a campaign.
        key = -1 if campaign_id is None else campaign_id % 2**31
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, key])


@dataclass(frozen=True)
class ChainBreak:
    """The first row where a chain stops adding up."""

    campaign_id: int | None
    entry_id: int | None
    seq: int | None
    problem: str


def verify_chain(rows) -> ChainBreak | None:
    """Walk one chain's rows (in `seq` order) and return its first break, or None.

    Each row must be the next place (no gap: a deleted row), link to the hash of the row
    before it, and carry the hash of its own fields (an edited row)."""
    previous = GENESIS
    expected_seq = 1
    for entry in rows:
        where = {"campaign_id": entry.campaign_id, "entry_id": entry.pk, "seq": entry.seq}
        if entry.seq != expected_seq:
            return ChainBreak(**where, problem=f"place {entry.seq} where {expected_seq} was due")
        if entry.prev_hash != previous:
            return ChainBreak(**where, problem="does not link to the row before it")
        if entry.hash != entry_hash(entry):
            return ChainBreak(**where, problem="its fields do not match its hash")
        previous = entry.hash
        expected_seq += 1
    return None
