from django.db import migrations, models


class Migration(migrations.Migration):
    """Every row chained from now on: a place, a link and a hash, one row per place."""

    dependencies = [
        ("organizing", "0010_audit_chain_existing_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("campaign__isnull", False)),
                fields=("campaign", "seq"),
                name="organizing_auditentry_one_per_place",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("campaign__isnull", True)),
                fields=("seq",),
                name="organizing_auditentry_one_per_place_without_campaign",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("seq__gte", 1),
                    ("hash__regex", "^[0-9a-f]{64}$"),
                    ("prev_hash__regex", "^[0-9a-f]{64}$"),
                ),
                name="organizing_auditentry_chained",
            ),
        ),
    ]
