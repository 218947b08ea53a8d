"""Appending to the transparency log: entries, tiles and a signed checkpoint, in the
caller's transaction (petition/publication.py calls batch_append inside the batch's).

The work per batch is O(batch · log n): the right edge of the tree is read from the
partial tiles the previous checkpoint stored (one row per level), new hashes are added
level by level, and only the tiles this checkpoint implies are written (full tiles that
filled up, and one partial tile per level at the new width). Nothing scans the log.

`store` is the set of model classes to use: the real ones, or the historical ones of the
backfill migration (0023), so that the migration writes exactly what a batch would."""

from __future__ import annotations

import types
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.conf import settings
from django.db import transaction

from .. import keys
from ..models import (
    LogCheckpoint,
    LogEntry,
    LogHead,
    LogKey,
    LogTile,
)
from . import entries, merkle, notes

REAL_STORE = types.SimpleNamespace(
    LogHead=LogHead, LogKey=LogKey, LogEntry=LogEntry, LogTile=LogTile, LogCheckpoint=LogCheckpoint
)
FERNET_PURPOSE = b"log-key"


def origin_for(base_url: str) -> str:
    """COUNTERSIGN_BASE_URL without scheme and trailing slash, plus "/log"."""
    parts = urlsplit(base_url.rstrip("/"))
    return f"{parts.netloc}{parts.path}/log"


def log_origin() -> str:
    return origin_for(settings.COUNTERSIGN_BASE_URL)


def _private_key(key) -> Ed25519PrivateKey:
    seed = keys.fernet(FERNET_PURPOSE).decrypt(bytes(key.private_key_encrypted))
    return Ed25519PrivateKey.from_private_bytes(seed)


def log_key(store=REAL_STORE):
    """The log's key, made on first use: by the first batch, or by the first page that
    shows the vkey (the key exists before any entry, so the vkey can be printed early).
    Its name is the origin at that moment; system check E022 flags a later change."""
    key = store.LogKey.objects.filter(pk=1).first()
    if key is not None:
        return key
    private_key = Ed25519PrivateKey.generate()
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    with transaction.atomic():  # two first uses at once: one key wins, both return it
        key, _ = store.LogKey.objects.get_or_create(
            pk=1,
            defaults={
                "name": log_origin(),
                "public_key": notes.raw_public_key(private_key.public_key()),
                "private_key_encrypted": keys.fernet(FERNET_PURPOSE).encrypt(seed),
            },
        )
    return key


def log_verifier() -> notes.Verifier:
    key = log_key()
    return notes.verifier_for(key.name, bytes(key.public_key))


def log_identity() -> dict[str, str]:
    """{"origin", "vkey"}: what pages, printouts and the API show of the log."""
    verifier = log_verifier()
    return {"origin": verifier.name, "vkey": verifier.vkey}


class TileReader:
    """Hashes of the tree of `size`, read from its stored tiles (full ones first, else the
    partial tile at the width `size` implies), each tile at most once."""

    def __init__(self, size: int, store=REAL_STORE):
        self.size = size
        self.store = store
        self.cache: dict[tuple[int, int], list[bytes]] = {}

    def tile(self, level: int, index: int) -> list[bytes]:
        if (level, index) not in self.cache:
            count = self.size >> (merkle.TILE_HEIGHT * level)
            width = min(merkle.TILE_WIDTH, count - index * merkle.TILE_WIDTH)
            if width <= 0:
                raise merkle.ProofError("no such tile in this tree")
            row = self.store.LogTile.objects.get(
                bundle=False, level=level, index=index, width=width
            )
            data = bytes(row.data)
            self.cache[(level, index)] = [data[i : i + 32] for i in range(0, len(data), 32)]
        return self.cache[(level, index)]

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for the ranges proofs ask for."""
        n = end - start
        if n <= 0 or end > self.size:
            raise merkle.ProofError("range outside the tree")
        height = n.bit_length() - 1
        if n == 1 << height and start % n == 0:
            level, rest = divmod(height, merkle.TILE_HEIGHT)
            first = start >> (merkle.TILE_HEIGHT * level)
            tile = self.tile(level, first // merkle.TILE_WIDTH)
            offset = first % merkle.TILE_WIDTH
            return merkle.root_from_hashes(tile[offset : offset + (1 << rest)])
        k = 1 << ((n - 1).bit_length() - 1)
        return merkle.node_hash(self.subtree(start, start + k), self.subtree(start + k, end))


def consistency_proof(old: int, new: int) -> list[bytes]:
    return merkle.consistency_proof(old, new, TileReader(new).subtree)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(index, size, TileReader(size).subtree)


def _edge(size: int, store) -> tuple[list[list[bytes]], list[bytes]]:
    """The hashes of the right-most, incomplete tile at each level, and the entries of the
    incomplete bundle, for a tree of `size` (from its stored partial tiles)."""
    levels = []
    level = 0
    while size >> (merkle.TILE_HEIGHT * level):
        width = merkle.partial_width(size, level)
        hashes = []
        if width:
            index = (size >> (merkle.TILE_HEIGHT * level)) // merkle.TILE_WIDTH
            data = bytes(
                store.LogTile.objects.get(bundle=False, level=level, index=index, width=width).data
            )
            hashes = [data[i : i + 32] for i in range(0, len(data), 32)]
        levels.append(hashes)
        level += 1
    bundle = []
    if size % merkle.TILE_WIDTH:
        row = store.LogTile.objects.get(
            bundle=True,
            level=0,
            index=size // merkle.TILE_WIDTH,
            width=size % merkle.TILE_WIDTH,
        )
        bundle = entries.unbundle(bytes(row.data))
    return levels, bundle


def edge_root(levels: Sequence[Sequence[bytes]]) -> bytes:
    """MTH of the whole tree from the incomplete tile of each level: the perfect subtrees
    of the size's binary digits, largest (top level) first, folded from the right."""
    parts = []
    for level_hashes in reversed(levels):
        count, offset = len(level_hashes), 0
        for bit in range(merkle.TILE_HEIGHT - 1, -1, -1):
            if count & (1 << bit):
                parts.append(merkle.root_from_hashes(level_hashes[offset : offset + (1 << bit)]))
                offset += 1 << bit
    if not parts:
        return merkle.EMPTY_ROOT
    root = parts[-1]
    for part in reversed(parts[:-1]):
        root = merkle.node_hash(part, root)
    return root


