"""The log entries of one publication batch (called by petition/publication.py inside the
batch's transaction): signatures, withdrawals and the batch summary, then the checkpoint."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import CodeBatch, IssuanceCount, LogCheckpoint, PetitionKey, SigningCode
from . import entries, services, tasks


def batch_entries(
    *, batch, published: Iterable, withdrawn: Iterable[bytes]
) -> list[tuple[uuid.UUID, bytes]]:
    """The entries of one publication batch, in the fixed order: its signatures by raw
    nullifier, its withdrawals by raw nullifier, then one summary (docs/protocol.md).
    `published` are the waiting signatures it published (key_id is PetitionKey's pk)."""
    petition_id, level = batch.petition_id, batch.level
    key_ids = {
        pk: bytes(key_id)
        for pk, key_id in PetitionKey.objects.filter(petition_id=petition_id).values_list(
            "pk", "key_id"
        )
    }
    signatures = sorted(published, key=lambda e: bytes(e.nullifier))
    out = [
        entries.signature_entry(
            petition_id,
            level,
            key_ids[e.key_id],
            bytes(e.nullifier),
            bytes(e.msg),
            bytes(e.sig),
        )
        for e in signatures
    ]
    out += [entries.withdrawal_entry(petition_id, level, n) for n in sorted(map(bytes, withdrawn))]
    out.append(entries.summary_entry(petition_id, level, batch_summary(batch)))
    return [(petition_id, data) for data in out]


def batch_summary(batch) -> entries.Summary:
    """The counts a batch summary carries (docs/protocol.md, "Batch summary")."""
    petition_id, level = batch.petition_id, batch.level
    issued = (
        IssuanceCount.objects.filter(petition_id=petition_id, level=level)
        .values_list("issued", flat=True)
        .first()
    )
    code_batches = CodeBatch.objects.filter(petition_id=petition_id, level=level)
    made = sum(code_batches.values_list("size", flat=True))
    revoked = SigningCode.objects.filter(
        Q(batch__revoked_at__isnull=False) | Q(batch__expires_at__lte=timezone.now()),
        batch__petition_id=petition_id,
        batch__level=level,
        used=False,
    ).count()
    invalidated = PetitionKey.objects.filter(
        petition_id=petition_id, level=level, invalidated_at__isnull=False
    ).count()
    return entries.Summary(
        batch_number=batch.number,
        signatures_total=batch.total_added,
        withdrawn_total=batch.total_withdrawn,
        credentials_issued=issued or 0,
        codes_made=made,
        codes_revoked=revoked,
        keys_invalidated=invalidated,
    )


def batch_append(*, batch, published: Iterable, withdrawn: Iterable[bytes]) -> LogCheckpoint:
    """Append one publication batch's entries and sign the checkpoint (in its transaction);
    the witnesses are asked to cosign once it commits (petition/tlog/witness.py)."""
    checkpoint = services.append_entries(
        batch_entries(batch=batch, published=published, withdrawn=withdrawn)
    )
    transaction.on_commit(tasks.witnesses_enqueue)
    return checkpoint
