"""Signed notes, keys, checkpoints, cosignatures, tile paths, bundles and entries v1."""

import dataclasses
import hashlib
import struct

import pytest
from countersign_audit import entries as E
from countersign_audit import note as N
from countersign_audit import tiles as T
from countersign_audit.merkle import leaf_hash, root_from_hashes

SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
).encode()
# golang.org/x/mod sumdb/note note_test.go (TestSign): Ed25519 is deterministic.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + (
        "\n\u2014 PeterNeumann "
        "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    ).encode()
)


def test_spec_example_key_id_is_recomputed_and_its_note_verifies():
    v = N.Verifier.parse(SPEC_VKEY)
    assert N.key_id(v.name, 0x01, v.public_key) == 0x530D903A
    assert v.vkey == SPEC_VKEY
    verified = N.verify_note(N.parse_note(SPEC_NOTE), [v])
    assert verified.note.text == b"This is an example message.\n"


def test_go_known_answer_is_reproduced_byte_for_byte():
    signer = N.Signer.parse_private_key(GO_SKEY)
    assert signer.verifier.vkey == GO_VKEY
    assert signer.private_key_string() == GO_SKEY
    assert N.sign_note(GO_TEXT, [signer]) == GO_NOTE


def test_unknown_keys_are_ignored_and_failing_known_keys_reject():
    known = N.Verifier.parse(GO_VKEY)
    other = N.Signer.generate("EnochRoot")
    note = N.sign_note(GO_TEXT, [other]) + GO_NOTE[len(GO_TEXT) + 1 :]
    assert N.verify_note(N.parse_note(note), [known]).verified == [known]
    with pytest.raises(N.NoteError, match="no known key"):
        N.verify_note(N.parse_note(N.sign_note(GO_TEXT, [other])), [known])
    forged = GO_NOTE.replace(b"problem,", b"problem!")
    with pytest.raises(N.NoteError, match="bad signature by known key"):
        N.verify_note(N.parse_note(forged), [known])
    # Same name, other key id: not the known key, so ignored (and then nothing verifies).
    impostor = N.Signer.generate("PeterNeumann")
    with pytest.raises(N.NoteError, match="no known key"):
        N.verify_note(N.parse_note(N.sign_note(GO_TEXT, [impostor])), [known])


@pytest.mark.parametrize(
    "bad",
    [
        "no blank line\n\u2014 a AAAA\n".encode(),
        GO_NOTE.replace("\u2014".encode(), b"-"),
        GO_NOTE[:-1],
        GO_NOTE.replace(b"you think", b"you\x07think"),
        GO_NOTE.replace(b"JnAM=", b"JnAM"),
        b"text\n\n",
    ],
)
def test_malformed_notes_are_refused(bad):
    with pytest.raises(N.NoteError):
        N.parse_note(bad)


def test_signature_count_is_capped():
    s = N.Signer.generate("x")
    note = N.sign_note(b"t\n", [s] * (N.MAX_SIGNATURES + 1))
    with pytest.raises(N.NoteError, match="too many"):
        N.parse_note(note)
    assert len(N.parse_note(N.sign_note(b"t\n", [s] * 16)).signatures) == 16


def test_last_blank_line_separates_text_and_signatures():
    s = N.Signer.generate("x")
    text = b"a\n\nb\n"
    parsed = N.parse_note(N.sign_note(text, [s]))
    assert parsed.text == text
    N.verify_note(parsed, [s.verifier])


def test_cosignature_v1():
    w = N.Signer.generate("witness.example", N.TYPE_COSIGNATURE_V1)
    body = N.Checkpoint("example.org/log", 5, bytes(32)).body()
    line = w.signature_line(body, 1700000000)
    raw = N.b64decode_strict(line.split(" ")[2].strip())
    assert len(raw) == 76 and struct.unpack(">Q", raw[4:12])[0] == 1700000000
    assert raw[:4] == hashlib.sha256(b"witness.example\n\x04" + w.public_key).digest()[:4]
    w.private_key.public_key().verify(raw[12:], b"cosignature/v1\ntime 1700000000\n" + body)
    log = N.Signer.generate("example.org/log")
    note = N.parse_note(N.sign_note(body, [log]) + line.encode())
    result = N.verify_note(note, [log.verifier, w.verifier])
    assert result.timestamps[w.verifier.vkey] == 1700000000
    # A cosignature over another time does not verify.
    tampered = raw[:4] + struct.pack(">Q", 1700000001) + raw[12:]
    bad = N.sign_note(body, [log]) + f"\u2014 witness.example {N.b64encode(tampered)}\n".encode()
    with pytest.raises(N.NoteError, match="bad signature"):
        N.verify_note(N.parse_note(bad), [log.verifier, w.verifier])


