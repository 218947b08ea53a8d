"""Waiting signatures sealed under a window key the database does not hold.

During a publication window a database copy plus the key-encryption key used to line a
signer up with what they wrote: the work-email ledger row (an HMAC of the address, which
the key-encryption key lets anyone test) or the used code sits next to the waiting
signature in `xmin`/`ctid` order. So everything in a waiting signature that could be
matched to the published one (nullifier, message, signature, key, name, comment) is sealed
with AES-GCM, padded to one size, under a per-(petition, level) window key whose 32-byte
secret lives only in the sealing store (the "sealing" cache: Redis, or files under var/ in
the embedded default). The database keeps the key's name (`WindowKey`) and, per waiting
row, `tag` = HMAC(window secret, nullifier), which keeps a nullifier unique (P2) without
showing it.

After each batch (`window_after_batch`, in the batch's transaction): the current window key
is retired (a new one is made at the next redemption), a retired key with no waiting row
left is deleted, its secret after commit (forward secrecy: a later seizure of the database,
the store and the key-encryption key together opens nothing from past windows), and the
signer-side rows written at issuance (ledger, used codes, issuance counters) are written
again in hash order, so that their `xmin` and `ctid` keep no arrival order.

Redemptions and batches do not race: a redemption holds the petition row FOR SHARE from
its checks to its insert, which conflicts with the batch's FOR NO KEY UPDATE; so the key it
reads as current stays current, and the tags it checks cannot move under it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import secrets
import struct
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.cache import caches
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from redis.exceptions import RedisError

from .models import (
    EmailLedger,
    IssuanceCount,
    PendingSignature,
    PendingWithdrawal,
    Petition,
    Signature,
    SigningCode,
    WindowKey,
)
from .text import COMMENT_MAX, DISPLAY_NAME_MAX

logger = logging.getLogger(__name__)

STORE = "sealing"
SECRET_LEN = 32
NONCE_LEN = 12
# Every sealed entry is this long before encryption, whatever it holds: a blob's length
# would otherwise give the length of a comment that becomes public with the batch. The
# largest entry: nullifier, message, a signature of up to 1,024 bytes, the key's id, a name
# and a comment of 4 UTF-8 bytes per character, and the length fields.
PLAINTEXT_LEN = 32 + 127 + 1024 + 8 + 4 * DISPLAY_NAME_MAX + 4 * COMMENT_MAX + 6 * 4 + 64
_FIELD = struct.Struct(">I")
_VERSION = b"\x01"


class StoreUnavailable(Exception):
    """The sealing store (Redis) cannot be reached: nothing can be sealed or opened now.
    The API answers 503 with Retry-After; the publication sweep tries again next minute."""


@contextmanager
def _reachable_store():
    try:
        yield caches[STORE]
    except (RedisError, OSError) as exc:
        logger.warning("sealing store unavailable (%s)", type(exc).__name__)
        raise StoreUnavailable from exc


class SealingError(Exception):
    """A sealed entry cannot be opened: wrong key, tampered, or not a sealed entry."""


@dataclass(frozen=True)
class WaitingSignature:
    """A waiting signature as the publication batch reads it (`_waiting_signatures`)."""

    pk: uuid.UUID
    key_id: int  # the PetitionKey's primary key, as Signature.key_id takes it
    level: str
    nullifier: bytes
    msg: bytes
    sig: bytes
    display_name: str
    comment: str
    received_on: datetime.date
    # Set when the signer withdrew while the signature was waiting: the batch then records
    # the withdrawal (see `waiting_signatures_open`).
    withdrawn_on: datetime.date | None = None


# --- the primitives ---------------------------------------------------------------------


def entry_aad(petition_id: uuid.UUID, level: str, window_key_id: uuid.UUID) -> bytes:
    # A sealed entry opens only as what it was sealed for: moving a blob to another
    # petition, level or window key makes it unreadable.
    return b"countersign/pending/v1\0" + petition_id.bytes + level.encode() + window_key_id.bytes


def tag(secret: bytes, nullifier: bytes) -> bytes:
    """The waiting row's uniqueness tag: testable only with the window secret."""
    return hmac.new(secret, b"countersign/tag\0" + nullifier, hashlib.sha256).digest()


