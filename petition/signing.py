"""Redeeming and withdrawing signatures (protocol v1). The API views are thin doors to
these functions; errors carry the protocol's status and code."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import blindrsa
from .keys import public_key
from .models import Petition, Signature

PREPARED_LEN = blindrsa.PREFIX_LEN + blindrsa.MESSAGE_LEN


@dataclass
class ProtocolError(Exception):
    status: int
    code: str
    message: str


def decode_b64(value, name: str, *, length: int | None = None, max_length: int = 1024) -> bytes:
    if not isinstance(value, str):
        raise ProtocolError(400, "malformed", f"{name} must be a base64url string.")
    try:
        data = blindrsa.b64url_decode(value)
    except ValueError as exc:
        raise ProtocolError(400, "malformed", f"{name} is not base64url without padding.") from exc
    if (length is not None and len(data) != length) or len(data) > max_length:
        raise ProtocolError(400, "malformed", f"{name} has the wrong length.")
    return data


def _text(value, name: str, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise ProtocolError(400, "malformed", f"{name} must be text of at most {max_length}.")
    return value.strip()


def signature_redeem(*, petition: Petition, payload: dict) -> Signature:
    """Accept a signature, checking in the order protocol v1 prescribes."""
    # 1. Shape and lengths.
    key_id = decode_b64(payload.get("key_id"), "key_id", length=32)
    prepared = decode_b64(payload.get("msg"), "msg", length=PREPARED_LEN)
    sig = decode_b64(payload.get("sig"), "sig", max_length=1024)
    display_name = _text(payload.get("display_name"), "display_name", 80)
    comment = _text(payload.get("comment"), "comment", 1000)

    # 2. The key belongs to this petition, and the petition is open.
    key = petition.keys.filter(key_id=key_id).only("id", "level", "spki").first()
    if key is None:
        raise ProtocolError(403, "wrong_key", "This key does not belong to this petition.")
    if petition.status != Petition.Status.PUBLISHED:
        raise ProtocolError(403, "petition_not_open", "This petition is not open for signing.")

    # 3. RSASSA-PSS verification (cryptography).
    if not blindrsa.verify(public_key(key), prepared, sig):
        raise ProtocolError(403, "bad_signature", "The signature does not verify.")

    # 4. What was signed names this petition and this key.
    try:
        petition_id, msg_key_id, nullifier = blindrsa.parse_message(prepared[blindrsa.PREFIX_LEN :])
    except ValueError as exc:
        raise ProtocolError(403, "petition_mismatch", "The message is not a v1 message.") from exc
    if petition_id != petition.id.bytes or msg_key_id != key_id:
        raise ProtocolError(403, "petition_mismatch", "The message names another petition.")

    # 5. The nullifier, under the database's unique constraint (P2).
    try:
        with transaction.atomic():
            return Signature.objects.create(
                petition=petition,
                key=key,
                level=key.level,
                nullifier=nullifier,
                msg=prepared,
                sig=sig,
                display_name=display_name,
                comment=comment,
                # The date only: an exact time would line up with issuance in access logs.
                signed_on=timezone.now().date(),
            )
    except IntegrityError as exc:
        raise ProtocolError(409, "already_signed", "This credential was already used.") from exc


def signature_withdraw(*, petition: Petition, payload: dict) -> None:
    token = decode_b64(payload.get("token"), "token", length=32)
    updated = Signature.objects.filter(
        petition=petition, nullifier=blindrsa.nullifier(token)
    ).update(withdrawn=True)
    if not updated:
        raise ProtocolError(404, "not_found", "No signature with this token.")
