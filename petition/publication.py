"""Publication in batches (threat model, timing; issue 6 parts 3 and 4, issue 14 part 1):
the mechanics. The rules they apply (bounds, safe floor, defaults, slot boundaries, the
decision window, the draw) are in petition/publication_policy.py.

A redeemed signature waits in PendingSignature, a withdrawal in PendingWithdrawal. A batch
moves waiting entries of one petition and level into the public log and counts, in one
transaction, inserting signatures in nullifier order, so that neither the public log nor the
published table's physical order tells who arrived when.

While the petition is open, so that nobody can make a batch publish one chosen signature:

- Batches are decided only at slot boundaries (multiples of `publish_interval` seconds since
  the epoch), by the first run within `DECISION_WINDOW` after the boundary; the decision is
  recorded (PublicationSlot), so a signature that arrives later waits for the next boundary.
  Nobody can make a batch close by sending the k-th entry; with interval 0 every run decides.
- Only new signatures count toward `publish_min_batch` (k). At each decision every waiting
  signature is drawn with probability `DRAW_PROBABILITY`, and always once it has waited
  `publish_max_wait` past the end of its day (only the day is kept: no per-entry time is
  needed). If fewer than k were drawn but k or more wait, the draw is topped up at random to
  k. A level with fewer than k waiting signatures publishes nothing, however long they wait:
  they join the next batch that reaches k, or the closing batch.
- Withdrawals never fill a batch: a withdrawal rides along with the next signature batch of
  its level, or goes out on its own only when at least k withdrawals of published
  signatures of the level wait. A signature withdrawn before it was published counts for
  nothing: it is published (as withdrawn) with the next signature batch of its level.

Closing publishes everything left at once (closing is a visible, audited, irreversible
step; see docs/threat-model.md). Interval 0 with k = 1 (the demo) publishes all at once.

Safe to run twice at once: each batch starts by locking the petition row, so a second run
waits for the first one's batch to commit and then finds its slot decided and nothing left
to publish (each of its later statements sees the committed state under READ COMMITTED);
the batch number is unique per petition and level in the database as well. Not SKIP LOCKED:
with runs working level by level, every run could skip every level while another holds the
row. A run killed mid-batch commits nothing: the slot decision, the batch, its rows and the
deletion of the waiting entries are one transaction.
"""

from __future__ import annotations

import datetime
import random
import secrets
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
    PublicationSlot,
    Signature,
)
from .pagecache import pages_changed
from .publication_policy import joins_batch, slot_end, slot_start, too_late_to_decide
from .signals import counts_published
from .tlog.batches import batch_append

_system_random = secrets.SystemRandom()


def petition_publish_pending(
    *,
    petition_id: uuid.UUID,
    now: datetime.datetime | None = None,
    rng: random.Random | None = None,
) -> list[PublicationBatch]:
    """Publish the batches of this petition that are due, one transaction per level.

    `rng` is for tests (a seeded random.Random); the draw otherwise uses the system's
    random source, so nobody can predict which waiting signatures go out together."""
    now = now or timezone.now()
    rng = rng or _system_random
    batches = []
    for level in Level.values:
        batch = _publish_level(petition_id, level, now, rng)
        if batch is not None:
            batches.append(batch)
    return batches


def _waiting_signatures(petition: Petition, level: str) -> list[sealing.WaitingSignature]:
    """The waiting signatures of one petition and level, opened, in nullifier order (each
    has pk, key_id, level, nullifier, msg, sig, display_name, comment, received_on); the
    batch deletes the published ones by pk. Sealed at rest (petition/sealing.py), so this is
    the one place that reads them, and it must run inside the batch's transaction before the
    waiting withdrawals are read: it writes those that were sealed inside their entry."""
    return sorted(sealing.waiting_signatures_open(petition, level), key=lambda e: e.nullifier)


def _claim_slot(petition: Petition, level: str, now: datetime.datetime) -> bool:
    """True if this run decides the slot boundary just passed; records the decision."""
    interval = petition.publish_interval
    if interval <= 0:
        return True
    if too_late_to_decide(now, interval):
        return False  # wait for the next boundary
    start = slot_start(now, interval)
    slot, created = PublicationSlot.objects.get_or_create(
        petition=petition, level=level, defaults={"decided_at": start}
    )
    if created:
        return True
    if slot.decided_at >= start:
        return False  # decided already (by an earlier run in this slot)
    slot.decided_at = start
    slot.save(update_fields=["decided_at"])
    return True