def seal(secret: bytes, aad: bytes, fields: list[bytes]) -> bytes:
    body = b"".join(_FIELD.pack(len(field)) + field for field in fields)
    if len(body) > PLAINTEXT_LEN:
        raise ValueError("entry too long to seal")
    nonce = secrets.token_bytes(NONCE_LEN)
    padded = body + bytes(PLAINTEXT_LEN - len(body))
    return _VERSION + nonce + AESGCM(secret).encrypt(nonce, padded, aad)


def unseal(secret: bytes, aad: bytes, blob: bytes, count: int) -> list[bytes]:
    """The `count` fields of a sealed entry. SealingError if it is not exactly that."""
    if len(blob) < 1 + NONCE_LEN or blob[:1] != _VERSION:
        raise SealingError("not a sealed entry")
    nonce = blob[1 : 1 + NONCE_LEN]
    try:
        padded = AESGCM(secret).decrypt(nonce, blob[1 + NONCE_LEN :], aad)
    except InvalidTag as exc:
        raise SealingError("wrong key or tampered entry") from exc
    fields, offset = [], 0
    for _ in range(count):
        (length,) = _FIELD.unpack_from(padded, offset)
        offset += _FIELD.size
        fields.append(padded[offset : offset + length])
        offset += length
    return fields


def _seal_entry(secret: bytes, aad: bytes, entry: dict) -> bytes:
    return seal(
        secret,
        aad,
        [
            entry["nullifier"],
            entry["msg"],
            entry["sig"],
            str(entry["key_id"]).encode(),
            entry["display_name"].encode(),
            entry["comment"].encode(),
            entry["withdrawn_on"].isoformat().encode() if entry.get("withdrawn_on") else b"",
        ],
    )


def _open_entry(secret: bytes, row: PendingSignature) -> WaitingSignature:
    aad = entry_aad(row.petition_id, row.level, row.window_key_id)
    # Entries sealed before withdrawals were sealed too have six fields; the padding reads
    # as an empty seventh.
    nullifier, msg, sig, key_id, name, comment, withdrawn_on = unseal(
        secret, aad, bytes(row.sealed), 7
    )
    if not hmac.compare_digest(tag(secret, nullifier), bytes(row.tag)):
        raise SealingError("the tag does not match the sealed nullifier")
    return WaitingSignature(
        pk=row.pk,
        key_id=int(key_id),
        level=row.level,
        nullifier=nullifier,
        msg=msg,
        sig=sig,
        display_name=name.decode(),
        comment=comment.decode(),
        received_on=row.received_on,
        withdrawn_on=datetime.date.fromisoformat(withdrawn_on.decode()) if withdrawn_on else None,
    )


# --- the store --------------------------------------------------------------------------


def _store_name(window_key_id: uuid.UUID) -> str:
    return f"window-key:{window_key_id}"


def window_secret(window_key_id: uuid.UUID) -> bytes | None:
    with _reachable_store() as store:
        secret = store.get(_store_name(window_key_id))
    return secret if isinstance(secret, bytes) and len(secret) == SECRET_LEN else None


def _forget(window_key_ids: list[uuid.UUID]) -> None:
    if window_key_ids:
        with _reachable_store() as store:
            store.delete_many([_store_name(i) for i in window_key_ids])


