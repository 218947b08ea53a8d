"""Staff TOTP secrets and recovery-code seeds are encrypted at rest with the key-encryption
key (ops walk, row 22: every dump held every staff second factor in clear)."""

from __future__ import annotations

import importlib
import subprocess

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse

from organizing import mfa_secrets
from tests.factories import PASSWORD, UserFactory
from tests.organizing.test_login_mfa import totp_now

migration = importlib.import_module("organizing.migrations.0017_encrypt_mfa_secrets")


def _set_up_totp(client, user) -> str:
    """The real activation flow: password, reauthentication, secret, first code."""
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
    assert client.post(reverse("mfa_activate_totp"), {"code": totp_now(secret)}).status_code == 302
    return secret


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_clear_totp_secret_or_recovery_seed(client):
    user = UserFactory(totp=False)
    secret = _set_up_totp(client, user)
    rows = {a.type: a for a in Authenticator.objects.filter(user=user)}
    assert set(rows) >= {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    seed = mfa_secrets.unseal(rows[Authenticator.Type.RECOVERY_CODES].data["seed"])
    codes = RecoveryCodes(rows[Authenticator.Type.RECOVERY_CODES]).get_unused_codes()
    assert len(seed) == 80 and codes
    db = connection.settings_dict
    dump = subprocess.run(
        ["pg_dump", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], db["NAME"]],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "mfa_authenticator" in dump and mfa_secrets.PREFIX in dump
    for clear in (secret, seed, *codes):
        assert clear not in dump


@pytest.mark.django_db
def test_login_with_totp_and_with_a_recovery_code_still_works(client):
    user = UserFactory(totp=False)
    secret = _set_up_totp(client, user)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert stored.startswith(mfa_secrets.PREFIX) and secret not in stored
    client.logout()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert client.post(reverse("mfa_authenticate"), {"code": totp_now(secret)}).status_code == 302
    assert client.get(reverse("staff:dashboard")).status_code in (200, 302)
    client.logout()
    recovery = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    code = RecoveryCodes(recovery).get_unused_codes()[0]
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302


@pytest.mark.django_db
def test_a_clear_or_foreign_secret_is_refused_not_used():
    with pytest.raises(mfa_secrets.SecretUnreadable):
        mfa_secrets.unseal("JBSWY3DPEHPK3PXP")
    other = "q7Xb1u6yN0Lr8oJk2VdTz5cWmE3sHf9aP4gRiY-_Ct0"
    with pytest.raises(mfa_secrets.SecretUnreadable):
        mfa_secrets.unseal(mfa_secrets.seal("JBSWY3DPEHPK3PXP", other))


@pytest.mark.django_db
def test_the_migration_encrypts_clear_rows_once_and_reverses(client):
    user = UserFactory(totp=False)
    secret = _set_up_totp(client, user)
    totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    # A row as allauth's default adapter left it before this release.
    Authenticator.objects.filter(pk=totp.pk).update(
        data={**totp.data, "secret": secret, "migrated_codes": ["1234-5678"]}
    )
    migration.encrypt(django_apps, None)
    data = Authenticator.objects.get(pk=totp.pk).data
    assert mfa_secrets.unseal(data["secret"]) == secret
    assert [mfa_secrets.unseal(c) for c in data["migrated_codes"]] == ["1234-5678"]
    migration.encrypt(django_apps, None)  # idempotent: not encrypted twice
    assert mfa_secrets.unseal(Authenticator.objects.get(pk=totp.pk).data["secret"]) == secret
    migration.decrypt(django_apps, None)
    assert Authenticator.objects.get(pk=totp.pk).data["secret"] == secret
