"""Signed notes, checkpoints and cosignatures (petition/tlog/notes.py) against the published
examples of C2SP signed-note v1.0.0 and golang.org/x/mod's sumdb/note known answer."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from petition.tlog import notes

# c2sp.org/signed-note, "Example".
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6Tf"
    "Xppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# golang.org/x/mod sumdb/note (note_test.go, ExampleSign): the key pair and the note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFY"
    "C2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_spec_example_key_id_is_recomputed_and_the_note_verifies():
    verifier = notes.parse_vkey(SPEC_VKEY)
    assert verifier.key_id.hex() == "530d903a"
    assert notes.key_id("example.com/foo", 1, verifier.public_key).hex() == "530d903a"
    assert verifier.vkey == SPEC_VKEY
    text, signers = notes.verify_note(SPEC_NOTE, [verifier])
    assert text == "This is an example message.\n"
    assert signers == [verifier]


def test_spec_example_tampered_is_refused():
    verifier = notes.parse_vkey(SPEC_VKEY)
    with pytest.raises(notes.NoteError, match="does not verify"):
        notes.verify_note(SPEC_NOTE.replace("example message", "exampel message"), [verifier])


def test_x_mod_known_answer_is_reproduced_byte_for_byte():
    # x/mod's private key string: PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed).
    encoded = GO_SKEY.split("+", 4)[4]
    raw = base64.b64decode(encoded)
    assert raw[0] == 1
    private_key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    verifier = notes.verifier_for("PeterNeumann", notes.raw_public_key(private_key.public_key()))
    assert verifier.vkey == GO_VKEY
    assert notes.sign_note(GO_TEXT, "PeterNeumann", private_key) == GO_NOTE
    assert notes.verify_note(GO_NOTE, [notes.parse_vkey(GO_VKEY)])[0] == GO_TEXT


def test_a_vkey_whose_base64_holds_a_plus_parses():
    # transparency-dev/formats' test key: its base64 contains "+".
    vkey = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
    verifier = notes.parse_vkey(vkey)
    assert verifier.name == "TEST" and verifier.vkey == vkey


def test_unknown_keys_are_ignored_and_a_note_without_known_signature_is_refused():
    other = Ed25519PrivateKey.generate()
    note = notes.sign_note(GO_TEXT, "Other", other)
    combined = GO_NOTE + note[note.rindex("\u2014") :]  # two signature lines
    text, signers = notes.verify_note(combined, [notes.parse_vkey(GO_VKEY)])
    assert text == GO_TEXT and [s.name for s in signers] == ["PeterNeumann"]
    with pytest.raises(notes.NoteError, match="no known key"):
        notes.verify_note(note, [notes.parse_vkey(GO_VKEY)])


@pytest.mark.parametrize(
    "vkey",
    [
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # wrong id
        GO_VKEY.replace("c74f20a3", "C74F20A3"),  # not lowercase
        GO_VKEY.replace("PeterNeumann", "Peter Neumann"),
        GO_VKEY + "+",
        "PeterNeumann+c74f20a3+AXpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short
        "PeterNeumann+c74f20a3+!!!",
    ],
)
def test_bad_verifier_keys_are_refused(vkey):
    with pytest.raises(notes.NoteError):
        notes.parse_vkey(vkey)


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT + "\u2014 PeterNeumann x08go\n",  # no blank line
        GO_TEXT + "\n- PeterNeumann x08go/ZJkuBS9U=\n",  # hyphen, not em dash
        GO_TEXT + "\n\u2014 PeterNeumann not*base64\n",
        GO_TEXT + "\n",  # no signature
        GO_NOTE[:-1],  # no final newline
        "bell\x07\n\n" + GO_NOTE.split("\n\n")[1],
    ],
)
def test_malformed_notes_are_refused(note):
    with pytest.raises(notes.NoteError):
        notes.verify_note(note, [notes.parse_vkey(GO_VKEY)])


def test_checkpoint_round_trip_and_strict_parsing():
    root = bytes(range(32))
    checkpoint = notes.Checkpoint("example.org/log", 1234, root)
    assert checkpoint.text == f"example.org/log\n1234\n{base64.b64encode(root).decode()}\n"
    assert notes.parse_checkpoint(checkpoint.text) == checkpoint
    for bad in (
        "example.org/log\n01\nAAAA\n",
        "example.org/log\n1\n" + base64.b64encode(root).decode() + "\nextension\n",
        "example.org/log\n-1\n" + base64.b64encode(root).decode() + "\n",
        "example.org/log\n1\n" + base64.b64encode(root[:31]).decode() + "\n",
    ):
        with pytest.raises(notes.NoteError):
            notes.parse_checkpoint(bad)


def test_cosignature_sign_and_verify():
    witness = Ed25519PrivateKey.generate()
    log = Ed25519PrivateKey.generate()
    text = notes.Checkpoint("example.org/log", 5, bytes(32)).text
    note = notes.sign_note(text, "example.org/log", log)
    line = notes.cosign(text, "witness.example", witness, 1_700_000_000)
    verifier = notes.verifier_for(
        "witness.example", notes.raw_public_key(witness.public_key()), notes.TYPE_COSIGNATURE
    )
    assert notes.parse_vkey(verifier.vkey) == verifier
    # 4 + 8 + 64 bytes: 104 base64 characters.
    assert len(line.split(" ")[2].strip()) == 104
    assert notes.verify_note(note + line, [verifier])[1] == [verifier]
    # A cosignature over another size does not verify.
    other = notes.Checkpoint("example.org/log", 6, bytes(32)).text
    forged = notes.sign_note(other, "example.org/log", log) + line
    with pytest.raises(notes.NoteError, match="does not verify"):
        notes.verify_note(forged, [verifier])
