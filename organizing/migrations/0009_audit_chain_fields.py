from django.db import migrations, models


class Migration(migrations.Migration):
    """The hash chain's columns (organizing/auditchain.py), empty until 0010 fills them for
    the rows that exist. Adding a column is no UPDATE: the append-only trigger stays quiet."""

    dependencies = [
        ("organizing", "0008_campaign_retention_from_closing"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
    ]
