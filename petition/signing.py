"""Redeeming and withdrawing signatures (protocol v1). The API views are thin doors to
these functions; errors carry the protocol's status and code."""

from __future__ import annotations

import contextlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import blindrsa, sealing
from .keys import public_key
from .models import PendingWithdrawal, Petition, Signature
from .protocol import ProtocolError, decode_b64
from .publication import petition_publish_pending
from .text import COMMENT_MAX, DISPLAY_NAME_MAX, hidden_controls

PREPARED_LEN = blindrsa.PREFIX_LEN + blindrsa.MESSAGE_LEN


def _text(value, name: str, max_length: int, *, newlines: bool = False) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise ProtocolError(400, "malformed", f"{name} must be text of at most {max_length}.")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        # JSON can carry a lone surrogate (\ud800), which no UTF-8 text can hold.
        raise ProtocolError(400, "malformed", f"{name} is not valid Unicode text.")
    if hidden_controls(value, newlines=newlines):
        raise ProtocolError(
            400,
            "text_not_allowed",
            f"{name} contains invisible control characters (such as text-direction "
            "overrides) that could hide or reorder what others read.",
        )
    return value.strip()


def signature_redeem(*, petition: Petition, payload: dict) -> bytes:
    """Accept a signature, checking in the order protocol v1 prescribes; returns its
    nullifier.

    The signature waits in PendingSignature, sealed (petition.sealing), for its publication
    batch; see petition.publication. The caller answers 201 at once.
    """
    # 1. Shape and lengths.
    key_id = decode_b64(payload.get("key_id"), "key_id", length=32)
    prepared = decode_b64(payload.get("msg"), "msg", length=PREPARED_LEN)
    sig = decode_b64(payload.get("sig"), "sig", max_length=1024)
    display_name = _text(payload.get("display_name"), "display_name", DISPLAY_NAME_MAX)
    comment = _text(payload.get("comment"), "comment", COMMENT_MAX, newlines=True)

    # 2. The key belongs to this petition, and the petition is open.
    key = (
        petition.keys.filter(key_id=key_id)
        .only("id", "petition_id", "level", "spki", "invalidated_at")
        .first()
    )
    if key is None:
        raise ProtocolError(403, "wrong_key", "This key does not belong to this petition.")
    if key.invalidated_at is not None:
        raise ProtocolError(403, "key_invalidated", "This key was invalidated.")
    if not petition.is_open:
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

    # 5. The nullifier, unique across the waiting (by tag, sealed) and published tables
    # (P2); the entry is sealed under the current window key (petition/sealing.py).
    entry = {
        "level": key.level,
        "key_id": key.pk,
        "nullifier": nullifier,
        "msg": prepared,
        "sig": sig,
        "display_name": display_name,
        "comment": comment,
    }
    already_signed = ProtocolError(409, "already_signed", "This credential was already used.")
    # Five tries: with immediate publication every batch retires the window key, so under a
    # crowd a redemption may find its key gone more than once (each try is three statements).
    for _attempt in range(5):
        try:
            with transaction.atomic():
                # The day only, for the maximum wait: an exact time would line up with
                # issuance in access logs. A twin already waiting or published returns
                # False; a twin inserted concurrently under the same key fails the unique
                # constraint on the tag.
                accepted = sealing.pending_signature_seal(
                    petition=petition, entry=entry, received_on=timezone.now().date()
                )
        except sealing.NoWindow:
            # The first signature of a window (or the store lost the current key's
            # secret): the key is made outside the transaction, then sealing starts over.
            with contextlib.suppress(sealing.WindowMoved):  # made and retired under us: again
                sealing.window_key_current(petition, key.level)
            continue
        except IntegrityError as exc:
            raise already_signed from exc
        if not accepted:
            raise already_signed
        break
    else:
        raise ProtocolError(503, "try_again", "The server is busy. Send the same request again.")
    if petition.publishes_immediately:
        # Tests and demos: public at once. Publication runs in its own transaction, after
        # the signature's has committed.
        petition_publish_pending(petition_id=petition.id)
    return nullifier


def signature_withdraw(*, petition: Petition, payload: dict) -> None:
    """Record a withdrawal; it becomes public in the next publication batch, like a
    signature (a count that drops at once would tell when that one person withdrew)."""
    token = decode_b64(payload.get("token"), "token", length=32)
    nullifier = blindrsa.nullifier(token)
    today = timezone.now().date()
    # Waiting first, then published: a batch moving the signature waits for the first step's
    # lock or has committed before the second step starts, so one of them finds it.
    level = sealing.pending_signature_withdraw(petition=petition, nullifier=nullifier, day=today)
    if level is not None:
        # Sealed inside the waiting entry; the batch writes the withdrawal row.
        if petition.publishes_immediately:
            petition_publish_pending(petition_id=petition.id)
        return
    published = (
        Signature.objects.filter(petition=petition, nullifier=nullifier)
        .values_list("level", "withdrawn")
        .first()
    )
    if published is None:
        raise ProtocolError(404, "not_found", "No signature with this token.")
    level, withdrawn = published
    if withdrawn:
        return
    # Withdrawing twice records one withdrawal.
    PendingWithdrawal.objects.bulk_create(
        [
            PendingWithdrawal(
                petition=petition,
                level=level,
                nullifier=nullifier,
                received_on=today,
            )
        ],
        ignore_conflicts=True,
    )
    if petition.publishes_immediately:
        petition_publish_pending(petition_id=petition.id)
