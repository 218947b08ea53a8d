"""Entry encoding v1 (petition/tlog/entries.py) against tests/data/log-entry-vectors.json,
the file the independent audit tool is checked against as well."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key

from petition import blindrsa
from petition.tlog import entries, merkle

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "log-entry-vectors.json").read_text()
)
SUMMARY_FIELDS = [
    "batch_number",
    "signatures_total",
    "withdrawn_total",
    "credentials_issued",
    "codes_made",
    "codes_revoked",
    "keys_invalidated",
]


def _encode(item: dict) -> bytes:
    petition_id, level = uuid.UUID(item["petition_id"]), item["level"]
    if item["kind"] == "signature":
        return entries.signature_entry(
            petition_id,
            level,
            bytes.fromhex(item["key_id"]),
            bytes.fromhex(item["nullifier"]),
            bytes.fromhex(item["prepared_msg"]),
            bytes.fromhex(item["sig"]),
        )
    if item["kind"] == "withdrawal":
        return entries.withdrawal_entry(petition_id, level, bytes.fromhex(item["nullifier"]))
    summary = entries.Summary(*(item[f] for f in SUMMARY_FIELDS))
    return entries.summary_entry(petition_id, level, summary)


def test_every_kind_and_level_is_covered():
    assert {i["kind"] for i in VECTORS["entries"]} == {"signature", "withdrawal", "summary"}
    assert {i["level"] for i in VECTORS["entries"]} == {"work_email", "in_person", "flyer"}


@pytest.mark.parametrize("item", VECTORS["entries"], ids=lambda i: f"{i['kind']}-{i['level']}")
def test_encoding_decoding_and_leaf_hash(item):
    data = _encode(item)
    assert data.hex() == item["entry"]
    assert merkle.leaf_hash(data).hex() == item["leaf_hash"]
    decoded = entries.decode(data)
    assert str(decoded.petition_id) == item["petition_id"] and decoded.level == item["level"]


def test_signature_entries_verify_as_auditors_check_them():
    public_key = load_der_public_key(bytes.fromhex(VECTORS["key_spki"]))
    assert blindrsa.key_id(public_key).hex() == VECTORS["key_id"]
    for item in VECTORS["entries"]:
        if item["kind"] != "signature":
            continue
        entry = entries.decode(bytes.fromhex(item["entry"]))
        assert entry.msg[32:47] == b"countersign-v1\x00"
        assert entry.msg[47:63] == uuid.UUID(item["petition_id"]).bytes
        assert entry.msg[63:95] == entry.key_id and entry.msg[95:127] == entry.nullifier
        assert blindrsa.verify(public_key, entry.msg, entry.sig)


def test_roots_of_every_prefix():
    leaves = [bytes.fromhex(i["leaf_hash"]) for i in VECTORS["entries"]]
    assert [merkle.root_from_hashes(leaves[:n]).hex() for n in range(len(leaves) + 1)] == (
        VECTORS["roots"]
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x02" + bytes(18),  # version 2
        b"\x01\x02" + bytes(16) + b"\x04" + bytes(32),  # level 4
        b"\x01\x02" + bytes(16) + b"\x01" + bytes(31),  # short withdrawal
        b"\x01\x03" + bytes(16) + b"\x01" + bytes(47),  # short summary
        b"\x01\x01" + bytes(16) + b"\x01" + bytes(64) + b"\x00\x05abc",  # truncated msg
        b"\x01\x09" + bytes(16) + b"\x01" + bytes(32),  # unknown kind
    ],
)
def test_malformed_entries_are_refused(data):
    with pytest.raises(entries.EntryError):
        entries.decode(data)


def test_bundles_round_trip_and_refuse_truncation():
    items = [bytes.fromhex(i["entry"]) for i in VECTORS["entries"]]
    data = entries.bundle(items)
    assert entries.unbundle(data) == items
    with pytest.raises(entries.EntryError):
        entries.unbundle(data[:-1])
    with pytest.raises(entries.EntryError):
        entries.signature_entry(uuid.uuid4(), "flyer", bytes(32), bytes(32), b"", bytes(70_000))
