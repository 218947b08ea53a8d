"""Publication batches append to the transparency log in their own transaction: the
entries of each batch in the fixed order (signatures, withdrawals, then one summary), one
signed checkpoint per batch, and counts an auditor can recompute (docs/protocol.md)."""

from __future__ import annotations

import pytest

from petition import blindrsa
from petition.keys import public_key
from petition.models import IssuanceCount, LogCheckpoint, LogEntry, PetitionKey
from petition.selectors import petition_counts
from petition.services import petition_publish
from petition.tlog import entries, merkle, notes, services
from tests.signing_client import mint

from .test_publication import at, publish, sign, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def batched_petition(draft_petition):
    """Batches of at least 5, at most one an hour (the production defaults)."""
    draft_petition.publish_interval = 3600
    draft_petition.publish_min_batch = 5
    draft_petition.publish_max_wait = 86400
    draft_petition.save()
    return petition_publish(petition=draft_petition)


def _log() -> list[entries.Entry]:
    return [entries.decode(bytes(e.data)) for e in LogEntry.objects.order_by("position")]


def test_batches_append_entries_in_order_with_a_checkpoint_each(client, batched_petition):
    petition = batched_petition
    first = [mint(petition) for _ in range(5)]
    for credential in first:
        sign(client, petition, credential)
    publish(petition, at(0))
    assert LogCheckpoint.objects.count() == 1

    # Next slot: five more, one of them withdrawn before publication, and a withdrawal
    # of a published signature.
    second = [mint(petition) for _ in range(6)]
    for credential in second:
        sign(client, petition, credential)
    withdraw(client, petition, second[0])
    withdraw(client, petition, first[2])
    publish(petition, at(1))
    assert LogCheckpoint.objects.count() == 2

    log = _log()
    kinds = [e.kind for e in log]
    assert kinds == [1] * 5 + [3] + [1] * 6 + [2, 2] + [3]
    batch1, batch2 = log[:6], log[6:]
    for batch in (batch1, batch2):
        sigs = [e.nullifier for e in batch if e.kind == 1]
        withdrawals = [e.nullifier for e in batch if e.kind == 2]
        assert sigs == sorted(sigs) and withdrawals == sorted(withdrawals)
    assert set(e.nullifier for e in batch2 if e.kind == 2) == {
        blindrsa.nullifier(second[0].token),
        blindrsa.nullifier(first[2].token),
    }
    key = PetitionKey.objects.get(petition=petition, level="in_person")
    for entry in log:
        assert entry.petition_id == petition.id and entry.level == "in_person"
        if entry.kind == 1:
            # What an auditor checks (docs/protocol.md): the message names this petition,
            # key and nullifier, and the signature verifies under the published key.
            assert entry.key_id == bytes(key.key_id) and len(entry.msg) == 127
            assert entry.msg[32:47] == b"countersign-v1\x00"
            assert entry.msg[47:63] == petition.id.bytes
            assert entry.msg[63:95] == entry.key_id and entry.msg[95:127] == entry.nullifier
            assert blindrsa.verify(public_key(key), entry.msg, entry.sig)
    summary = log[-1].summary
    assert (summary.batch_number, summary.signatures_total, summary.withdrawn_total) == (2, 11, 2)
    # mint() signs with the key directly, so no credential was counted as issued here.
    issued = IssuanceCount.objects.filter(petition=petition, level="in_person").first()
    assert summary.credentials_issued == (issued.issued if issued else 0)
    assert (summary.codes_made, summary.codes_revoked, summary.keys_invalidated) == (0, 0, 0)
    # The count rule: signature entries of valid keys minus their withdrawals.
    signed = sum(1 for e in log if e.kind == 1)
    withdrawn = sum(1 for e in log if e.kind == 2)
    assert petition_counts(petition)["in_person"] == signed - withdrawn == 9

    # The checkpoint covers exactly these entries and is signed by the log key.
    latest = LogCheckpoint.objects.order_by("-size").first()
    text, _ = notes.verify_note(latest.note, [services.log_verifier()])
    checkpoint = notes.parse_checkpoint(text)
    leaves = [merkle.leaf_hash(bytes(e.data)) for e in LogEntry.objects.order_by("position")]
    assert checkpoint.size == len(log) == 15
    assert checkpoint.root == merkle.root_from_hashes(leaves)


def test_the_log_and_keys_apis_name_the_log(client, batched_petition):
    for _ in range(5):
        sign(client, batched_petition, mint(batched_petition))
    publish(batched_petition, at(0))
    keys = client.get(f"/api/v1/petitions/{batched_petition.slug}/keys").json()
    index = client.get("/api/v1/log").json()
    assert keys["log"] == {"origin": index["origin"], "vkey": index["vkey"]}
    assert index["petitions"] == [
        {
            "petition_id": blindrsa.b64url_encode(batched_petition.id.bytes),
            "slug": batched_petition.slug,
        }
    ]


def test_petition_and_audit_pages_show_the_log_key(client, batched_petition):
    vkey = services.log_identity()["vkey"]
    for url in (f"/p/{batched_petition.slug}/", f"/p/{batched_petition.slug}/audit/"):
        response = client.get(url)
        assert f'data-log-vkey="{vkey}"' in response.content.decode()
        assert not response.cookies
