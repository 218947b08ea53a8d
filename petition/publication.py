"""Publication in batches (threat model, timing; issue 6 parts 3 and 4).

A redeemed signature waits in PendingSignature, a withdrawal in PendingWithdrawal. A batch
moves every waiting entry of one petition and level into the public log and counts, in one
transaction, inserting signatures in nullifier order, so that neither the public log nor the
published table's physical order tells who arrived when. A batch goes out when

- the petition is no longer open (closing publishes everything), or
- an entry has waited `publish_max_wait` seconds past the end of the day it arrived on (only
  the day is kept, so the real wait is between that and one day more), or
- at least `publish_min_batch` entries wait and the interval slot of the previous batch is
  over (slots are multiples of `publish_interval` seconds since the epoch).

Safe to run twice at once: each batch starts by locking the petition row, so a second run
waits for the first one's batch to commit and then finds nothing left to publish (each of
its later statements sees the committed state under READ COMMITTED); the batch number is
unique per petition and level in the database as well. Not SKIP LOCKED: with runs working
level by level, every run could skip every level while another holds the row.
"""

from __future__ import annotations

import datetime
import uuid

from django.db import transaction
from django.utils import timezone

from . import sealing
from .models import (
    Level,
    PendingSignature,
    PendingWithdrawal,
    Petition,
    PublicationBatch,
    Signature,
)
from .signals import counts_published


def slot_end(now: datetime.datetime, interval: int) -> datetime.datetime | None:
    """End of the interval slot that `now` falls in (None when there is no interval)."""
    if interval <= 0:
        return None
    seconds = int(now.timestamp()) // interval * interval + interval
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def overdue_at(received_on: datetime.date, max_wait: int) -> datetime.datetime:
    """When an entry that arrived on `received_on` must be published at the latest."""
    end_of_day = datetime.datetime.combine(
        received_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC
    )
    return end_of_day + datetime.timedelta(seconds=max_wait)


def batch_is_due(
    petition: Petition,
    last: PublicationBatch | None,
    waiting: int,
    oldest: datetime.date,
    now: datetime.datetime,
) -> bool:
    if petition.status != Petition.Status.PUBLISHED:
        return True
    if overdue_at(oldest, petition.publish_max_wait) <= now:
        return True
    if waiting < petition.publish_min_batch:
        return False
    return last is None or last.next_after is None or last.next_after <= now


def _waiting_signatures(petition: Petition, level: str) -> list[sealing.WaitingSignature]:
    """The waiting signatures of one petition and level, opened, in nullifier order (each
    has pk, key_id, level, nullifier, msg, sig, display_name, comment, received_on); the
    batch deletes the published ones by pk. Sealed at rest: petition/sealing.py."""
    return sorted(sealing.waiting_signatures_open(petition, level), key=lambda e: e.nullifier)


def petition_publish_pending(
    *, petition_id: uuid.UUID, now: datetime.datetime | None = None
) -> list[PublicationBatch]:
    """Publish the batches of this petition that are due, one transaction per level."""
    now = now or timezone.now()
    batches = []
    for level in Level.values:
        batch = _publish_level(petition_id, level, now)
        if batch is not None:
            batches.append(batch)
    return batches


def _publish_level(
    petition_id: uuid.UUID, level: str, now: datetime.datetime
) -> PublicationBatch | None:
    with transaction.atomic():
        # FOR NO KEY UPDATE does not conflict with the KEY SHARE lock that redemptions'
        # foreign keys take on this row, so signing goes on while a batch is written.
        petition = Petition.objects.select_for_update(no_key=True).filter(pk=petition_id).first()
        if petition is None:
            return None
        signatures = _waiting_signatures(petition, level)
        withdrawals = list(
            PendingWithdrawal.objects.filter(petition=petition, level=level).order_by("nullifier")
        )
        if not signatures and not withdrawals:
            return None
        last = (
            PublicationBatch.objects.filter(petition=petition, level=level)
            .order_by("-number")
            .first()
        )
        oldest = min(entry.received_on for entry in [*signatures, *withdrawals])
        waiting = len(signatures) + len(withdrawals)
        if not batch_is_due(petition, last, waiting, oldest, now):
            return None

        # A withdrawal applies once its signature is published, in this batch or before;
        # one whose signature arrived after the queries above waits for the next batch.
        in_batch = {bytes(entry.nullifier) for entry in signatures}
        earlier = dict(
            Signature.objects.filter(
                petition=petition, nullifier__in=[entry.nullifier for entry in withdrawals]
            ).values_list("nullifier", "withdrawn")
        )
        earlier = {bytes(n): withdrawn for n, withdrawn in earlier.items()}
        settled = [e for e in withdrawals if bytes(e.nullifier) in in_batch | earlier.keys()]
        to_withdraw = {
            bytes(e.nullifier) for e in settled if not earlier.get(bytes(e.nullifier), False)
        }
        PendingWithdrawal.objects.filter(pk__in=[entry.pk for entry in settled]).delete()
        if not signatures and not to_withdraw:
            return None  # nothing that changes the public log

        batch = PublicationBatch.objects.create(
            petition=petition,
            level=level,
            number=(last.number + 1) if last else 1,
            published_on=now.date(),
            next_after=slot_end(now, petition.publish_interval),
            added=len(signatures),
            withdrawn=len(to_withdraw),
            total_added=(last.total_added if last else 0) + len(signatures),
            total_withdrawn=(last.total_withdrawn if last else 0) + len(to_withdraw),
        )
        # INSERTs of up to 1,000 rows each, in nullifier order: that is their order on disk.
        Signature.objects.bulk_create(
            [
                Signature(
                    id=uuid.uuid4(),
                    petition=petition,
                    batch=batch,
                    key_id=entry.key_id,
                    level=entry.level,
                    nullifier=entry.nullifier,
                    msg=entry.msg,
                    sig=entry.sig,
                    display_name=entry.display_name,
                    comment=entry.comment,
                    withdrawn=bytes(entry.nullifier) in to_withdraw,
                )
                for entry in signatures
            ],
            batch_size=1000,
        )
        PendingSignature.objects.filter(pk__in=[entry.pk for entry in signatures]).delete()
        Signature.objects.filter(
            petition=petition, nullifier__in=sorted(to_withdraw - in_batch)
        ).update(withdrawn=True)

        # Retire the window's sealing key and re-stamp the ledger and used codes (M4).
        sealing.window_after_batch(petition, level)

        transaction.on_commit(
            lambda: counts_published.send(sender=PublicationBatch, petition_id=petition.id)
        )
    return batch
