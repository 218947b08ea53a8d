"""Waiting signatures sealed under window keys (petition/sealing.py): the seal
itself, the key's life from the first redemption to the batch that forgets it, the unique
nullifier across keys, and a sealing store that lost its secrets."""

from __future__ import annotations

import datetime
import json
import secrets
import uuid

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from petition import blindrsa, publication, sealing
from petition.models import PendingSignature, PendingWithdrawal, Signature, WindowKey
from petition.services import petition_publish
from tests.signing_client import mint

pytestmark = pytest.mark.django_db


@pytest.fixture
def held_petition(draft_petition):
    """Batches of at least 5: signatures wait. Interval 0, so that every run of the job
    decides (slot boundaries and the pool draw have their own tests in test_publication)."""
    draft_petition.publish_interval = 0
    draft_petition.publish_min_batch = 5
    draft_petition.publish_max_wait = 86400
    draft_petition.save()
    return petition_publish(petition=draft_petition)


def sign(petition, credential, **extra):
    return Client().post(
        f"/api/v1/petitions/{petition.slug}/signatures",
        json.dumps(credential.payload(**extra)),
        content_type="application/json",
    )


def stored(window_key_id) -> bytes | None:
    return caches[sealing.STORE].get(f"window-key:{window_key_id}")


# --- the seal ---------------------------------------------------------------------------


FIELDS = [b"n" * 32, b"m" * 127, b"s" * 256, b"7", b"Ada", "Un commentaire, ünï".encode()]


def test_a_sealed_entry_opens_with_its_key_and_associated_data():
    secret, aad = secrets.token_bytes(32), sealing.entry_aad(uuid.uuid4(), "flyer", uuid.uuid4())
    blob = sealing.seal(secret, aad, FIELDS)
    assert sealing.unseal(secret, aad, blob, len(FIELDS)) == FIELDS
    # A fresh nonce each time: the same entry sealed twice gives two unrelated blobs.
    assert sealing.seal(secret, aad, FIELDS) != blob


def test_every_sealed_entry_has_the_same_length_whatever_it_holds():
    secret, aad = secrets.token_bytes(32), b"aad"
    short = sealing.seal(secret, aad, [b"n" * 32, b"m" * 127, b"s" * 256, b"7", b"", b""])
    longest = sealing.seal(
        secret,
        aad,
        [
            b"n" * 32,
            b"m" * 127,
            b"s" * 1024,
            b"7",
            "\U0001f600".encode() * 80,
            "\U0001f600".encode() * 1000,
        ],
    )
    assert len(short) == len(longest)


def test_a_tampered_entry_is_refused():
    secret, aad = secrets.token_bytes(32), b"aad"
    blob = bytearray(sealing.seal(secret, aad, FIELDS))
    blob[40] ^= 1
    with pytest.raises(sealing.SealingError):
        sealing.unseal(secret, aad, bytes(blob), len(FIELDS))


def test_a_wrong_key_or_another_window_cannot_open_an_entry():
    secret, aad = secrets.token_bytes(32), sealing.entry_aad(uuid.uuid4(), "flyer", uuid.uuid4())
    blob = sealing.seal(secret, aad, FIELDS)
    with pytest.raises(sealing.SealingError):
        sealing.unseal(secrets.token_bytes(32), aad, blob, len(FIELDS))
    other_window = sealing.entry_aad(uuid.uuid4(), "flyer", uuid.uuid4())
    with pytest.raises(sealing.SealingError):
        sealing.unseal(secret, other_window, blob, len(FIELDS))
    with pytest.raises(sealing.SealingError):
        sealing.unseal(secret, aad, b"not sealed", len(FIELDS))


# --- the window key's life ---------------------------------------------------------------


def test_a_waiting_row_holds_no_signer_field_in_clear(held_petition):
    credential = mint(held_petition)
    assert sign(held_petition, credential, comment="written by me").status_code == 201
    row = PendingSignature.objects.get(petition=held_petition)
    nullifier = blindrsa.nullifier(credential.token)
    assert nullifier not in bytes(row.sealed) and nullifier != bytes(row.tag)
    assert b"written by me" not in bytes(row.sealed)
    assert stored(row.window_key_id) is not None


def test_the_batch_forgets_its_window_key_once_committed(
    held_petition, django_capture_on_commit_callbacks
):
    for _ in range(5):
        assert sign(held_petition, mint(held_petition)).status_code == 201
    key = WindowKey.objects.get(petition=held_petition)
    assert stored(key.pk) is not None
    with django_capture_on_commit_callbacks(execute=True):
        batches = publication.petition_publish_pending(petition_id=held_petition.id)
    assert batches and Signature.objects.filter(petition=held_petition).count() == 5
    assert not WindowKey.objects.filter(petition=held_petition).exists()
    assert stored(key.pk) is None
    # The next redemption opens a new window under a new key.
    assert sign(held_petition, mint(held_petition)).status_code == 201
    assert WindowKey.objects.get(petition=held_petition).pk != key.pk


