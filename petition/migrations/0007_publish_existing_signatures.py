"""Signatures accepted before publication batches were public at once: record them as one
batch per petition and level, and write them again in nullifier order so that the table no
longer holds them in the order they arrived (which would link people who signed
together)."""

from django.db import migrations
from django.db.models import Max


def forwards(apps, schema_editor):
    Signature = apps.get_model("petition", "Signature")
    PublicationBatch = apps.get_model("petition", "PublicationBatch")
    groups = (
        Signature.objects.values("petition_id", "level")
        .annotate(day=Max("signed_on"))
        .order_by("petition_id", "level")
    )
    for group in groups:
        rows = list(
            Signature.objects.filter(
                petition_id=group["petition_id"], level=group["level"]
            ).order_by("nullifier")
        )
        withdrawn = sum(1 for row in rows if row.withdrawn)
        batch = PublicationBatch.objects.create(
            petition_id=group["petition_id"],
            level=group["level"],
            number=1,
            published_on=group["day"],
            added=len(rows),
            withdrawn=withdrawn,
            total_added=len(rows),
            total_withdrawn=withdrawn,
        )
        Signature.objects.filter(pk__in=[row.pk for row in rows]).delete()
        for row in rows:
            row.batch = batch
        Signature.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("petition", "0006_publication_batches")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
