"""Copy the ledger and pending codes into tables with random keys, in keyed-hash order
(its own migration: PostgreSQL refuses to alter a table with pending trigger events from
rows written in the same transaction)."""

import uuid

from django.db import migrations


def _copy(source: str, target: str, fields: tuple[str, ...]):
    def forwards(apps, schema_editor):
        old = apps.get_model("petition", source)
        new = apps.get_model("petition", target)
        new.objects.bulk_create(
            new(id=uuid.uuid4(), **{name: getattr(row, name) for name in fields})
            for row in old.objects.order_by("email_hash")
        )

    return forwards


class Migration(migrations.Migration):
    dependencies = [("petition", "0008_order_free_storage")]

    operations = [
        migrations.RunPython(
            _copy("EmailLedger", "EmailLedgerRandom", ("petition_id", "email_hash")),
            migrations.RunPython.noop,
        ),
        migrations.RunPython(
            _copy(
                "EmailCode",
                "EmailCodeRandom",
                ("petition_id", "email_hash", "code_hash", "expires_at", "attempts"),
            ),
            migrations.RunPython.noop,
        ),
    ]
