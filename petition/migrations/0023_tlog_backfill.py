"""Backfill the transparency log with what was published before it existed (issue 16).

Batches in today's order, (published_on, petition, level, number); per batch its signature
entries by nullifier, its withdrawal entries by nullifier, then one summary, and one
signed checkpoint, exactly as petition/tlog/batches.py writes them from now on.

Before the log, a withdrawal was only a flag on its signature: which batch published it is
not recorded, only how many each batch published. Each batch gets that many withdrawals,
chosen from the withdrawn signatures of its petition and level published no later than it,
earliest-published first (then by nullifier); any left over (inconsistent data) go with
the level's last batch. The summaries' staff totals (credentials issued, codes made and
revoked, keys invalidated) are the values at the upgrade, not at each old batch
(docs/protocol.md says so)."""

import types
from collections import defaultdict

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

from petition.tlog import entries, services


def backfill(apps, schema_editor):
    Batch = apps.get_model("petition", "PublicationBatch")
    Signature = apps.get_model("petition", "Signature")
    PetitionKey = apps.get_model("petition", "PetitionKey")
    IssuanceCount = apps.get_model("petition", "IssuanceCount")
    CodeBatch = apps.get_model("petition", "CodeBatch")
    SigningCode = apps.get_model("petition", "SigningCode")
    store = types.SimpleNamespace(
        **{
            name: apps.get_model("petition", name)
            for name in ("LogHead", "LogKey", "LogEntry", "LogTile", "LogCheckpoint")
        }
    )
    batches = list(Batch.objects.order_by("published_on", "petition_id", "level", "number"))
    if not batches:
        return
    key_ids = {pk: bytes(key_id) for pk, key_id in PetitionKey.objects.values_list("pk", "key_id")}

    # Withdrawals per batch (see the docstring).
    withdrawals = defaultdict(list)
    by_level = defaultdict(list)
    for batch in batches:
        by_level[(batch.petition_id, batch.level)].append(batch)
    for (petition_id, level), level_batches in by_level.items():
        level_batches.sort(key=lambda b: b.number)
        number_of = {b.pk: b.number for b in level_batches}
        withdrawn = sorted(
            (number_of[batch_id], bytes(nullifier))
            for batch_id, nullifier in Signature.objects.filter(
                petition_id=petition_id, level=level, withdrawn=True
            ).values_list("batch_id", "nullifier")
        )
        for batch in level_batches:
            take = [w for w in withdrawn if w[0] <= batch.number][: batch.withdrawn]
            for item in take:
                withdrawn.remove(item)
            withdrawals[batch.pk] = [nullifier for _, nullifier in take]
        withdrawals[level_batches[-1].pk] += [nullifier for _, nullifier in withdrawn]

    signed_so_far = defaultdict(int)
    withdrawn_so_far = defaultdict(int)
    now = timezone.now()
    for batch in batches:
        petition_id, level = batch.petition_id, batch.level
        group = (petition_id, level)
        signatures = sorted(
            Signature.objects.filter(batch_id=batch.pk).values_list(
                "key_id", "nullifier", "msg", "sig"
            ),
            key=lambda row: bytes(row[1]),
        )
        out = [
            entries.signature_entry(
                petition_id, level, key_ids[key], bytes(nullifier), bytes(msg), bytes(sig)
            )
            for key, nullifier, msg, sig in signatures
        ]
        gone = sorted(withdrawals[batch.pk])
        out += [entries.withdrawal_entry(petition_id, level, nullifier) for nullifier in gone]
        signed_so_far[group] += len(signatures)
        withdrawn_so_far[group] += len(gone)
        issued = (
            IssuanceCount.objects.filter(petition_id=petition_id, level=level)
            .values_list("issued", flat=True)
            .first()
        )
        summary = entries.Summary(
            batch_number=batch.number,
            signatures_total=signed_so_far[group],
            withdrawn_total=withdrawn_so_far[group],
            credentials_issued=issued or 0,
            codes_made=sum(
                CodeBatch.objects.filter(petition_id=petition_id, level=level).values_list(
                    "size", flat=True
                )
            ),
            codes_revoked=SigningCode.objects.filter(
                Q(batch__revoked_at__isnull=False) | Q(batch__expires_at__lte=now),
                batch__petition_id=petition_id,
                batch__level=level,
                used=False,
            ).count(),
            keys_invalidated=PetitionKey.objects.filter(
                petition_id=petition_id, level=level, invalidated_at__isnull=False
            ).count(),
        )
        out.append(entries.summary_entry(petition_id, level, summary))
        services.append_entries([(petition_id, data) for data in out], store=store)


class Migration(migrations.Migration):
    dependencies = [("petition", "0022_tlog")]

    # The reverse leaves the entries: 0022's reverse drops the tables with them.
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
