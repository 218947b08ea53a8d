"""A random review id for each published signature, used only by the moderator console
(so that no URL links a comment to its nullifier). Filled here for the rows that exist, one
fresh id each."""

import uuid

from django.db import migrations, models


def fill_review_ids(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE petition_signature SET review_id = gen_random_uuid() WHERE review_id IS NULL"
        )
        return
    Signature = apps.get_model("petition", "Signature")
    for pk in Signature.objects.filter(review_id__isnull=True).values_list("pk", flat=True):
        Signature.objects.filter(pk=pk).update(review_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("petition", "0014_signature_text_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="review_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_review_ids, migrations.RunPython.noop),
    ]
