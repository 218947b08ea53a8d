"""The log in the database (petition/tlog/services.py, views.py): appends of any batch
size give the tree a direct computation gives, tiles as tlog-tiles says, signed
checkpoints, proofs from stored tiles, append-only tables and 404s for bad tile paths."""

from __future__ import annotations

import base64
import gzip
import random
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import checks
from django.db import DatabaseError, connection, transaction

from petition.models import LogCheckpoint, LogEntry, LogTile, WitnessState
from petition.tlog import entries, merkle, notes, services, views

pytestmark = pytest.mark.django_db

PETITION = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")


def _entry(i: int) -> bytes:
    return entries.withdrawal_entry(PETITION, "in_person", i.to_bytes(32, "big"))


def _append(start: int, count: int):
    with transaction.atomic():
        return services.append_entries([(PETITION, _entry(i)) for i in range(start, start + count)])


def _expected_tiles(leaves: list[bytes], size: int) -> dict:
    """Every tile of `size` computed from scratch, as tlog-tiles defines them."""
    out = {}
    for level, index, width in merkle.tile_widths(size):
        span = merkle.TILE_WIDTH**level
        hashes = [
            merkle.root_from_hashes(leaves[(index * 256 + i) * span : (index * 256 + i + 1) * span])
            for i in range(width)
        ]
        out[(False, level, index, width)] = b"".join(hashes)
    return out


def test_appends_build_the_same_tree_and_tiles_as_a_direct_computation():
    rng = random.Random(16)
    sizes, size = [], 0
    for count in [1, 1, 3, 250, 1, 256, 300, *[rng.randint(1, 700) for _ in range(6)], 66000]:
        checkpoint = _append(size, count)
        size += count
        sizes.append(size)
        assert checkpoint.size == size
    leaves = [merkle.leaf_hash(_entry(i)) for i in range(size)]
    stored = {(t.bundle, t.level, t.index, t.width): bytes(t.data) for t in LogTile.objects.all()}
    for checkpoint_size in sizes:
        checkpoint = LogCheckpoint.objects.get(size=checkpoint_size)
        assert bytes(checkpoint.root) == merkle.root_from_hashes(leaves[:checkpoint_size])
        for coordinates, data in _expected_tiles(leaves, checkpoint_size).items():
            assert stored[coordinates] == data, (checkpoint_size, coordinates)
        # Entry bundles: the full ones and the partial one of this size.
        index, width = divmod(checkpoint_size, 256)
        if width:
            bundle = entries.unbundle(stored[(True, 0, index, width)])
            assert bundle == [_entry(i) for i in range(index * 256, checkpoint_size)]
    # Nothing stored that no checkpoint implies.
    implied = set()
    for checkpoint_size in sizes:
        implied |= set(_expected_tiles(leaves, checkpoint_size))
        implied |= {(True, 0, i, w) for _, i, w in merkle.tile_widths(checkpoint_size) if _ == 0}
    assert set(stored) == {c for c in implied if c[1] == 0 or not c[0]}
    assert size > 65_536 and any(c[1] == 2 for c in stored)  # three levels of tiles


def test_checkpoints_are_signed_notes_with_the_log_key():
    checkpoint = _append(0, 5)
    verifier = services.log_verifier()
    assert verifier.name == services.log_origin()
    text, signers = notes.verify_note(checkpoint.note, [verifier])
    assert signers == [verifier]
    parsed = notes.parse_checkpoint(text)
    assert (parsed.size, parsed.root) == (5, bytes(checkpoint.root))
    assert notes.parse_vkey(services.log_identity()["vkey"]) == verifier


def test_proofs_from_stored_tiles_verify():
    sizes = [0]
    for count in (7, 300, 1, 255, 600):
        sizes.append(_append(sizes[-1], count).size)
    leaves = [merkle.leaf_hash(_entry(i)) for i in range(sizes[-1])]
    roots = {n: merkle.root_from_hashes(leaves[:n]) for n in sizes}
    for old in sizes:
        for new in sizes:
            if new > 0 and old <= new:
                proof = services.consistency_proof(old, new)
                merkle.verify_consistency(old, new, roots[old], roots[new], proof)
    for index in (0, 6, 7, 255, 256, 511, 1162):
        proof = services.inclusion_proof(index, sizes[-1])
        merkle.verify_inclusion(index, sizes[-1], leaves[index], proof, roots[sizes[-1]])


