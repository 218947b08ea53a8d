"""A test client of protocol v1 written from docs/protocol.md, using petition.blindrsa for
the client-side steps and the petition's stored key for BlindSign (which the credential
endpoint does in production). Shared by the tests of every app and by benchmarks/redeem.py,
so it sits next to tests/factories.py."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import load_der_public_key

from petition import blindrsa
from petition.keys import load_private_key
from petition.models import Petition

b64 = blindrsa.b64url_encode


@dataclass
class Credential:
    token: bytes
    key_id: bytes
    prepared: bytes
    sig: bytes

    def payload(self, **extra) -> dict:
        return {
            "key_id": b64(self.key_id),
            "msg": b64(self.prepared),
            "sig": b64(self.sig),
            **extra,
        }


def mint(
    petition: Petition, level: str = "in_person", petition_id: bytes | None = None
) -> Credential:
    key = petition.keys.get(level=level)
    private = load_private_key(key)
    public = private.public_key()
    token = secrets.token_bytes(32)
    msg = blindrsa.build_message(
        petition_id or petition.id.bytes, bytes(key.key_id), blindrsa.nullifier(token)
    )
    prepared = blindrsa.prepare(msg)
    blinded, inv = blindrsa.blind(public, prepared)
    sig = blindrsa.finalize(public, prepared, blindrsa.blind_sign(private, blinded), inv)
    return Credential(token=token, key_id=bytes(key.key_id), prepared=prepared, sig=sig)


@dataclass
class PendingCredential:
    token: bytes
    prepared: bytes
    inv: bytes
    blinded: bytes
    key_id: bytes
    public: object

    def finish(self, blind_sig_b64: str) -> Credential:
        sig = blindrsa.finalize(
            self.public, self.prepared, blindrsa.b64url_decode(blind_sig_b64), self.inv
        )
        return Credential(token=self.token, key_id=self.key_id, prepared=self.prepared, sig=sig)


def start(client, petition: Petition, level: str) -> PendingCredential:
    """What a client does before asking for a credential: only public data from the API."""
    keys = client.get(f"/api/v1/petitions/{petition.slug}/keys").json()
    entry = next(k for k in keys["keys"] if k["level"] == level)
    public = load_der_public_key(blindrsa.b64url_decode(entry["spki"]))
    key_id = blindrsa.b64url_decode(entry["key_id"])
    token = secrets.token_bytes(32)
    msg = blindrsa.build_message(
        blindrsa.b64url_decode(keys["petition_id"]), key_id, blindrsa.nullifier(token)
    )
    prepared = blindrsa.prepare(msg)
    blinded, inv = blindrsa.blind(public, prepared)
    return PendingCredential(token, prepared, inv, blinded, key_id, public)
