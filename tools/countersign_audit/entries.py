"""Countersign log entry encoding v1 (docs/protocol.md; fixed in the log-entry-v1 decisions),
decoded and checked independently of the server, and the rules that tie entries together."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

VERSION = 0x01
KIND_SIGNATURE, KIND_WITHDRAWAL, KIND_SUMMARY = 0x01, 0x02, 0x03
LEVELS = {0x01: "work_email", 0x02: "in_person", 0x03: "flyer"}
LEVEL_CODES = {name: code for code, name in LEVELS.items()}
MESSAGE_TAG = b"countersign-v1\x00"
PREPARED_LEN = 127
MAX_SIG = 1024
HEADER = 19
SUMMARY_LEN = HEADER + 4 + 8 * 5 + 4


class EntryError(ValueError):
    pass


@dataclass(frozen=True)
class SignatureEntry:
    petition_id: bytes
    level: str
    key_id: bytes
    nullifier: bytes
    prepared_msg: bytes
    sig: bytes


@dataclass(frozen=True)
class WithdrawalEntry:
    petition_id: bytes
    level: str
    nullifier: bytes


@dataclass(frozen=True)
class SummaryEntry:
    petition_id: bytes
    level: str
    batch: int
    signatures_total: int
    withdrawn_total: int
    credentials_issued: int
    codes_made: int
    codes_revoked: int
    keys_invalidated: int


Entry = SignatureEntry | WithdrawalEntry | SummaryEntry


def decode(data: bytes) -> Entry:
    if len(data) < HEADER:
        raise EntryError("entry shorter than its header")
    if data[0] != VERSION:
        raise EntryError(f"unknown entry format version {data[0]}")
    kind, petition_id, level_code = data[1], bytes(data[2:18]), data[18]
    if level_code not in LEVELS:
        raise EntryError(f"unknown level {level_code}")
    level = LEVELS[level_code]
    body = data[HEADER:]
    if kind == KIND_SIGNATURE:
        if len(body) < 64 + 2:
            raise EntryError("signature entry too short")
        key_id, nullifier = bytes(body[:32]), bytes(body[32:64])
        pos = 64
        (mlen,) = struct.unpack_from(">H", body, pos)
        pos += 2
        prepared = bytes(body[pos : pos + mlen])
        pos += mlen
        if len(prepared) != mlen or mlen != PREPARED_LEN:
            raise EntryError("signature entry: prepared_msg is not 127 bytes")
        if pos + 2 > len(body):
            raise EntryError("signature entry too short")
        (slen,) = struct.unpack_from(">H", body, pos)
        pos += 2
        sig = bytes(body[pos : pos + slen])
        if len(sig) != slen or pos + slen != len(body):
            raise EntryError("signature entry: wrong length")
        if not 0 < slen <= MAX_SIG:
            raise EntryError("signature entry: signature length out of range")
        return SignatureEntry(petition_id, level, key_id, nullifier, prepared, sig)
    if kind == KIND_WITHDRAWAL:
        if len(body) != 32:
            raise EntryError("withdrawal entry: wrong length")
        return WithdrawalEntry(petition_id, level, bytes(body))
    if kind == KIND_SUMMARY:
        if len(data) != SUMMARY_LEN:
            raise EntryError("batch summary entry: wrong length")
        return SummaryEntry(petition_id, level, *struct.unpack(">IQQQQQI", body))
    raise EntryError(f"unknown entry kind {kind}")


def _header(kind: int, petition_id: bytes, level: str) -> bytes:
    if len(petition_id) != 16:
        raise ValueError("petition id is 16 bytes")
    return bytes([VERSION, kind]) + petition_id + bytes([LEVEL_CODES[level]])


def encode(entry: Entry) -> bytes:
    """The v1 bytes of an entry (for tests and test logs)."""
    if isinstance(entry, SignatureEntry):
        return (
            _header(KIND_SIGNATURE, entry.petition_id, entry.level)
            + entry.key_id
            + entry.nullifier
            + struct.pack(">H", len(entry.prepared_msg))
            + entry.prepared_msg
            + struct.pack(">H", len(entry.sig))
            + entry.sig
        )
    if isinstance(entry, WithdrawalEntry):
        return _header(KIND_WITHDRAWAL, entry.petition_id, entry.level) + entry.nullifier
    return _header(KIND_SUMMARY, entry.petition_id, entry.level) + struct.pack(
        ">IQQQQQI",
        entry.batch,
        entry.signatures_total,
        entry.withdrawn_total,
        entry.credentials_issued,
        entry.codes_made,
        entry.codes_revoked,
        entry.keys_invalidated,
    )


def check_message(entry: SignatureEntry) -> None:
    """The prepared message must name this entry's petition, key and nullifier."""
    m = entry.prepared_msg
    if m[32:47] != MESSAGE_TAG:
        raise EntryError("prepared_msg does not carry the countersign-v1 tag")
    if m[47:63] != entry.petition_id:
        raise EntryError("prepared_msg names another petition")
    if m[63:95] != entry.key_id:
        raise EntryError("prepared_msg names another key")
    if m[95:127] != entry.nullifier:
        raise EntryError("prepared_msg names another nullifier")


