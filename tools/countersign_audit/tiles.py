"""C2SP tlog-tiles v0.1.0: tile paths, entry bundles, tile hashes, and a tiny static log writer
(for the tool's own tests and for anyone who wants to build a test log by hand)."""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence

from countersign_audit.merkle import HASH_SIZE, leaf_hash, node_hash, root_from_hashes
from countersign_audit.note import Checkpoint, Signer, sign_note

TILE_WIDTH = 256
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF


class TileError(ValueError):
    pass


def encode_index(n: int) -> str:
    """Tile index N as zero-padded 3-digit path segments, all but the last prefixed with x:
    1234067 -> x001/x234/067."""
    if n < 0:
        raise ValueError("negative tile index")
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError("tile level out of range")
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError("tile width out of range")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


def bundle_path(index: int, width: int = TILE_WIDTH) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError("bundle width out of range")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/entries/{encode_index(index)}{suffix}"


def tiles_for_size(size: int) -> Iterator[tuple[int, int, int]]:
    """(level, index, width) of every tile a checkpoint of `size` implies: full tiles and
    the partial tile of each level whose width floor(size / 256^level) mod 256 is not 0."""
    level = 0
    while True:
        count = size // (TILE_WIDTH**level)
        if count == 0:
            return
        for index in range(count // TILE_WIDTH):
            yield level, index, TILE_WIDTH
        if count % TILE_WIDTH:
            yield level, count // TILE_WIDTH, count % TILE_WIDTH
        level += 1


def bundles_for_size(size: int) -> Iterator[tuple[int, int]]:
    for level, index, width in tiles_for_size(size):
        if level == 0:
            yield index, width


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    out = bytearray()
    for e in entries:
        if len(e) > MAX_ENTRY:
            raise ValueError("entry longer than 65,535 bytes")
        out += struct.pack(">H", len(e)) + e
    return bytes(out)


def parse_bundle(data: bytes, width: int) -> list[bytes]:
    """Entries of a bundle: uint16 big-endian length ‖ entry, exactly `width` of them."""
    entries, pos = [], 0
    while pos < len(data):
        if len(entries) == width:
            raise TileError("entry bundle holds more entries than its width")
        if pos + 2 > len(data):
            raise TileError("entry bundle ends inside a length")
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if pos + n > len(data):
            raise TileError("entry bundle ends inside an entry")
        entries.append(bytes(data[pos : pos + n]))
        pos += n
    if len(entries) != width:
        raise TileError(f"entry bundle holds {len(entries)} entries, expected {width}")
    return entries


def split_tile(data: bytes, width: int) -> list[bytes]:
    if len(data) != width * HASH_SIZE:
        raise TileError(f"tile holds {len(data)} bytes, expected {width * HASH_SIZE}")
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a full tile's 256 hashes (a perfect subtree)."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def level_hashes(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Hash i of every level l (MTH of 256^l leaves each), for the full subtrees only."""
    levels = [list(leaf_hashes)]
    while len(levels[-1]) >= TILE_WIDTH:
        below = levels[-1]
        levels.append(
            [
                perfect_root(below[i : i + TILE_WIDTH])
                for i in range(0, len(below) - TILE_WIDTH + 1, TILE_WIDTH)
            ]
        )
    return levels


class LogWriter:
    """An in-memory static tile log: append entries, sign checkpoints, read its files.

    Like a real tlog-tiles log it keeps the partial tiles of every size it signed."""

    def __init__(self, origin: str, signer: Signer):
        self.origin = origin
        self.signer = signer
        self.entries: list[bytes] = []
        self.leaves: list[bytes] = []
        self.files: dict[str, bytes] = {}
        self.checkpoint: bytes | None = None

    def append(self, entries: Sequence[bytes]) -> None:
        for e in entries:
            if len(e) > MAX_ENTRY:
                raise ValueError("entry longer than 65,535 bytes")
            self.entries.append(bytes(e))
            self.leaves.append(leaf_hash(e))

    def root(self, size: int | None = None) -> bytes:
        return root_from_hashes(self.leaves[: len(self.leaves) if size is None else size])

    def sign(self, extra_signers: Sequence[Signer] = (), timestamp: int | None = None) -> bytes:
        size = len(self.entries)
        levels = level_hashes(self.leaves)
        for level, index, width in tiles_for_size(size):
            hashes = levels[level][index * TILE_WIDTH : index * TILE_WIDTH + width]
            self.files[tile_path(level, index, width)] = b"".join(hashes)
            if level == 0:
                chunk = self.entries[index * TILE_WIDTH : index * TILE_WIDTH + width]
                self.files[bundle_path(index, width)] = encode_bundle(chunk)
        body = Checkpoint(self.origin, size, self.root()).body()
        self.checkpoint = sign_note(body, [self.signer])
        for cosigner in extra_signers:
            self.checkpoint += cosigner.signature_line(body, timestamp).encode()
        self.files["checkpoint"] = self.checkpoint
        return self.checkpoint
