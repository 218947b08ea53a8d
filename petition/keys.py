"""Petition keys: generation, encryption at rest, loading a signer, destruction.

The private halves are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from
`cryptography`) under COUNTERSIGN_KEY_ENCRYPTION_KEY, which lives in the environment and
not in the database: a stolen dump alone cannot sign.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from . import blindrsa
from .models import PetitionKey


def server_secret(purpose: bytes, kek: str | None = None) -> bytes:
    """A 32-byte key for one purpose, derived from COUNTERSIGN_KEY_ENCRYPTION_KEY (which
    lives in the environment, never in the database). One derivation for every use: key
    encryption, the HMACs of addresses and codes, rate-limit buckets, sealed mail. `kek`
    names another key-encryption key (the rotation command, rotate_key_encryption_key)."""
    base = (settings.COUNTERSIGN_KEY_ENCRYPTION_KEY if kek is None else kek).encode()
    return hmac.new(base, b"countersign/" + purpose, hashlib.sha256).digest()


# How many base64url characters of the key id ride in a printed code's fragment
# (`#code=…&k=…`): 8 characters are 48 bits, far more than an operator could grind by
# generating keys, and short enough to keep the QR code small.
KEY_ID_PREFIX_LEN = 8


def key_id_prefix(key_id: bytes) -> str:
    """The short key-id prefix that code cards and flyer tabs carry (`&k=`), so the browser
    client can refuse a key other than the one the printed code was made for."""
    return blindrsa.b64url_encode(bytes(key_id))[:KEY_ID_PREFIX_LEN]


def code_fragment(key: PetitionKey, code: str) -> str:
    """The URL fragment of a printed code: the code, its level and the key-id prefix the
    browser client checks the petition's key against before it sends anything."""
    return f"#code={code}&level={key.level}&k={key_id_prefix(bytes(key.key_id))}"


def fernet(purpose: bytes, kek: str | None = None) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(server_secret(purpose, kek)))


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
        "private_key_encrypted": fernet(b"private-keys").encrypt(der),
    }


def load_private_key(key: PetitionKey) -> rsa.RSAPrivateKey:
    if key.private_key_encrypted is None:
        raise ValueError("the private half of this key was destroyed")
    der = fernet(b"private-keys").decrypt(bytes(key.private_key_encrypted))
    private_key = serialization.load_der_private_key(der, password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    return private_key


def public_key(key: PetitionKey) -> rsa.RSAPublicKey:
    loaded = serialization.load_der_public_key(bytes(key.spki))
    assert isinstance(loaded, rsa.RSAPublicKey)
    return loaded
