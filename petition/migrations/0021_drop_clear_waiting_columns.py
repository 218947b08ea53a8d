import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Waiting signatures keep nothing in clear that a published one shows
    (petition/sealing.py)."""

    dependencies = [
        ("petition", "0020_seal_waiting_signatures"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="pendingsignature",
            name="petition_pendingsignature_one_per_nullifier",
        ),
        migrations.AlterModelOptions(name="pendingsignature", options={}),
        migrations.RemoveField(model_name="pendingsignature", name="key"),
        migrations.RemoveField(model_name="pendingsignature", name="nullifier"),
        migrations.RemoveField(model_name="pendingsignature", name="msg"),
        migrations.RemoveField(model_name="pendingsignature", name="sig"),
        migrations.RemoveField(model_name="pendingsignature", name="display_name"),
        migrations.RemoveField(model_name="pendingsignature", name="comment"),
        migrations.AlterField(
            model_name="pendingsignature",
            name="window_key",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="petition.windowkey",
            ),
        ),
        migrations.AlterField(
            model_name="pendingsignature",
            name="tag",
            field=models.BinaryField(max_length=32),
        ),
        migrations.AlterField(
            model_name="pendingsignature",
            name="sealed",
            field=models.BinaryField(),
        ),
        migrations.AddConstraint(
            model_name="pendingsignature",
            constraint=models.UniqueConstraint(
                fields=("petition", "tag"), name="petition_pendingsignature_one_per_tag"
            ),
        ),
    ]