def _lock_petition_shared(petition_id: uuid.UUID) -> None:
    """FOR SHARE on the petition row until the transaction ends: the batch (FOR NO KEY
    UPDATE) waits for this redemption or withdrawal, and it for a batch under way. SQLite
    (the embedded default) runs one writing transaction at a time anyway."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {Petition._meta.db_table} WHERE id = %s FOR SHARE",  # noqa: S608  # nosec B608
            [petition_id],
        )


def _lock_and_read_windows(petition_id: uuid.UUID, level: str) -> dict[uuid.UUID, bool]:
    """FOR SHARE on the petition row until the transaction ends (the batch, FOR NO KEY
    UPDATE, waits for this redemption, and this redemption for a batch under way), then the
    level's window keys, {id: retired}.

    Two statements, not one joined read: a statement that waits for the lock keeps the
    snapshot it started with, so a join would return the keys as they were before the batch
    it waited for retired or deleted them. The second statement's snapshot is taken once
    the lock is held (READ COMMITTED), after that batch committed."""
    _lock_petition_shared(petition_id)
    windows = WindowKey._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {windows.pk.column}, retired FROM {windows.db_table} "  # noqa: S608  # nosec B608
            "WHERE petition_id = %s AND level = %s",
            [Petition._meta.pk.get_db_prep_value(petition_id, connection), level],
        )
        rows = cursor.fetchall()
    return {windows.pk.to_python(pk): bool(retired) for pk, retired in rows}


# --- redemption -------------------------------------------------------------------------


class WindowMoved(Exception):
    """Window keys were made and retired under `window_key_current` three times over."""


class NoWindow(Exception):
    """No current window key whose secret the store holds, for this petition and level: the
    caller leaves its transaction, makes one (`window_key_current`) and tries again."""


def window_key_current(petition: Petition, level: str) -> tuple[WindowKey, bytes]:
    """The key new entries of this petition and level go under, made if there is none.

    Called outside any transaction, when a redemption finds no current key under its lock
    (`pending_signature_seal` raises NoWindow): the secret must be in the store before the
    key's row commits, and two redemptions making the first key at once must not abort a
    redemption's transaction on the unique constraint. The redemption then starts over and
    reads the key as current under its lock.
    """
    for _attempt in range(3):
        key = WindowKey.objects.filter(petition=petition, level=level, retired=False).first()
        if key is not None:
            secret = window_secret(key.pk)
            if secret is not None:
                return key, secret
            # The store lost this secret (wiped, or restored from an older copy): nothing
            # more goes under a key nobody can open.
            logger.error(
                "A window key's secret is missing from the sealing store; a new key is used"
            )
            with transaction.atomic():
                list(Petition.objects.select_for_update(no_key=True).filter(pk=petition.pk))
                WindowKey.objects.filter(pk=key.pk).update(retired=True)
        key = WindowKey(petition=petition, level=level)
        secret = secrets.token_bytes(SECRET_LEN)
        # The secret is stored before its name is committed, so that no row can ever name
        # a key whose secret was never written.
        with _reachable_store() as store:
            store.set(_store_name(key.pk), secret, timeout=None)
        try:
            with transaction.atomic():
                key.save(force_insert=True)
        except IntegrityError:
            _forget([key.pk])  # a concurrent redemption made the current key first
            continue
        return key, secret
    raise WindowMoved  # keys made and retired under us three times: the caller retries


def _live_keys(petition_id: uuid.UUID, level: str | None = None) -> list[tuple[uuid.UUID, bytes]]:
    """Every window key of the petition (and level) that may still have waiting rows, with
    its secret; keys whose secret is missing are left out (their rows cannot be matched)."""
    keys = WindowKey.objects.filter(petition_id=petition_id)
    if level is not None:
        keys = keys.filter(level=level)
    found = []
    for key_id in keys.values_list("pk", flat=True):
        secret = window_secret(key_id)
        if secret is not None:
            found.append((key_id, secret))
    return found


def _secrets(window_key_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, bytes]]:
    """The secrets of these window keys that the store still has, in one round trip."""
    if not window_key_ids:
        return []
    with _reachable_store() as store:
        found = store.get_many([_store_name(i) for i in window_key_ids])
    return [
        (i, secret)
        for i in window_key_ids
        if isinstance(secret := found.get(_store_name(i)), bytes) and len(secret) == SECRET_LEN
    ]


def pending_signature_seal(*, petition: Petition, entry: dict, received_on) -> bool:
    """Insert a waiting signature sealed under the current window key of its level; False if
    its nullifier is already waiting or published. Runs inside the caller's transaction, in
    three statements (a redemption is mostly its round trips: benchmarks/README.md, "Load"):

    1. lock the petition row, then read the level's window keys and fetch their secrets
       (one store round trip); raises NoWindow when there is no current key, or when the
       store has lost its secret;
    2. insert, unless a twin is published or waiting under any of those keys (the tags are
       computed here: the database never sees a nullifier of a waiting signature).

    Under the lock no batch moves entries or retires keys, so the twin check sees every
    twin there is; a twin inserted concurrently under the same key fails the unique
    constraint on the tag (IntegrityError, raised to the caller)."""
    level = entry["level"]
    nullifier = entry["nullifier"]
    windows = _lock_and_read_windows(petition.pk, level)
    current = [pk for pk, retired in windows.items() if not retired]
    if not current:
        raise NoWindow
    key_id = current[0]
    found = dict(_secrets(list(windows)))
    secret = found.get(key_id)
    if secret is None:
        raise NoWindow
    tags = [(pk, tag(other, nullifier)) for pk, other in found.items()]
    row = PendingSignature(
        petition=petition,
        level=level,
        window_key_id=key_id,
        tag=tag(secret, nullifier),
        sealed=_seal_entry(secret, entry_aad(petition.pk, level, key_id), entry),
        received_on=received_on,
    )
    fields = PendingSignature._meta.concrete_fields
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
    pending = PendingSignature._meta.db_table
    published = Signature._meta.db_table
    petition_id = Petition._meta.pk.get_db_prep_value(petition.pk, connection)
    twin_params = [
        value
        for pk, twin in tags
        for value in (WindowKey._meta.pk.get_db_prep_value(pk, connection), twin)
    ]
    twins = " OR ".join(["(window_key_id = %s AND tag = %s)"] * len(tags))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {pending} ({', '.join(f.column for f in fields)}) "  # noqa: S608  # nosec B608
            f"SELECT {', '.join(['%s'] * len(fields))} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {published} "
            "WHERE petition_id = %s AND nullifier = %s) "
            f"AND NOT EXISTS (SELECT 1 FROM {pending} WHERE petition_id = %s AND ({twins}))",
            [
                *values,
                petition_id,
                nullifier,
                petition_id,
                *twin_params,
            ],
        )
        return cursor.rowcount == 1


def pending_signature_withdraw(
    *, petition: Petition, nullifier: bytes, day: datetime.date
) -> str | None:
    """Mark the waiting signature with this nullifier as withdrawn, inside its sealed entry;
    returns its level, or None when no such signature waits.

    A withdrawal row naming the nullifier in clear, written now, would sit in `xmin` order
    next to the signer's ledger row and sealed entry when they sign and withdraw in one
    window, and the nullifier leads to the published row with their name and comment. So
    the withdrawal travels sealed; the batch writes the withdrawal row (`PendingWithdrawal`)
    in its own transaction, where it lines up with nothing.
    """
    with transaction.atomic():
        _lock_petition_shared(petition.pk)
        for key_id, secret in _live_keys(petition.pk):
            row = (
                PendingSignature.objects.select_for_update()
                .filter(petition=petition, window_key_id=key_id, tag=tag(secret, nullifier))
                .first()
            )
            if row is None:
                continue
            entry = _open_entry(secret, row)
            if entry.withdrawn_on is None:
                fields = {**entry.__dict__, "withdrawn_on": day}
                aad = entry_aad(petition.pk, row.level, key_id)
                PendingSignature.objects.filter(pk=row.pk).update(
                    sealed=_seal_entry(secret, aad, fields)
                )
            return row.level
    return None


# --- publication ------------------------------------------------------------------------


def waiting_signatures_open(petition: Petition, level: str) -> list[WaitingSignature]:
    """Every waiting signature of the petition and level that can be opened, in nullifier
    order. Runs in the batch's transaction (petition row locked).

    An entry whose key's secret is missing stays where it is, and an ERROR line gives the
    count (no signer data); see docs/operations.md. An entry whose nullifier is published
    already (re-submitted while its first copy could not be read, then the store came back)
    is deleted instead of published twice.
    """
    rows = list(PendingSignature.objects.filter(petition=petition, level=level))
    secrets_by_key = {key_id: window_secret(key_id) for key_id in {r.window_key_id for r in rows}}
    opened, unreadable = [], 0
    for row in rows:
        secret = secrets_by_key[row.window_key_id]
        if secret is None:
            unreadable += 1
            continue
        try:
            opened.append(_open_entry(secret, row))
        except SealingError:
            unreadable += 1
    if unreadable:
        logger.error(
            "%d waiting signature(s) of one petition cannot be opened (window key secret "
            "missing from the sealing store, or entry damaged); they stay unpublished",
            unreadable,
        )
    published = set(
        bytes(n)
        for n in Signature.objects.filter(
            petition=petition, nullifier__in=[e.nullifier for e in opened]
        ).values_list("nullifier", flat=True)
    )
    kept, seen, twins = [], set(), []
    for entry in sorted(opened, key=lambda e: e.nullifier):
        if entry.nullifier in published or entry.nullifier in seen:
            twins.append(entry.pk)
            continue
        seen.add(entry.nullifier)
        kept.append(entry)
    if twins:
        PendingSignature.objects.filter(pk__in=twins).delete()
    # Withdrawals made while their signature waited become withdrawal rows now, in the
    # batch's transaction; the batch's rules apply to them as to any other withdrawal.
    PendingWithdrawal.objects.bulk_create(
        [
            PendingWithdrawal(
                petition=petition,
                level=level,
                nullifier=entry.nullifier,
                received_on=entry.withdrawn_on,
            )
            for entry in kept
            if entry.withdrawn_on is not None
        ],
        ignore_conflicts=True,
    )
    return kept


def window_after_batch(petition: Petition, level: str) -> None:
    """Close the window of a batch that was just written, in the batch's transaction."""
    WindowKey.objects.filter(petition=petition, level=level, retired=False).update(retired=True)
    spent = list(
        WindowKey.objects.filter(petition=petition, level=level, retired=True)
        .exclude(pk__in=PendingSignature.objects.filter(petition=petition).values("window_key"))
        .values_list("pk", flat=True)
    )
    WindowKey.objects.filter(pk__in=spent).delete()
    # After commit only: if the batch rolled back, its entries still need their key.
    transaction.on_commit(lambda: _forget(spent))
    signer_rows_restamp(petition)


