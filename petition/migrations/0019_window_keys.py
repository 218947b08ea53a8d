import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Window keys and the sealed columns of waiting signatures (petition/sealing.py),
    added beside the clear ones; 0016 seals the waiting rows, 0017 drops the clear columns."""

    dependencies = [
        ("petition", "0018_publication_slot"),
    ]

    operations = [
        migrations.CreateModel(
            name="WindowKey",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "level",
                    models.CharField(
                        choices=[
                            ("work_email", "Work email code"),
                            ("in_person", "Code from a moderator"),
                            ("flyer", "Code from a flyer tab"),
                        ],
                        max_length=16,
                    ),
                ),
                ("retired", models.BooleanField(default=False)),
                (
                    "petition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="petition.petition",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("retired", False)),
                        fields=("petition", "level"),
                        name="petition_windowkey_one_current_per_level",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("level__in", ["work_email", "in_person", "flyer"])),
                        name="petition_windowkey_level_valid",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="pendingsignature",
            name="window_key",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="petition.windowkey",
            ),
        ),
        migrations.AddField(
            model_name="pendingsignature",
            name="tag",
            field=models.BinaryField(max_length=32, null=True),
        ),
        migrations.AddField(
            model_name="pendingsignature",
            name="sealed",
            field=models.BinaryField(null=True),
        ),
    ]
