"""A test client of protocol v1 written from docs/protocol.md, using petition.blindrsa for
the client-side steps and the petition's stored key for BlindSign (which the credential
endpoint does in production)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

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