def signer_rows_restamp(petition: Petition) -> None:
    """Write the petition's ledger rows and used codes again, in hash order, in this
    transaction: afterwards every one of them carries this transaction's `xmin`, and their
    physical order is the order of their hashes, not of issuance. The issuance counters are
    touched too (their `xmin` is the last issuance's). Runs with the petition row locked by
    the batch; an issuance racing it waits on the rows or the unique constraints."""
    ledger = sorted(
        EmailLedger.objects.filter(petition=petition).values_list("email_hash", flat=True),
        key=bytes,
    )
    EmailLedger.objects.filter(petition=petition).delete()
    EmailLedger.objects.bulk_create(
        [EmailLedger(petition=petition, email_hash=bytes(h)) for h in ledger], batch_size=1000
    )
    used = SigningCode.objects.filter(batch__petition=petition, used=True)
    codes = sorted(used.values_list("pk", "batch_id", "code_hash"), key=lambda c: bytes(c[2]))
    SigningCode.objects.filter(pk__in=[pk for pk, _, _ in codes]).delete()
    SigningCode.objects.bulk_create(
        [SigningCode(pk=pk, batch_id=b, code_hash=bytes(h), used=True) for pk, b, h in codes],
        batch_size=1000,
    )
    IssuanceCount.objects.filter(petition=petition).update(issued=F("issued"))
