"""Eligibility and credential issuance (protocol v1).

Eligibility is checked here, at issuance; the credential is an RFC 9474 blind signature
the server cannot link to the signature it later redeems. What this module stores about a
signer is at most a keyed hash of their work address, and only until the petition closes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.background import enqueue_on_commit

from . import blindrsa
from .codes import code_hash
from .keys import load_private_key, public_key, server_secret
from .models import (
    EmailCode,
    EmailLedger,
    IssuanceCount,
    Level,
    Petition,
    PetitionKey,
    SigningCode,
)
from .protocol import ProtocolError, decode_b64
from .ratelimits import count_in_window
from .tasks import email_code_send
from .workemail import EMAIL_CODE_TTL, canonical_address, seal_mail

EMAIL_CODE_DIGITS = 8
EMAIL_CODE_ATTEMPTS = 5
# Codes made per mailbox per clock hour: the first and two more. Each stays valid until it
# expires, so a stranger who types a colleague's address cannot replace the code the
# colleague is about to enter; past the cap nothing is sent, silently (the answer never
# changes, P3).
EMAIL_CODES_PER_HOUR = 3
EXPIRED_KEPT = timedelta(hours=1)


def _mac(purpose: bytes, *parts: bytes) -> bytes:
    return hmac.new(server_secret(purpose), b"\0".join(parts), hashlib.sha256).digest()


# --- work email -------------------------------------------------------------------------


def _check_work_email(petition: Petition, email) -> str:
    """The canonical address, if its domain is one the campaign accepts."""
    campaign = petition.campaign
    address = canonical_address(email, extra_separator=campaign.email_subaddress_separator)
    if address.rsplit("@", 1)[1] not in campaign.email_domains:
        # Naming the accepted domains tells nothing about any address (P3): they are the
        # campaign's, and the signing form shows them too (review S9).
        raise ProtocolError(
            400,
            "domain_not_accepted",
            "This petition accepts only addresses at " + ", ".join(campaign.email_domains) + ".",
        )
    return address


def email_hash(petition: Petition, address: str) -> bytes:
    """The ledger's key for a canonical address (see `workemail.canonical_address`)."""
    return _mac(b"email", petition.id.bytes, address.encode())


def email_code_request(*, petition: Petition, email, language: str = "") -> None:
    """Mail a code to any address at an accepted domain.

    The caller answers the same whatever happens here: eligible, already used, throttled
    or unknown addresses all get the same answer (P3); "already used" shows only once a
    code from that mailbox is entered. `language`: the signer's page's, for the mail.
    """
    _require_open(petition, Level.WORK_EMAIL)
    address = _check_work_email(petition, email)
    mailbox = email_hash(petition, address)
    # Closed when Redis is down (LimitsUnavailable, 503): the cap is what keeps a stranger
    # from replacing a colleague's code again and again.
    if count_in_window(b"email-codes", mailbox.hex(), EMAIL_CODES_PER_HOUR, 3600, fail_open=False):
        return
    code = "".join(secrets.choice("0123456789") for _ in range(EMAIL_CODE_DIGITS))
    now = timezone.now()
    with transaction.atomic():
        # A new code joins the earlier ones instead of replacing them: the signer who asks
        # again while the first mail is on its way must not find the first code dead
        # (review S11). Codes that expired over an hour ago go, so rows do not pile up;
        # a recently expired one stays to say "expired" rather than "not valid".
        EmailCode.objects.filter(
            petition=petition, email_hash=mailbox, expires_at__lt=now - EXPIRED_KEPT
        ).delete()
        EmailCode.objects.create(
            petition=petition,
            email_hash=mailbox,
            code_hash=_mac(b"email-code", mailbox, code.encode()),
            expires_at=now + EMAIL_CODE_TTL,
        )
        # Log and carry on if the broker is down, although no sweep resends the mail: the
        # answer must stay the same for every address at an accepted domain (P3), and a
        # failure here would differ from a throttled request's silence. The signer who gets
        # no mail asks again; the log line names the task, never the sealed address.
        # The mail is written in the language of the page that asked (`language`): passed
        # to the task, stored nowhere.
        enqueue_on_commit(email_code_send, seal_mail(to=address, code=code), language)


# --- issuance ---------------------------------------------------------------------------


def _require_open(petition: Petition, level: str) -> None:
    if not petition.is_open:
        raise ProtocolError(403, "petition_not_open", "This petition is not open for signing.")
    if level not in petition.levels:
        raise ProtocolError(400, "level_not_accepted", "This petition does not take it.")


