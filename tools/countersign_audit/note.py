"""C2SP signed-note v1.0.0, tlog-checkpoint v1.0.0 and tlog-cosignature v1.0.1 (Ed25519).

Written from the specifications, independently of the Countersign server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from countersign_audit.merkle import HASH_SIZE

TYPE_ED25519 = 0x01
TYPE_COSIGNATURE_V1 = 0x04
EM_DASH_PREFIX = "\u2014 "
# signed-note asks verifiers to accept at least 16 signatures; x/mod allows 100.
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 20
MAX_TIMESTAMP = (1 << 63) - 1


class NoteError(ValueError):
    """A note, key or checkpoint is malformed or does not verify."""


def b64decode_strict(text: str) -> bytes:
    """Standard base64 with padding, one spelling per byte string."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError("invalid base64") from exc
    if base64.b64encode(raw).decode() != text:
        raise NoteError("non-canonical base64")
    return raw


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"invalid key name {name!r}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise NoteError("key name holds a control character")


def key_id(name: str, key_type: int, public_key: bytes) -> int:
    """First 4 bytes, big-endian, of SHA-256(name ‖ 0x0A ‖ type ‖ public key)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()
    return struct.unpack(">I", digest[:4])[0]


@dataclass(frozen=True)
class Verifier:
    """A verifier key: Ed25519 note signer (0x01) or Ed25519 cosigner (0x04)."""

    name: str
    key_id: int
    key_type: int
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key is <name>+<8 hex key id>+<base64 key>")
        name, hex_id, b64 = parts
        _check_name(name)
        if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
            raise NoteError("a verifier key's id is 8 lowercase hex digits")
        raw = b64decode_strict(b64)
        if len(raw) != 33 or raw[0] not in (TYPE_ED25519, TYPE_COSIGNATURE_V1):
            raise NoteError("only Ed25519 (0x01) and cosignature/v1 (0x04) keys are supported")
        key_type, public_key = raw[0], raw[1:]
        if key_id(name, key_type, public_key) != int(hex_id, 16):
            raise NoteError("the verifier key's id does not match its name and key")
        return cls(name, int(hex_id, 16), key_type, public_key)

    @property
    def vkey(self) -> str:
        return (
            f"{self.name}+{self.key_id:08x}+{b64encode(bytes([self.key_type]) + self.public_key)}"
        )

    def verify_payload(self, text: bytes, payload: bytes) -> int | None:
        """Raise NoteError if the signature payload (after the 4-byte id) does not verify.
        Returns the cosignature's timestamp for 0x04 keys."""
        pk = Ed25519PublicKey.from_public_bytes(self.public_key)
        try:
            if self.key_type == TYPE_ED25519:
                if len(payload) != 64:
                    raise NoteError(f"signature by {self.name} has the wrong length")
                pk.verify(payload, text)
                return None
            if len(payload) != 72:
                raise NoteError(f"cosignature by {self.name} has the wrong length")
            (timestamp,) = struct.unpack(">Q", payload[:8])
            if timestamp > MAX_TIMESTAMP:
                raise NoteError(f"cosignature by {self.name} has an invalid timestamp")
            pk.verify(payload[8:], cosignature_message(timestamp, text))
            return timestamp
        except InvalidSignature as exc:
            raise NoteError(f"bad signature by known key {self.name}") from exc


def cosignature_message(timestamp: int, body: bytes) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + body


