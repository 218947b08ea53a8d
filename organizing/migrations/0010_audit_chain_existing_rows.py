"""Chain the rows that exist, in their current order (time, then id), one chain per
campaign and one for rows without a campaign. The only UPDATE the log ever gets: the
trigger is set aside for it, in this migration's transaction, by the table's owner."""

from django.db import migrations

from organizing.auditchain import GENESIS, row_hash

FIELDS = (
    "id",
    "campaign_id",
    "actor_id",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "details",
    "created_at",
)


def chain_existing_rows(apps, schema_editor):
    AuditEntry = apps.get_model("organizing", "AuditEntry")
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                "ALTER TABLE organizing_auditentry DISABLE TRIGGER organizing_auditentry_append_only"
            )
        elif connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS organizing_auditentry_no_update")
        heads = {}
        rows = AuditEntry.objects.order_by("created_at", "id").values_list(*FIELDS)
        for row in rows.iterator(chunk_size=1000):
            fields = dict(zip(FIELDS, row, strict=True))
            seq, previous = heads.get(fields["campaign_id"], (0, GENESIS))
            digest = row_hash(
                seq=seq + 1,
                prev_hash=previous,
                **{key: value for key, value in fields.items() if key != "id"},
            )
            cursor.execute(
                "UPDATE organizing_auditentry SET seq = %s, prev_hash = %s, hash = %s"
                " WHERE id = %s",
                [seq + 1, previous, digest, fields["id"]],
            )
            heads[fields["campaign_id"]] = (seq + 1, digest)
        if postgres:
            cursor.execute(
                "ALTER TABLE organizing_auditentry ENABLE TRIGGER organizing_auditentry_append_only"
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER organizing_auditentry_no_update BEFORE UPDATE ON"
                " organizing_auditentry BEGIN SELECT RAISE(ABORT, 'organizing_auditentry is"
                " append-only'); END;"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("organizing", "0009_audit_chain_fields"),
    ]

    operations = [
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
    ]
