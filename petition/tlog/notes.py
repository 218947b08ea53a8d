"""C2SP signed-note v1.0.0, tlog-checkpoint v1.0.0 and tlog-cosignature v1.0.1 (Ed25519).

Pure functions over `cryptography`; no Django. Keys are (name, key id, public key)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .merkle import HASH_SIZE

TYPE_ED25519 = 0x01
TYPE_COSIGNATURE = 0x04
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space
# HEAD of signed-note asks verifiers to accept at least 16; more is refused as garbage.
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A note, checkpoint, key or cosignature that is malformed or does not verify."""


@dataclasses.dataclass(frozen=True)
class Verifier:
    name: str
    key_type: int
    key_id: bytes  # 4 bytes
    public_key: bytes  # 32 bytes

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([self.key_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


def check_key_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name) or not name.isprintable():
        raise NoteError("a key name must be non-empty, without spaces or '+'")


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ public key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_for(name: str, public_key: bytes, key_type: int = TYPE_ED25519) -> Verifier:
    check_key_name(name)
    return Verifier(name, key_type, key_id(name, key_type, public_key), public_key)


def parse_vkey(vkey: str) -> Verifier:
    """`<name>+<8 hex key id>+<base64(type ‖ key)>`, Ed25519 (0x01) or cosignature (0x04);
    the key id is recomputed and must match."""
    parts = vkey.split("+", 2)  # the base64 may hold "+" too
    if len(parts) != 3:
        raise NoteError("a verifier key has three '+'-separated parts")
    name, hex_id, encoded = parts
    check_key_name(name)
    try:
        if len(hex_id) != 8 or hex_id != hex_id.lower():
            raise ValueError
        claimed = bytes.fromhex(hex_id)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as error:
        raise NoteError("a verifier key's id or key is not well encoded") from error
    if len(raw) != 33 or raw[0] not in (TYPE_ED25519, TYPE_COSIGNATURE):
        raise NoteError("only Ed25519 (0x01) and cosignature/v1 (0x04) keys are supported")
    verifier = Verifier(name, raw[0], key_id(name, raw[0], raw[1:]), raw[1:])
    if verifier.key_id != claimed:
        raise NoteError("a verifier key's id does not match its name and key")
    return verifier


def signature_line(name: str, key_id_: bytes, payload: bytes) -> str:
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(key_id_ + payload).decode()}\n"


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note: text, blank line, one Ed25519 signature line."""
    check_text(text)
    verifier = verifier_for(name, raw_public_key(private_key.public_key()))
    signature = private_key.sign(text.encode())
    return text + "\n" + signature_line(name, verifier.key_id, signature)


def check_text(text: str) -> None:
    if not text.endswith("\n") or any(c != "\n" and not c.isprintable() for c in text):
        raise NoteError("a note's text ends in a newline and has no other control characters")


@dataclasses.dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    payload: bytes  # after the key id
    line: str


def split_note(note: str) -> tuple[str, list[Signature]]:
    """The text and the signature lines of a note (nothing verified yet)."""
    if not note.endswith("\n"):
        raise NoteError("a note ends in a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("a note has a blank line before its signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    check_text(text)
    signatures = []
    for line in block.splitlines(keepends=True):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].rstrip("\n").partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise NoteError("a signature is not base64") from error
        if len(raw) < 5 or not name or " " in encoded:
            raise NoteError("a signature line is malformed")
        signatures.append(Signature(name, raw[:4], raw[4:], line))
    if not signatures:
        raise NoteError("a note has at least one signature")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError("too many signatures on a note")
    return text, signatures


def _public(verifier: Verifier) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(verifier.public_key)


def verify_note(note: str, verifiers: list[Verifier]) -> tuple[str, list[Verifier]]:
    """The text and the known keys that signed it. Unknown (name, id) pairs are ignored; a
    known key whose signature fails rejects the note; no known signature rejects it.
    Cosignature keys (0x04) are checked over the cosignature message of the text."""
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    good = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        try:
            if verifier.key_type == TYPE_ED25519:
                _public(verifier).verify(signature.payload, text.encode())
            else:
                verify_cosignature(verifier, text, signature.payload)
        except (InvalidSignature, NoteError) as error:
            raise NoteError(f"the signature of {verifier.name} does not verify") from error
        good.append(verifier)
    if not good:
        raise NoteError("no known key signed this note")
    return text, good


# tlog-checkpoint.


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    @property
    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """The three-line body (no extension lines: Countersign writes none and reads none)."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise NoteError("a checkpoint has exactly three lines")
    origin, size, root = lines[:3]
    check_key_name(origin)
    if not (size.isascii() and size.isdigit()) or (size != "0" and size.startswith("0")):
        raise NoteError("a checkpoint's size is a decimal without leading zeros")
    try:
        raw = base64.b64decode(root, validate=True)
    except binascii.Error as error:
        raise NoteError("a checkpoint's root is not base64") from error
    if len(raw) != HASH_SIZE:
        raise NoteError("a checkpoint's root is not 32 bytes")
    return Checkpoint(origin, int(size), raw)


# tlog-cosignature v1.0.1 (Ed25519, type 0x04).


def cosignature_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def cosign(text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """A witness's cosignature line (tests, and the reference for docs/protocol.md)."""
    public = raw_public_key(private_key.public_key())
    verifier = verifier_for(name, public, TYPE_COSIGNATURE)
    payload = struct.pack(">Q", timestamp) + private_key.sign(cosignature_message(text, timestamp))
    return signature_line(name, verifier.key_id, payload)


def verify_cosignature(verifier: Verifier, text: str, payload: bytes) -> int:
    """The cosignature's timestamp, if `payload` (after the key id) verifies."""
    if len(payload) != 8 + 64:
        raise NoteError("a cosignature is 72 bytes after its key id")
    (timestamp,) = struct.unpack(">Q", payload[:8])
    if timestamp >= 1 << 63:
        raise NoteError("a cosignature's time is out of range")
    try:
        _public(verifier).verify(payload[8:], cosignature_message(text, timestamp))
    except InvalidSignature as error:
        raise NoteError(f"the cosignature of {verifier.name} does not verify") from error
    return timestamp