def _draw(petition: Petition, pool: list, now: datetime.datetime, rng: random.Random) -> list:
    """The live signatures that go out at this boundary: none unless k wait (pool mix)."""
    k = petition.publish_min_batch
    if len(pool) < k:
        return []
    if petition.publishes_immediately:
        return list(pool)  # the demo: nothing to hide, everything at once
    max_wait = petition.publish_max_wait
    # `pool` is in nullifier order, so a seeded generator draws the same entries each time.
    drawn = [
        entry
        for entry in pool
        if joins_batch(received_on=entry.received_on, max_wait=max_wait, now=now, rng=rng)
    ]
    if len(drawn) < k:
        chosen = {entry.pk for entry in drawn}
        rest = [entry for entry in pool if entry.pk not in chosen]
        drawn += rng.sample(rest, k - len(drawn))
    return drawn


def _publish_level(
    petition_id: uuid.UUID, level: str, now: datetime.datetime, rng: random.Random
) -> PublicationBatch | None:
    with transaction.atomic():
        # FOR NO KEY UPDATE waits for, and holds off, redemptions' FOR SHARE on this row
        # (petition/sealing.py): a redemption never seals under a key this batch retires.
        # Withdrawals and credential issuance only take KEY SHARE and go on meanwhile.
        petition = Petition.objects.select_for_update(no_key=True).filter(pk=petition_id).first()
        if petition is None:
            return None
        signatures = _waiting_signatures(petition, level)
        withdrawals = list(
            PendingWithdrawal.objects.filter(petition=petition, level=level).order_by("nullifier")
        )
        if not signatures and not withdrawals:
            return None
        closing = petition.status != Petition.Status.PUBLISHED
        if not closing and not _claim_slot(petition, level, now):
            return None

        withdrawn_waiting = {bytes(entry.nullifier) for entry in withdrawals}
        # Published before: nullifier -> already marked withdrawn.
        earlier = {
            bytes(nullifier): withdrawn
            for nullifier, withdrawn in Signature.objects.filter(
                petition=petition, nullifier__in=[entry.nullifier for entry in withdrawals]
            ).values_list("nullifier", "withdrawn")
        }
        # Signed and withdrawn before publication: they add nothing to the count.
        dead = [e for e in signatures if bytes(e.nullifier) in withdrawn_waiting]
        live = [e for e in signatures if bytes(e.nullifier) not in withdrawn_waiting]
        # Withdrawals of published signatures that still count.
        of_published = {n for n, withdrawn in earlier.items() if not withdrawn}

        if closing:
            to_publish = signatures
        else:
            drawn = _draw(petition, live, now, rng)
            if drawn:
                to_publish = sorted([*drawn, *dead], key=lambda entry: bytes(entry.nullifier))
            elif len(of_published) >= petition.publish_min_batch:
                to_publish = []  # withdrawals alone, k of them or more
            else:
                # Nothing goes out. Withdrawals of signatures withdrawn already change
                # nothing anywhere: drop them (the slot decision above commits).
                _drop_noop_withdrawals(withdrawals, earlier)
                return None

        in_batch = {bytes(entry.nullifier) for entry in to_publish}
        settled = [e for e in withdrawals if bytes(e.nullifier) in in_batch | earlier.keys()]
        to_withdraw = {bytes(e.nullifier) for e in settled} - {
            n for n, withdrawn in earlier.items() if withdrawn
        }
        PendingWithdrawal.objects.filter(pk__in=[entry.pk for entry in settled]).delete()
        if not to_publish and not to_withdraw:
            return None  # nothing that changes the public log

        last = (
            PublicationBatch.objects.filter(petition=petition, level=level)
            .order_by("-number")
            .first()
        )
        batch = PublicationBatch.objects.create(
            petition=petition,
            level=level,
            number=(last.number + 1) if last else 1,
            published_on=now.date(),
            next_after=slot_end(now, petition.publish_interval),
            added=len(to_publish),
            withdrawn=len(to_withdraw),
            total_added=(last.total_added if last else 0) + len(to_publish),
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
                for entry in to_publish
            ],
            batch_size=1000,
        )
        PendingSignature.objects.filter(pk__in=[entry.pk for entry in to_publish]).delete()
        Signature.objects.filter(
            petition=petition, nullifier__in=sorted(to_withdraw - in_batch)
        ).update(withdrawn=True)

        # The transparency log: this batch's entries and a signed checkpoint, in this
        # transaction (petition/tlog; docs/protocol.md).
        batch_append(batch=batch, published=to_publish, withdrawn=to_withdraw)

        # Retire the window's sealing key and re-stamp the ledger and used codes
        # (petition/sealing.py: no arrival order left in the rows).
        sealing.window_after_batch(petition, level)

        # The public page and API show the new counts right after the commit.
        pages_changed(slugs=[petition.slug])
        transaction.on_commit(
            lambda: counts_published.send(sender=PublicationBatch, petition_id=petition.id)
        )
    return batch


def _drop_noop_withdrawals(withdrawals: list, earlier: dict[bytes, bool]) -> None:
    noop = [e.pk for e in withdrawals if earlier.get(bytes(e.nullifier), False)]
    if noop:
        PendingWithdrawal.objects.filter(pk__in=noop).delete()