def append_entries(
    new_entries: Sequence[tuple[uuid.UUID, bytes]], *, store=REAL_STORE
) -> LogCheckpoint | None:
    """Append (petition id, entry bytes) pairs and sign the checkpoint of the new size.
    Must run inside a transaction; the head row lock orders concurrent appenders."""
    if not new_entries:
        return None
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("append_entries runs inside the publication batch's transaction")
    store.LogHead.objects.get_or_create(pk=1)
    head = store.LogHead.objects.select_for_update().get(pk=1)
    key = log_key(store)
    size = head.size
    levels, bundle = _edge(size, store)
    full_tiles: list = []
    rows = []
    position = size
    for petition_id, data in new_entries:
        if len(data) > entries.MAX_ENTRY:
            raise entries.EntryError("an entry longer than 65,535 bytes")
        rows.append(
            store.LogEntry(position=position, petition_id=petition_id, kind=data[1], data=data)
        )
        bundle.append(data)
        if len(bundle) == merkle.TILE_WIDTH:
            full_tiles.append(
                store.LogTile(
                    bundle=True,
                    level=0,
                    index=position // merkle.TILE_WIDTH,
                    width=merkle.TILE_WIDTH,
                    data=entries.bundle(bundle),
                )
            )
            bundle = []
        _add_hash(levels, 0, position, merkle.leaf_hash(data), full_tiles, store)
        position += 1
    new_size = position
    store.LogEntry.objects.bulk_create(rows, batch_size=1000)
    # One partial tile per level at the width the new size implies, unless the previous
    # checkpoint stored that very tile (nothing below it filled up since).
    partial = []
    for level, hashes in enumerate(levels):
        if hashes and _coordinates(new_size, level) != _coordinates(size, level):
            index, width = _coordinates(new_size, level)
            partial.append(
                store.LogTile(
                    bundle=False, level=level, index=index, width=width, data=b"".join(hashes)
                )
            )
    if bundle:
        index, width = _coordinates(new_size, 0)
        partial.append(
            store.LogTile(
                bundle=True, level=0, index=index, width=width, data=entries.bundle(bundle)
            )
        )
    store.LogTile.objects.bulk_create([*full_tiles, *partial], batch_size=200)
    root = edge_root(levels)
    checkpoint = notes.Checkpoint(key.name, new_size, root)
    note = notes.sign_note(checkpoint.text, key.name, _private_key(key))
    head.size = new_size
    head.save(update_fields=["size"])
    return store.LogCheckpoint.objects.create(size=new_size, root=root, note=note)


def _coordinates(size: int, level: int) -> tuple[int, int]:
    """(index, width) of the partial tile at `level` for `size`."""
    count = size >> (merkle.TILE_HEIGHT * level)
    return count // merkle.TILE_WIDTH, count % merkle.TILE_WIDTH


def _add_hash(levels, level, position_at_level, value, full_tiles, store) -> None:
    """Add one hash at `level`; a tile that fills up is stored and its root goes up."""
    while len(levels) <= level:
        levels.append([])
    levels[level].append(value)
    if len(levels[level]) == merkle.TILE_WIDTH:
        hashes = levels[level]
        index = position_at_level // merkle.TILE_WIDTH
        full_tiles.append(
            store.LogTile(
                bundle=False,
                level=level,
                index=index,
                width=merkle.TILE_WIDTH,
                data=b"".join(hashes),
            )
        )
        levels[level] = []
        _add_hash(levels, level + 1, index, merkle.root_from_hashes(hashes), full_tiles, store)