def test_a_retired_key_with_waiting_entries_still_guards_their_nullifiers(held_petition):
    """A batch that holds entries back retires their key but keeps it until they are out:
    their tokens cannot be spent again under the next key (P2)."""
    credential = mint(held_petition)
    assert sign(held_petition, credential).status_code == 201
    WindowKey.objects.filter(petition=held_petition).update(retired=True)
    again = sign(held_petition, credential)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_signed"
    assert PendingSignature.objects.filter(petition=held_petition).count() == 1
    # A fresh credential goes under a new current key; both are live.
    assert sign(held_petition, mint(held_petition)).status_code == 201
    assert WindowKey.objects.filter(petition=held_petition).count() == 2


def test_a_withdrawal_of_a_waiting_signature_travels_sealed_until_the_batch(
    held_petition, django_capture_on_commit_callbacks
):
    """Signing and withdrawing in one window must not leave a row naming the nullifier in
    clear next to the signer's sealed entry (it would lead to their published comment).
    Six sign, so that five live signatures fill the batch the withdrawn one rides along with
    (a signature withdrawn while waiting counts for nothing: petition/publication.py)."""
    credentials = [mint(held_petition) for _ in range(6)]
    for credential in credentials:
        assert sign(held_petition, credential, comment="changed my mind").status_code == 201
    before = bytes(PendingSignature.objects.get(tag=_tag_of(held_petition, credentials[0])).sealed)
    for _ in range(2):  # twice records one withdrawal
        withdrawn = Client().post(
            f"/api/v1/petitions/{held_petition.slug}/withdrawals",
            json.dumps({"token": blindrsa.b64url_encode(credentials[0].token)}),
            content_type="application/json",
        )
        assert withdrawn.status_code == 200
    assert not PendingWithdrawal.objects.exists()
    after = PendingSignature.objects.get(tag=_tag_of(held_petition, credentials[0]))
    assert bytes(after.sealed) != before and len(bytes(after.sealed)) == len(before)

    with django_capture_on_commit_callbacks(execute=True):
        assert publication.petition_publish_pending(petition_id=held_petition.id)
    published = Signature.objects.get(
        petition=held_petition, nullifier=blindrsa.nullifier(credentials[0].token)
    )
    assert published.withdrawn
    assert Signature.objects.filter(petition=held_petition, withdrawn=False).count() == 5
    assert not PendingWithdrawal.objects.exists()


def _tag_of(petition, credential) -> bytes:
    key = WindowKey.objects.get(petition=petition, retired=False)
    return sealing.tag(stored(key.pk), blindrsa.nullifier(credential.token))


# --- a sealing store that lost its secrets ----------------------------------------------


def test_entries_whose_key_is_lost_stay_unpublished_with_an_error_and_can_be_sent_again(
    held_petition, log_output, django_capture_on_commit_callbacks
):
    credentials = [mint(held_petition) for _ in range(5)]
    for i, credential in enumerate(credentials):
        assert sign(held_petition, credential, comment=f"lost comment {i}").status_code == 201
    lost = WindowKey.objects.get(petition=held_petition)
    secret = stored(lost.pk)
    caches[sealing.STORE].delete(f"window-key:{lost.pk}")  # the store was wiped

    # The job neither crashes nor publishes: an ERROR line with a count, no signer data.
    assert publication.petition_publish_pending(petition_id=held_petition.id) == []
    assert PendingSignature.objects.filter(petition=held_petition).count() == 5
    logged = log_output.getvalue()
    assert "ERROR" in logged and "5 waiting signature(s)" in logged
    assert "lost comment" not in logged
    for credential in credentials:
        assert blindrsa.b64url_encode(blindrsa.nullifier(credential.token)) not in logged

    # The signers' devices keep their receipts: sent again, they are accepted under a new
    # key, and published.
    for credential in credentials:
        assert sign(held_petition, credential).status_code == 201
    assert WindowKey.objects.get(petition=held_petition, retired=False).pk != lost.pk
    with django_capture_on_commit_callbacks(execute=True):
        assert publication.petition_publish_pending(petition_id=held_petition.id)
    assert Signature.objects.filter(petition=held_petition).count() == 5

    # The store comes back from a copy: the first copies open again, and are dropped as
    # twins of published signatures instead of failing the batch.
    caches[sealing.STORE].set(f"window-key:{lost.pk}", secret, timeout=None)
    for _ in range(5):
        assert sign(held_petition, mint(held_petition)).status_code == 201
    later = timezone.now() + datetime.timedelta(hours=2)  # past the first batch's slot
    with django_capture_on_commit_callbacks(execute=True):
        assert publication.petition_publish_pending(petition_id=held_petition.id, now=later)
    assert Signature.objects.filter(petition=held_petition).count() == 10
    assert not PendingSignature.objects.filter(petition=held_petition).exists()
    assert stored(lost.pk) is None


def test_a_redemption_under_a_lost_current_key_opens_a_new_one(held_petition):
    assert sign(held_petition, mint(held_petition)).status_code == 201
    first = WindowKey.objects.get(petition=held_petition)
    caches[sealing.STORE].delete(f"window-key:{first.pk}")
    assert sign(held_petition, mint(held_petition)).status_code == 201
    first.refresh_from_db()
    assert first.retired
    current = WindowKey.objects.get(petition=held_petition, retired=False)
    assert stored(current.pk) is not None
