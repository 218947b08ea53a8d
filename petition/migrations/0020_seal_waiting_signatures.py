"""Seal the signatures waiting at upgrade time under a window key per petition and level
(petition/sealing.py). The secrets go to the sealing store, which must be configured before
this runs (docs/operations.md, "The sealing store")."""

import secrets

from django.core.cache import caches
from django.db import migrations


def seal_waiting(apps, schema_editor):
    from petition import sealing

    PendingSignature = apps.get_model("petition", "PendingSignature")
    WindowKey = apps.get_model("petition", "WindowKey")
    # order_by(): the model orders by nullifier, which DISTINCT would otherwise include.
    groups = PendingSignature.objects.order_by().values_list("petition_id", "level").distinct()
    for petition_id, level in list(groups):
        key = WindowKey.objects.create(petition_id=petition_id, level=level)
        secret = secrets.token_bytes(sealing.SECRET_LEN)
        caches[sealing.STORE].set(f"window-key:{key.pk}", secret, timeout=None)
        aad = sealing.entry_aad(petition_id, level, key.pk)
        for row in PendingSignature.objects.filter(petition_id=petition_id, level=level):
            row.window_key = key
            row.tag = sealing.tag(secret, bytes(row.nullifier))
            row.sealed = sealing.seal(
                secret,
                aad,
                [
                    bytes(row.nullifier),
                    bytes(row.msg),
                    bytes(row.sig),
                    str(row.key_id).encode(),
                    row.display_name.encode(),
                    row.comment.encode(),
                ],
            )
            row.save(update_fields=["window_key", "tag", "sealed"])


class Migration(migrations.Migration):
    dependencies = [
        ("petition", "0019_window_keys"),
    ]

    operations = [
        migrations.RunPython(seal_waiting, migrations.RunPython.noop, elidable=True),
    ]