def _blinded_input(key: PetitionKey, value) -> bytes:
    blinded = decode_b64(value, "blinded_msg", length=(key.modulus_bits + 7) // 8)
    n = public_key(key).public_numbers().n
    if not 0 < int.from_bytes(blinded, "big") < n:
        raise ProtocolError(400, "malformed", "blinded_msg is out of range.")
    return blinded


def _sign(petition: Petition, key: PetitionKey, blinded: bytes) -> dict:
    blind_sig = blindrsa.blind_sign(load_private_key(key), blinded)
    # The counter rows are made at publication, so concurrent first issuances cannot race
    # to create them.
    IssuanceCount.objects.filter(petition=petition, level=key.level).update(issued=F("issued") + 1)
    return {
        "key_id": blindrsa.b64url_encode(bytes(key.key_id)),
        "blind_sig": blindrsa.b64url_encode(blind_sig),
    }


def credential_issue(*, petition: Petition, payload: dict) -> dict:
    level = payload.get("level")
    if level not in Level.values:
        raise ProtocolError(400, "malformed", "level must be work_email, in_person or flyer.")
    _require_open(petition, level)
    key = petition.keys.get(level=level)
    if key.invalidated_at is not None:
        raise ProtocolError(403, "key_invalidated", "This way of signing was invalidated.")
    # Check the blinded message before spending anything on it.
    blinded = _blinded_input(key, payload.get("blinded_msg"))
    code = payload.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ProtocolError(400, "malformed", "code is required.")
    if level == Level.WORK_EMAIL:
        return _issue_for_email(petition, key, blinded, payload.get("email"), code)
    return _issue_for_code(petition, key, blinded, code)


def _issue_for_code(petition: Petition, key: PetitionKey, blinded: bytes, code: str) -> dict:
    code_pk = (
        SigningCode.objects.filter(
            code_hash=code_hash(code),
            batch__petition=petition,
            batch__level=key.level,
            # Codes of a revoked, unapproved or expired batch do not work (codes.py).
            batch__revoked_at__isnull=True,
            batch__approved_at__isnull=False,
        )
        .filter(Q(batch__expires_at__isnull=True) | Q(batch__expires_at__gt=timezone.now()))
        .values_list("pk", flat=True)
        .first()
    )
    if code_pk is None:
        raise ProtocolError(403, "invalid_code", "This code is not valid.")
    with transaction.atomic():
        # The claim's WHERE must be on the row itself: PostgreSQL re-checks it after waiting
        # for a concurrent claim, whereas a join (`id IN (subquery)`) would be re-checked
        # against the stale subquery and let every waiter through. Consumed in the same
        # transaction that signs: a failure below gives the code back.
        if SigningCode.objects.filter(pk=code_pk, used=False).update(used=True):
            return _sign(petition, key, blinded)
    raise ProtocolError(409, "already_issued", "This code was already used.")


def _issue_for_email(
    petition: Petition, key: PetitionKey, blinded: bytes, email, code: str
) -> dict:
    address = email_hash(petition, _check_work_email(petition, email))
    typed = _mac(b"email-code", address, code.strip().encode())
    with transaction.atomic():
        # All of the mailbox's codes, locked: a wrong guess counts against every one of
        # them, so several live codes give a guesser no more tries than one code did.
        live = list(
            EmailCode.objects.select_for_update()
            .filter(petition=petition, email_hash=address, attempts__lt=EMAIL_CODE_ATTEMPTS)
            .order_by("id")
        )
        # Compare with each (constant time, no early exit), so the answer's timing does
        # not say which code matched.
        pending = None
        for candidate in live:
            if hmac.compare_digest(bytes(candidate.code_hash), typed) and pending is None:
                pending = candidate
        if pending is None and live:
            EmailCode.objects.filter(pk__in=[c.pk for c in live]).update(attempts=F("attempts") + 1)
    if pending is None:
        raise ProtocolError(403, "invalid_code", "This code is not valid.")
    # Only someone holding the right code learns that it expired; otherwise "expired" would
    # tell anyone that this address asked for a code recently (P3).
    if pending.expires_at < timezone.now():
        raise ProtocolError(403, "code_expired", "This code has expired. Ask for a new one.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                EmailLedger.objects.create(petition=petition, email_hash=address)
        except IntegrityError as exc:
            raise ProtocolError(
                409, "already_issued", "This address already received its credential."
            ) from exc
        EmailCode.objects.filter(petition=petition, email_hash=address).delete()
        return _sign(petition, key, blinded)
