"""Staff second factors encrypted at rest (ops walk, row 22).

allauth stores each TOTP secret and each recovery-code seed in `mfa_authenticator.data`;
its default MFA adapter keeps them in clear, so a database dump was every staff member's
second factor. `MFAAdapter` (settings.MFA_ADAPTER) encrypts them with a Fernet key derived
from COUNTERSIGN_KEY_ENCRYPTION_KEY, which never is in the database or its backups.

Stored values are `kek1:<Fernet token>`. The data migration
organizing/migrations/0017_encrypt_mfa_secrets encrypts existing rows, and
`manage.py rotate_key_encryption_key` re-encrypts them under a new key (`authenticator_rekey`).
"""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import InvalidToken

from petition.keys import fernet

PREFIX = "kek1:"
PURPOSE = b"mfa-secrets"


class SecretUnreadable(ValueError):
    """A stored MFA secret is in clear or encrypted under another key."""


def seal(text: str, kek: str | None = None) -> str:
    return PREFIX + fernet(PURPOSE, kek).encrypt(text.encode()).decode()


def unseal(stored: str, kek: str | None = None) -> str:
    if not isinstance(stored, str) or not stored.startswith(PREFIX):
        # Never accept a clear value: whoever can write the table could plant a secret.
        raise SecretUnreadable("an MFA secret is not encrypted")
    try:
        return fernet(PURPOSE, kek).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("an MFA secret does not open under this key") from exc


def is_sealed(stored) -> bool:
    return isinstance(stored, str) and stored.startswith(PREFIX)


# The places in Authenticator.data that allauth passes through encrypt()/decrypt().
SECRET_FIELDS = ("secret", "seed")
SECRET_LISTS = ("migrated_codes",)


def authenticator_data_map(data: dict, change) -> dict:
    """A copy of `data` with `change(value)` applied to every secret allauth encrypts."""
    result = dict(data)
    for field in SECRET_FIELDS:
        if isinstance(result.get(field), str):
            result[field] = change(result[field])
    for field in SECRET_LISTS:
        if isinstance(result.get(field), list):
            result[field] = [change(v) for v in result[field]]
    return result


def authenticator_rekey(data: dict, old: str, new: str) -> dict:
    return authenticator_data_map(data, lambda v: seal(unseal(v, old), new))


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return seal(text)

    def decrypt(self, encrypted_text: str) -> str:
        return unseal(encrypted_text)