def test_the_database_keeps_the_log_append_only():
    _append(0, 3)
    for statement in (
        "UPDATE petition_logentry SET kind = 1",
        "DELETE FROM petition_logentry",
        "UPDATE petition_logtile SET width = 2",
        "DELETE FROM petition_logcheckpoint",
        "UPDATE petition_logcheckpoint SET note = ''",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    # An entry out of place, or a checkpoint that does not cover exactly the entries.
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.create(position=5, petition_id=PETITION, kind=2, data=b"x")
    with pytest.raises(DatabaseError), transaction.atomic():
        LogCheckpoint.objects.create(size=3, root=bytes(32), note="fork")
    with pytest.raises(DatabaseError), transaction.atomic():
        LogCheckpoint.objects.create(size=2, root=bytes(32), note="backwards")
    assert LogEntry.objects.count() == 3 and LogCheckpoint.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_append_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        services.append_entries([(PETITION, _entry(0))])
    assert not LogEntry.objects.exists()


def test_tiles_and_checkpoint_over_http(client):
    assert client.get("/log/checkpoint").status_code == 404  # empty log
    _append(0, 300)
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=5"
    assert not response.cookies
    body = response.content.decode()
    assert body.startswith(f"{services.log_origin()}\n300\n")
    notes.verify_note(body, [services.log_verifier()])

    full = client.get("/log/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 8192
    assert full["Content-Type"] == "application/octet-stream"
    assert "immutable" in full["Cache-Control"] and not full.cookies
    partial = client.get("/log/tile/0/001.p/44")
    assert partial.status_code == 200 and len(partial.content) == 44 * 32
    assert client.get("/log/tile/1/000.p/1").content == merkle.root_from_hashes(
        [full.content[i : i + 32] for i in range(0, 8192, 32)]
    )
    bundle = client.get("/log/tile/entries/001.p/44", HTTP_ACCEPT_ENCODING="gzip")
    assert bundle["Content-Encoding"] == "gzip"
    assert entries.unbundle(gzip.decompress(bundle.content)) == [_entry(i) for i in range(256, 300)]
    plain = client.get("/log/tile/entries/000")
    assert "Content-Encoding" not in plain and len(entries.unbundle(plain.content)) == 256


@pytest.mark.parametrize(
    "path",
    [
        "0/001",  # full tile past the checkpoint
        "0/001.p/45",  # width no checkpoint implied
        "0/002.p/1",
        "0/001.p/0",
        "0/001.p/256",
        "0/001.p/044",
        "0/1",
        "0/x000/001",
        "00/000",
        "64/000",
        "-1/000",
        "entries/001.p/45",
        "entries/x001",
        "0/000.p/",
        "0/000/",
        "0/abc",
        "2/000",
        "entries",
        "1/000.p/1/extra",
        "0/" + "x999/" * 30 + "999",
    ],
)
def test_bad_tile_paths_are_404(client, path):
    _append(0, 300)
    response = client.get(f"/log/tile/{path}")
    assert response.status_code == 404


def test_auditor_index_lists_the_log_identity(client):
    response = client.get("/api/v1/log")
    assert response.status_code == 200
    data = response.json()
    assert data["origin"] == services.log_origin()
    assert notes.parse_vkey(data["vkey"]).name == data["origin"]
    assert data["petitions"] == []  # no petition row for the synthetic entries
    assert data["witnesses"] == []


def test_auditor_index_and_audit_page_list_the_witness_keys(client, settings, published_petition):
    """The audit page checks cosignatures against the keys it prints; the index lists them
    for other auditors. The witness's URL is for the log only and stays out."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    vkey = notes.verifier_for(
        "witness.example", notes.raw_public_key(key.public_key()), notes.TYPE_COSIGNATURE
    ).vkey
    url = "https://witness.example/secret-submission-path"
    settings.COUNTERSIGN_WITNESSES = [{"name": "witness.example", "url": url, "vkey": vkey}]
    data = client.get("/api/v1/log").json()
    assert data["witnesses"] == [{"name": "witness.example", "vkey": vkey}]
    page = client.get(f"/p/{published_petition.slug}/audit/").content.decode()
    assert f'data-witness-vkey="{vkey}"' in page and url not in page
    assert 'data-tlog="/log/"' in page
    assert f'data-petition-id="{published_petition.id.hex}"' in page


def test_tile_path_parser():
    assert views.parse_tile_path("0/x001/x234/067") == (False, 0, 1234067, 256)
    assert views.parse_tile_path("entries/000.p/7") == (True, 0, 0, 7)
    assert views.parse_tile_path("63/000.p/255") == (False, 63, 0, 255)
    assert views.parse_tile_path("0/" + "x999/" * 30 + "999") is None


def test_origin_follows_the_base_url():
    assert services.origin_for("https://petition.example.org") == "petition.example.org/log"
    assert services.origin_for("https://example.org/cs/") == "example.org/cs/log"
    # The key's base64 may itself hold "+": only the first two "+" separate the parts.
    raw = base64.b64decode(services.log_identity()["vkey"].split("+", 2)[2])
    assert len(raw) == 33 and raw[0] == notes.TYPE_ED25519


def test_checks_flag_a_changed_origin_bad_witnesses_and_a_rolled_back_log(settings):
    def ids():
        return sorted(m.id for m in checks.run_checks() if m.id.startswith("countersign.E02"))

    _append(0, 4)
    assert ids() == []
    base_url = settings.COUNTERSIGN_BASE_URL
    settings.COUNTERSIGN_BASE_URL = "https://elsewhere.example"
    assert ids() == ["countersign.E022"]
    settings.COUNTERSIGN_BASE_URL = base_url
    settings.COUNTERSIGN_WITNESSES = [{"name": "w"}]
    WitnessState.objects.create(name="w", size=9)
    assert ids() == ["countersign.E023", "countersign.E025"]
