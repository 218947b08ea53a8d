"""Entry encoding v1 of the transparency log (docs/protocol.md, "Transparency log").

Every entry: 0x01 (version) ‖ kind ‖ petition id (16) ‖ level; then by kind. Integers are
unsigned big-endian. Pure functions; the audit tool re-implements this independently."""

from __future__ import annotations

import dataclasses
import struct
import uuid

VERSION = 0x01
KIND_SIGNATURE = 0x01
KIND_WITHDRAWAL = 0x02
KIND_SUMMARY = 0x03
LEVEL_CODES = {"work_email": 0x01, "in_person": 0x02, "flyer": 0x03}
LEVEL_NAMES = {code: name for name, code in LEVEL_CODES.items()}
HEADER = struct.Struct(">BB16sB")
SUMMARY = struct.Struct(">IQQQQQI")
MAX_ENTRY = 0xFFFF  # a u16 length prefixes each entry in a bundle


class EntryError(ValueError):
    pass


def _header(kind: int, petition_id: uuid.UUID, level: str) -> bytes:
    return HEADER.pack(VERSION, kind, petition_id.bytes, LEVEL_CODES[level])


def _u16_bytes(value: bytes) -> bytes:
    if len(value) > 0xFFFF:
        raise EntryError("a field longer than 65,535 bytes")
    return struct.pack(">H", len(value)) + value


def signature_entry(
    petition_id: uuid.UUID, level: str, key_id: bytes, nullifier: bytes, msg: bytes, sig: bytes
) -> bytes:
    if len(key_id) != 32 or len(nullifier) != 32:
        raise EntryError("key id and nullifier are 32 bytes")
    return (
        _header(KIND_SIGNATURE, petition_id, level)
        + key_id
        + nullifier
        + _u16_bytes(msg)
        + _u16_bytes(sig)
    )


def withdrawal_entry(petition_id: uuid.UUID, level: str, nullifier: bytes) -> bytes:
    if len(nullifier) != 32:
        raise EntryError("a nullifier is 32 bytes")
    return _header(KIND_WITHDRAWAL, petition_id, level) + nullifier


@dataclasses.dataclass(frozen=True)
class Summary:
    batch_number: int
    signatures_total: int
    withdrawn_total: int
    credentials_issued: int
    codes_made: int
    codes_revoked: int
    keys_invalidated: int


def summary_entry(petition_id: uuid.UUID, level: str, summary: Summary) -> bytes:
    return _header(KIND_SUMMARY, petition_id, level) + SUMMARY.pack(*dataclasses.astuple(summary))


@dataclasses.dataclass(frozen=True)
class Entry:
    kind: int
    petition_id: uuid.UUID
    level: str
    key_id: bytes = b""
    nullifier: bytes = b""
    msg: bytes = b""
    sig: bytes = b""
    summary: Summary | None = None


def decode(entry: bytes) -> Entry:
    """The fields of an entry; EntryError for anything encode would not produce."""
    if len(entry) < HEADER.size:
        raise EntryError("entry too short")
    version, kind, petition, level_code = HEADER.unpack_from(entry)
    if version != VERSION or level_code not in LEVEL_NAMES:
        raise EntryError("unknown version or level")
    petition_id, level, rest = uuid.UUID(bytes=petition), LEVEL_NAMES[level_code], entry[19:]
    if kind == KIND_WITHDRAWAL and len(rest) == 32:
        return Entry(kind, petition_id, level, nullifier=rest)
    if kind == KIND_SUMMARY and len(rest) == SUMMARY.size:
        return Entry(kind, petition_id, level, summary=Summary(*SUMMARY.unpack(rest)))
    if kind == KIND_SIGNATURE and len(rest) >= 66:
        key_id, nullifier, rest = rest[:32], rest[32:64], rest[64:]
        (msg_len,) = struct.unpack_from(">H", rest)
        msg, rest = rest[2 : 2 + msg_len], rest[2 + msg_len :]
        if len(msg) == msg_len and len(rest) >= 2:
            (sig_len,) = struct.unpack_from(">H", rest)
            if len(rest) == 2 + sig_len:
                return Entry(kind, petition_id, level, key_id, nullifier, msg, rest[2:])
    raise EntryError("malformed entry")


def bundle(entries: list[bytes]) -> bytes:
    """An entry bundle (tlog-tiles): u16 length ‖ entry, for each entry."""
    return b"".join(_u16_bytes(entry) for entry in entries)


def unbundle(data: bytes) -> list[bytes]:
    entries, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise EntryError("truncated bundle")
        (length,) = struct.unpack_from(">H", data, offset)
        entry = data[offset + 2 : offset + 2 + length]
        if len(entry) != length:
            raise EntryError("truncated bundle")
        entries.append(entry)
        offset += 2 + length
    return entries
