"""Strength rules for the secrets production reads from the environment (no Django import:
production settings and the system checks both use it)."""

from __future__ import annotations

import base64
import binascii

MIN_KEY_ENCRYPTION_KEY_BYTES = 32
GENERATE_KEY_ENCRYPTION_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def _decode(value: str) -> bytes | None:
    text = value.strip()
    padded = text + "=" * (-len(text) % 4)
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            return decode(padded.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            continue
    return None


def key_encryption_key_problem(value: str, secret_key: str) -> str | None:
    """Why COUNTERSIGN_KEY_ENCRYPTION_KEY is unfit for production, or None.

    It derives the key that encrypts petition private keys and the HMAC keys of the email
    ledger, codes and rate limits: a weak one makes a database dump enough to decrypt and
    to test addresses. It must be at least 32 random bytes, written in base64, and must not
    be DJANGO_SECRET_KEY (which Django may expose in other ways, e.g. signed cookies).
    """
    if value == secret_key:
        return "COUNTERSIGN_KEY_ENCRYPTION_KEY must not be the same as DJANGO_SECRET_KEY."
    raw = _decode(value)
    if raw is None or len(raw) < MIN_KEY_ENCRYPTION_KEY_BYTES:
        return (
            "COUNTERSIGN_KEY_ENCRYPTION_KEY must be at least "
            f"{MIN_KEY_ENCRYPTION_KEY_BYTES} random bytes in base64."
        )
    # A long run of one byte is a placeholder, not a secret.
    if len(set(raw)) < MIN_KEY_ENCRYPTION_KEY_BYTES // 2:
        return "COUNTERSIGN_KEY_ENCRYPTION_KEY does not look random."
    return None