@dataclass
class Signer:
    name: str
    key_type: int
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str, key_type: int = TYPE_ED25519) -> Signer:
        _check_name(name)
        return cls(name, key_type, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes, key_type: int = TYPE_ED25519) -> Signer:
        _check_name(name)
        return cls(name, key_type, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes_raw()

    @property
    def verifier(self) -> Verifier:
        pk = self.public_key
        return Verifier(self.name, key_id(self.name, self.key_type, pk), self.key_type, pk)

    def signature_line(self, text: bytes, timestamp: int | None = None) -> str:
        kid = struct.pack(">I", self.verifier.key_id)
        if self.key_type == TYPE_ED25519:
            payload = self.private_key.sign(text)
        else:
            if timestamp is None or not 0 <= timestamp <= MAX_TIMESTAMP:
                raise ValueError("a cosignature needs a timestamp")
            payload = struct.pack(">Q", timestamp) + self.private_key.sign(
                cosignature_message(timestamp, text)
            )
        return f"{EM_DASH_PREFIX}{self.name} {b64encode(kid + payload)}\n"

    def private_key_string(self) -> str:
        """x/mod's private-key convention (not C2SP): PRIVATE+KEY+<name>+<id>+<b64(type‖seed)>."""
        seed = self.private_key.private_bytes_raw()
        key = b64encode(bytes([self.key_type]) + seed)
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{key}"

    @classmethod
    def parse_private_key(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("not a PRIVATE+KEY+<name>+<id>+<key> string")
        raw = b64decode_strict(parts[4])
        if len(raw) != 33 or raw[0] not in (TYPE_ED25519, TYPE_COSIGNATURE_V1):
            raise NoteError("unsupported private key type")
        signer = cls.from_seed(parts[2], raw[1:], raw[0])
        if f"{signer.verifier.key_id:08x}" != parts[3]:
            raise NoteError("the private key's id does not match")
        return signer


@dataclass
class Signature:
    name: str
    key_id: int
    payload: bytes


@dataclass
class Note:
    text: bytes  # the signed text, ending in "\n"
    signatures: list[Signature]

    def lines(self) -> bytes:
        return b"".join(
            f"{EM_DASH_PREFIX}{s.name} {b64encode(struct.pack('>I', s.key_id) + s.payload)}\n".encode()  # noqa: E501
            for s in self.signatures
        )


def parse_note(data: bytes) -> Note:
    if len(data) > MAX_NOTE_BYTES:
        raise NoteError("note too large")
    try:
        text_all = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError("note is not UTF-8") from exc
    if any((ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F for ch in text_all):
        raise NoteError("note holds a control character")
    if not text_all.endswith("\n"):
        raise NoteError("note does not end in a newline")
    split = text_all.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, sig_block = text_all[: split + 1], text_all[split + 2 :]
    if not text or not sig_block:
        raise NoteError("note has no text or no signatures")
    signatures = []
    for line in sig_block.split("\n")[:-1]:
        if len(signatures) >= MAX_SIGNATURES:
            raise NoteError("too many signatures on the note")
        if not line.startswith(EM_DASH_PREFIX):
            raise NoteError("malformed signature line")
        rest = line[len(EM_DASH_PREFIX) :]
        name, sep, b64 = rest.partition(" ")
        if not sep or " " in b64:
            raise NoteError("malformed signature line")
        _check_name(name)
        raw = b64decode_strict(b64)
        if len(raw) < 5:
            raise NoteError("signature too short")
        signatures.append(Signature(name, struct.unpack(">I", raw[:4])[0], raw[4:]))
    return Note(text.encode(), signatures)


@dataclass
class VerifiedNote:
    note: Note
    verified: list[Verifier] = field(default_factory=list)
    timestamps: dict[str, int] = field(default_factory=dict)


def verify_note(note: Note, known: list[Verifier]) -> VerifiedNote:
    """Verify every signature whose (name, key id) is a known key; ignore the others.
    A failing known key rejects the whole note; so does a note no known key signed."""
    by_id = {(v.name, v.key_id): v for v in known}
    result = VerifiedNote(note)
    for sig in note.signatures:
        verifier = by_id.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        timestamp = verifier.verify_payload(note.text, sig.payload)
        if verifier not in result.verified:
            result.verified.append(verifier)
        if timestamp is not None:
            result.timestamps[verifier.vkey] = timestamp
    if not result.verified:
        raise NoteError("no known key signed the note")
    return result


def sign_note(text: bytes, signers: list[Signer], timestamp: int | None = None) -> bytes:
    if not text.endswith(b"\n"):
        raise ValueError("note text must end in a newline")
    return text + b"\n" + "".join(s.signature_line(text, timestamp) for s in signers).encode()


# ---- Checkpoints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> bytes:
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines).encode()


def parse_checkpoint(text: bytes) -> Checkpoint:
    try:
        lines = text.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise NoteError("checkpoint is not UTF-8") from exc
    if lines[-1] != "" or len(lines) < 4:
        raise NoteError("a checkpoint body has at least three lines, each ending in a newline")
    lines = lines[:-1]
    if any(not line for line in lines):
        raise NoteError("a checkpoint has no empty lines")
    origin, size_text, root_text = lines[:3]
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text) or int(size_text) > (1 << 64) - 1:
        raise NoteError("the checkpoint size is not a decimal without leading zeros")
    if len(root_text) != 44:
        raise NoteError("the checkpoint root is not 44 characters of base64")
    root = b64decode_strict(root_text)
    if len(root) != HASH_SIZE:
        raise NoteError("the checkpoint root is not a 32-byte hash")
    return Checkpoint(origin, int(size_text), root, tuple(lines[3:]))
