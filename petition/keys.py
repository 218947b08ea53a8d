"""Petition keys: generation, encryption at rest, loading a signer, destruction.

The private halves are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from
`cryptography`) under COUNTERSIGN_KEY_ENCRYPTION_KEY, which lives in the environment and
not in the database: a stolen dump alone cannot sign.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from . import blindrsa
from .models import PetitionKey


def _fernet() -> Fernet:
    secret = settings.COUNTERSIGN_KEY_ENCRYPTION_KEY.encode()
    # Any length of secret in the environment; Fernet wants 32 url-safe base64 bytes.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"countersign-keys\0" + secret).digest()))


def new_key_fields(level: str) -> dict:
    """Generate a key for `level`; returns the model fields (slow: seconds at 3072 bits)."""
    private_key = blindrsa.generate_private_key(settings.COUNTERSIGN_KEY_BITS)
    public_key = private_key.public_key()
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "level": level,
        "key_id": blindrsa.key_id(public_key),
        "spki": blindrsa.public_key_spki_der(public_key),
        "modulus_bits": blindrsa.modulus_bits(public_key),
        "private_key_encrypted": _fernet().encrypt(der),
    }


def load_private_key(key: PetitionKey) -> rsa.RSAPrivateKey:
    if key.private_key_encrypted is None:
        raise ValueError("the private half of this key was destroyed")
    der = _fernet().decrypt(bytes(key.private_key_encrypted))
    private_key = serialization.load_der_private_key(der, password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    return private_key


def public_key(key: PetitionKey) -> rsa.RSAPublicKey:
    loaded = serialization.load_der_public_key(bytes(key.spki))
    assert isinstance(loaded, rsa.RSAPublicKey)
    return loaded
