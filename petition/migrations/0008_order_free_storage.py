"""Nothing on the signing side keeps arrival order, which would link people who signed
together: published signatures carry their batch instead of the day they arrived, and the
work-email ledger and pending codes get random keys instead of sequential ids (a bigint
column cannot be cast to a UUID, so each table is copied into a new one, in keyed-hash
order, and renamed)."""

import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("petition", "0007_publish_existing_signatures")]

    operations = [
        migrations.RemoveField(model_name="signature", name="signed_on"),
        migrations.AlterField(
            model_name="signature",
            name="batch",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="signatures",
                to="petition.publicationbatch",
            ),
        ),
        # The work-email ledger.
        migrations.CreateModel(
            name="EmailLedgerRandom",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("email_hash", models.BinaryField(max_length=32)),
                ("petition", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="petition.petition")),
            ],
        ),
        # Pending work-email codes.
        migrations.CreateModel(
            name="EmailCodeRandom",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("email_hash", models.BinaryField(max_length=32)),
                ("code_hash", models.BinaryField(max_length=32)),
                ("expires_at", models.DateTimeField()),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("petition", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="petition.petition")),
            ],
        ),
    ]
