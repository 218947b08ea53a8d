import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("petition", "0015_signature_review_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="signature",
            name="review_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