@dataclass
class LevelState:
    signatures: dict[bytes, bytes] = field(default_factory=dict)  # nullifier -> key id
    withdrawn: set[bytes] = field(default_factory=set)
    last_summary: SummaryEntry | None = None


@dataclass
class Ledger:
    """Replays the entries in log order and enforces the rules between them:
    - nullifiers are unique per petition (no double signature);
    - a withdrawal names an earlier signature of the same petition and level, once;
    - a batch is signatures sorted by nullifier, then withdrawals sorted by nullifier, then
      exactly one summary, all of one petition and level;
    - a summary's running totals equal the entries before it; its batch number grows and its
      issuance totals never go down.
    Raises EntryError with the entry's index on the first violation."""

    levels: dict[tuple[bytes, str], LevelState] = field(default_factory=dict)
    nullifiers: dict[bytes, set[bytes]] = field(default_factory=dict)
    batch: list[tuple[int, Entry]] = field(default_factory=list)
    count: int = 0

    def state(self, petition_id: bytes, level: str) -> LevelState:
        return self.levels.setdefault((petition_id, level), LevelState())

    def add(self, entry: Entry) -> None:
        index = self.count
        self.count += 1
        if self.batch:
            first = self.batch[0][1]
            if (entry.petition_id, entry.level) != (first.petition_id, first.level):
                raise EntryError(
                    f"entry {index}: batch of entries {self.batch[0][0]}.. ends without its summary"
                )
        st = self.state(entry.petition_id, entry.level)
        previous = self.batch[-1][1] if self.batch else None
        if isinstance(entry, SignatureEntry):
            if isinstance(previous, WithdrawalEntry):
                raise EntryError(f"entry {index}: signature after a withdrawal within a batch")
            if isinstance(previous, SignatureEntry) and entry.nullifier <= previous.nullifier:
                raise EntryError(f"entry {index}: signatures of a batch not sorted by nullifier")
            seen = self.nullifiers.setdefault(entry.petition_id, set())
            if entry.nullifier in seen:
                raise EntryError(f"entry {index}: double signature (nullifier used before)")
            seen.add(entry.nullifier)
            st.signatures[entry.nullifier] = entry.key_id
            self.batch.append((index, entry))
        elif isinstance(entry, WithdrawalEntry):
            if isinstance(previous, WithdrawalEntry) and entry.nullifier <= previous.nullifier:
                raise EntryError(f"entry {index}: withdrawals of a batch not sorted by nullifier")
            if entry.nullifier not in st.signatures:
                raise EntryError(
                    f"entry {index}: withdrawal of a signature not published "
                    "for this petition and level"
                )
            if entry.nullifier in st.withdrawn:
                raise EntryError(f"entry {index}: double withdrawal")
            st.withdrawn.add(entry.nullifier)
            self.batch.append((index, entry))
        else:
            if not self.batch:
                raise EntryError(f"entry {index}: batch summary without entries")
            last = st.last_summary
            if entry.signatures_total != len(st.signatures):
                raise EntryError(
                    f"entry {index}: batch summary says {entry.signatures_total} signatures, "
                    f"the log holds {len(st.signatures)}"
                )
            if entry.withdrawn_total != len(st.withdrawn):
                raise EntryError(
                    f"entry {index}: batch summary says {entry.withdrawn_total} withdrawals, "
                    f"the log holds {len(st.withdrawn)}"
                )
            if last is not None:
                if entry.batch <= last.batch:
                    raise EntryError(f"entry {index}: batch number does not grow")
                for name in (
                    "credentials_issued",
                    "codes_made",
                    "codes_revoked",
                    "keys_invalidated",
                ):
                    if getattr(entry, name) < getattr(last, name):
                        raise EntryError(f"entry {index}: running total {name} went down")
            st.last_summary = entry
            self.batch = []

    def finish(self) -> None:
        if self.batch:
            raise EntryError(
                f"entry {self.batch[0][0]}: the log ends inside a batch (no summary after it)"
            )
