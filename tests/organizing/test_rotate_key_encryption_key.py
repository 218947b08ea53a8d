"""`manage.py rotate_key_encryption_key` re-encrypts every secret stored under the
key-encryption key (ops walk, row 24)."""

from __future__ import annotations

from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from cryptography.fernet import InvalidToken
from django.core.management import CommandError, call_command
from django.urls import reverse

from organizing import mfa_secrets
from petition.keys import load_private_key
from petition.models import Petition
from petition.services import petition_close
from petition.tlog import services as tlog
from tests.factories import PASSWORD, UserFactory
from tests.organizing.test_login_mfa import totp_now
from tests.signing_client import mint

pytestmark = pytest.mark.django_db
NEW = "Zr5w0_Vd9kP2mQxL7aT3yB8nE1cH6uJ4sG0fR-iOk2M"


def _run(*args) -> str:
    out = StringIO()
    call_command("rotate_key_encryption_key", *args, stdout=out)
    return out.getvalue()


def test_rotation_re_encrypts_petition_keys_log_key_and_totp(
    settings, monkeypatch, open_petition, organizer, client
):
    old = settings.COUNTERSIGN_KEY_ENCRYPTION_KEY
    log_key = tlog.log_key()
    log_before = bytes(log_key.private_key_encrypted)
    key = open_petition.keys.get(level="in_person")
    public_before = load_private_key(key).public_key().public_numbers()
    assert "Every secret opens" in _run("--check")

    monkeypatch.setenv("COUNTERSIGN_NEW_KEY_ENCRYPTION_KEY", NEW)
    with pytest.raises(CommandError, match="open"):  # an open petition: refused, unchanged
        _run()
    assert bytes(open_petition.keys.get(level="in_person").private_key_encrypted) == bytes(
        key.private_key_encrypted
    )
    output = _run("--break-open-petitions")
    assert "3 petition keys, 1 log keys, 1 staff MFA secrets" in output

    # Under the old key nothing opens any more; under the new one everything does.
    key.refresh_from_db()
    with pytest.raises(InvalidToken):
        load_private_key(key)
    with pytest.raises(CommandError, match="does not open"):
        _run("--check")
    settings.COUNTERSIGN_KEY_ENCRYPTION_KEY = NEW
    assert load_private_key(key).public_key().public_numbers() == public_before
    log_key.refresh_from_db()
    assert bytes(log_key.private_key_encrypted) != log_before
    assert tlog.log_key().public_key == log_key.public_key
    assert mint(open_petition).sig  # BlindSign with the re-encrypted key, finalize verifies
    # The staff member still logs in with the same authenticator app.
    client.post(reverse("account_login"), {"login": organizer.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": totp_now(organizer.totp_secret)})
    assert response.status_code == 302
    assert "Every secret opens" in _run("--check")
    assert old != NEW


def test_rotation_refuses_a_missing_weak_or_same_key(settings, monkeypatch, draft_petition):
    with pytest.raises(CommandError, match="COUNTERSIGN_NEW_KEY_ENCRYPTION_KEY"):
        _run()
    monkeypatch.setenv("COUNTERSIGN_NEW_KEY_ENCRYPTION_KEY", "short")
    with pytest.raises(CommandError, match="at least 32 random bytes"):
        _run()
    monkeypatch.setenv(
        "COUNTERSIGN_NEW_KEY_ENCRYPTION_KEY", settings.COUNTERSIGN_KEY_ENCRYPTION_KEY
    )
    with pytest.raises(CommandError, match="in use"):
        _run()


def test_rotation_between_petitions_needs_no_override(settings, monkeypatch, open_petition):
    petition_close(petition=open_petition, actor=None)
    assert not Petition.objects.filter(status=Petition.Status.PUBLISHED).exists()
    user = UserFactory()
    monkeypatch.setenv("COUNTERSIGN_NEW_KEY_ENCRYPTION_KEY", NEW)
    _run()
    settings.COUNTERSIGN_KEY_ENCRYPTION_KEY = NEW
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert mfa_secrets.unseal(stored) == user.totp_secret
