"""Encrypt the staff TOTP secrets and recovery-code seeds that allauth stored in clear
(organizing/mfa_secrets.py). Rows already encrypted are left alone, so it is safe to run
on any database; reversing decrypts them again."""

from django.conf import settings
from django.db import migrations

from organizing import mfa_secrets


def _change(apps, change) -> None:
    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.all().iterator():
        data = mfa_secrets.authenticator_data_map(row.data or {}, change)
        if data != row.data:
            Authenticator.objects.filter(pk=row.pk).update(data=data)


def encrypt(apps, schema_editor) -> None:
    kek = settings.COUNTERSIGN_KEY_ENCRYPTION_KEY
    _change(apps, lambda v: v if mfa_secrets.is_sealed(v) else mfa_secrets.seal(v, kek))


def decrypt(apps, schema_editor) -> None:
    kek = settings.COUNTERSIGN_KEY_ENCRYPTION_KEY
    _change(apps, lambda v: mfa_secrets.unseal(v, kek) if mfa_secrets.is_sealed(v) else v)


class Migration(migrations.Migration):
    dependencies = [
        ("organizing", "0016_webhook_test_notice"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