def test_checkpoint_parsing():
    root = bytes(range(32))
    body = N.Checkpoint("example.org/log", 70000, root).body()
    assert body == b"example.org/log\n70000\n" + N.b64encode(root).encode() + b"\n"
    assert N.parse_checkpoint(body) == N.Checkpoint("example.org/log", 70000, root)
    for bad in [
        body.replace(b"70000", b"070000"),
        body.replace(b"70000", b"-1"),
        body.replace(b"70000", b""),
        body[:-1],
        b"example.org/log\n1\n" + N.b64encode(root[:31]).encode() + b"\n",
        b"example.org/log\n1\n",
    ]:
        with pytest.raises(N.NoteError):
            N.parse_checkpoint(bad)
    assert N.parse_checkpoint(b"o\n0\n" + N.b64encode(root).encode() + b"\n").size == 0


def test_vkey_errors():
    for bad in [
        SPEC_VKEY.replace("530d903a", "530d903b"),
        SPEC_VKEY.replace("530d903a", "530D903A"),
        "a+b",
        SPEC_VKEY + "=",
        "sp ace+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ]:
        with pytest.raises(N.NoteError):
            N.Verifier.parse(bad)


def test_tile_paths_from_the_spec():
    assert T.encode_index(1234067) == "x001/x234/067"
    assert T.encode_index(0) == "000"
    assert T.encode_index(999) == "999"
    assert T.encode_index(1000) == "x001/000"
    assert T.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert T.tile_path(1, 5, 17) == "tile/1/005.p/17"
    assert T.bundle_path(273, 112) == "tile/entries/273.p/112"


def test_tiles_for_size_70000_as_in_the_spec():
    tiles = list(T.tiles_for_size(70000))
    level0 = [t for t in tiles if t[0] == 0]
    assert len([t for t in level0 if t[2] == 256]) == 273 and (0, 273, 112) in level0
    assert [t for t in tiles if t[0] == 1] == [(1, 0, 256), (1, 1, 17)]
    assert [t for t in tiles if t[0] == 2] == [(2, 0, 1)]
    assert list(T.tiles_for_size(0)) == []
    assert list(T.tiles_for_size(256)) == [(0, 0, 256), (1, 0, 1)]


def test_bundles_round_trip_and_refuse_bad_lengths():
    items = [b"", b"a", b"x" * 300]
    data = T.encode_bundle(items)
    assert data[:2] == b"\x00\x00" and T.parse_bundle(data, 3) == items
    for bad, width in [(data, 2), (data, 4), (data[:-1], 3), (data + b"\x00", 3)]:
        with pytest.raises(T.TileError):
            T.parse_bundle(bad, width)


def test_writer_tiles_hold_the_subtree_hashes():
    w = T.LogWriter("o", N.Signer.generate("o"))
    w.append([b"%d" % i for i in range(600)])
    w.sign()
    hashes = [leaf_hash(b"%d" % i) for i in range(600)]
    assert w.files["tile/0/001"] == b"".join(hashes[256:512])
    assert w.files["tile/0/002.p/88"] == b"".join(hashes[512:600])
    assert w.files["tile/1/000.p/2"] == root_from_hashes(hashes[:256]) + root_from_hashes(
        hashes[256:512]
    )
    assert T.parse_bundle(w.files["tile/entries/002.p/88"], 88)[0] == b"512"


def _sig_entry():
    pid, kid, nul = bytes(range(16)), b"k" * 32, b"n" * 32
    prepared = b"p" * 32 + E.MESSAGE_TAG + pid + kid + nul
    return E.SignatureEntry(pid, "flyer", kid, nul, prepared, b"s" * 256)


def test_entry_v1_layout_and_round_trip():
    sig = _sig_entry()
    raw = E.encode(sig)
    assert raw[:2] == b"\x01\x01" and raw[2:18] == sig.petition_id and raw[18] == 3
    assert raw[19:51] == sig.key_id and raw[51:83] == sig.nullifier
    assert raw[83:85] == b"\x00\x7f" and raw[212:214] == b"\x01\x00" and len(raw) == 214 + 256
    assert E.decode(raw) == sig
    E.check_message(sig)
    wd = E.WithdrawalEntry(sig.petition_id, "flyer", sig.nullifier)
    assert E.encode(wd) == b"\x01\x02" + sig.petition_id + b"\x03" + sig.nullifier
    summary = E.SummaryEntry(sig.petition_id, "work_email", 7, 10, 2, 30, 0, 0, 1)
    raw = E.encode(summary)
    assert len(raw) == 19 + 4 + 40 + 4 and raw[19:23] == b"\x00\x00\x00\x07"
    assert E.decode(raw) == summary
    for bad in [
        raw[:-1],
        b"\x02" + raw[1:],
        raw[:1] + b"\x09" + raw[2:],
        raw[:18] + b"\x04" + raw[19:],
    ]:
        with pytest.raises(E.EntryError):
            E.decode(bad)


def test_ledger_rules():
    s = _sig_entry()
    summary = E.SummaryEntry(s.petition_id, "flyer", 1, 1, 0, 1, 10, 0, 0)
    ledger = E.Ledger()
    ledger.add(s)
    ledger.add(summary)
    with pytest.raises(E.EntryError, match="double signature"):
        ledger.add(s)
    ledger = E.Ledger()
    with pytest.raises(E.EntryError, match="not published"):
        ledger.add(E.WithdrawalEntry(s.petition_id, "flyer", s.nullifier))
    ledger = E.Ledger()
    ledger.add(s)
    with pytest.raises(E.EntryError, match="summary says 2 signatures"):
        ledger.add(E.SummaryEntry(s.petition_id, "flyer", 1, 2, 0, 2, 10, 0, 0))


def test_ledger_batch_shape():
    s = _sig_entry()
    wd = E.WithdrawalEntry(s.petition_id, "flyer", s.nullifier)
    ledger = E.Ledger()
    ledger.add(s)
    ledger.add(wd)
    with pytest.raises(E.EntryError, match="withdrawals of a batch not sorted"):
        ledger.add(wd)
    ledger = E.Ledger()
    for entry in [s, wd, E.SummaryEntry(s.petition_id, "flyer", 1, 1, 1, 1, 10, 0, 0)]:
        ledger.add(entry)
    with pytest.raises(E.EntryError, match="double withdrawal"):
        ledger.add(wd)
    ledger = E.Ledger()
    ledger.add(s)
    ledger.add(E.SummaryEntry(s.petition_id, "flyer", 1, 1, 0, 1, 10, 0, 0))
    with pytest.raises(E.EntryError, match="not published for this petition and level"):
        ledger.add(E.WithdrawalEntry(s.petition_id, "work_email", s.nullifier))
    ledger = E.Ledger()
    ledger.add(s)
    with pytest.raises(E.EntryError, match="ends without its summary"):
        ledger.add(E.SummaryEntry(s.petition_id, "work_email", 1, 0, 0, 0, 0, 0, 0))
    ledger = E.Ledger()
    ledger.add(s)
    with pytest.raises(E.EntryError, match="ends inside a batch"):
        ledger.finish()
    smaller = dataclasses.replace(s, nullifier=b"m" * 32)
    ledger = E.Ledger()
    ledger.add(s)
    with pytest.raises(E.EntryError, match="not sorted"):
        ledger.add(smaller)
    ledger = E.Ledger()
    ledger.add(s)
    ledger.add(wd)
    with pytest.raises(E.EntryError, match="signature after a withdrawal"):
        ledger.add(dataclasses.replace(s, nullifier=b"z" * 32))
    ledger = E.Ledger()
    ledger.add(s)
    ledger.add(E.SummaryEntry(s.petition_id, "flyer", 2, 1, 0, 5, 10, 1, 0))
    ledger.add(dataclasses.replace(s, nullifier=b"z" * 32))
    with pytest.raises(E.EntryError, match="batch number does not grow"):
        ledger.add(E.SummaryEntry(s.petition_id, "flyer", 2, 2, 0, 5, 10, 1, 0))
    ledger.batch = [(0, s)]
    with pytest.raises(E.EntryError, match="codes_revoked went down"):
        ledger.add(E.SummaryEntry(s.petition_id, "flyer", 3, 2, 0, 5, 10, 0, 0))
