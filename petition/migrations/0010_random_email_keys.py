"""The copies with random keys replace the tables with sequential ids."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("petition", "0009_copy_email_rows")]

    operations = [
        migrations.DeleteModel(name="EmailLedger"),
        migrations.RenameModel(old_name="EmailLedgerRandom", new_name="EmailLedger"),
        migrations.AddConstraint(
            model_name="emailledger",
            constraint=models.UniqueConstraint(fields=("petition", "email_hash"), name="petition_emailledger_one_per_address"),
        ),
        migrations.DeleteModel(name="EmailCode"),
        migrations.RenameModel(old_name="EmailCodeRandom", new_name="EmailCode"),
        migrations.AddConstraint(
            model_name="emailcode",
            constraint=models.UniqueConstraint(fields=("petition", "email_hash"), name="petition_emailcode_one_per_address"),
        ),
    ]
