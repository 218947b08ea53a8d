"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and the tlog-tiles coordinates.

Pure functions, no Django: the proofs take a `subtree(start, end)` callback that returns
MTH(D[start:end]) for the ranges they need, so the same code runs over tiles in the
database (petition/tlog/tiles.py) and over a list of leaves in tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes per full tile


class ProofError(ValueError):
    """A proof that does not verify, or a request no proof can answer."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf (or level) hashes; EMPTY_ROOT for none."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(root_from_hashes(hashes[:k]), root_from_hashes(hashes[k:]))


Subtree = Callable[[int, int], bytes]


def subtree_from_list(leaves: Sequence[bytes]) -> Subtree:
    return lambda start, end: root_from_hashes(leaves[start:end])


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(index, D[0:size])."""
    if not 0 <= index < size:
        raise ProofError("index out of range")
    return _path(index, 0, size, subtree)


def _path(m: int, start: int, end: int, subtree: Subtree) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, start, start + k, subtree), subtree(start + k, end)]
    return [*_path(m - k, start + k, end, subtree), subtree(start, start + k)]


def consistency_proof(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(old, D[0:new]). From 0 or to the same size: empty (the
    tlog-witness convention: the empty tree is consistent with any tree)."""
    if not 0 <= old <= new:
        raise ProofError("old size past new size")
    if old in (0, new):
        return []
    return _subproof(old, 0, new, True, subtree)


def _subproof(m: int, start: int, end: int, whole: bool, subtree: Subtree) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [subtree(start, end)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, start, start + k, whole, subtree), subtree(start + k, end)]
    return [*_subproof(m - k, start + k, end, False, subtree), subtree(start, start + k)]


def _check_hash(value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError("a hash is not 32 bytes")


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless `leaf` is at `index` of the tree `root`."""
    for value in (leaf, root, *proof):
        _check_hash(value)
    if not 0 <= index < size:
        raise ProofError("index out of range")
    fn, sn, r = index, size - 1, leaf
    for c in proof:
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(c, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise ProofError("inclusion proof does not verify")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless tree `old_root` is a prefix of `new_root`.

    Size 0 follows tlog-witness: the empty tree is consistent with any tree, with an empty
    proof only (the transparency-dev vectors reject size 0 instead; the callers that check
    those vectors say so). Equal sizes need an empty proof and equal roots."""
    for value in (old_root, new_root, *proof):
        _check_hash(value)
    if not 0 <= old <= new:
        raise ProofError("old size past new size")
    if old == 0:
        if proof or old_root != EMPTY_ROOT:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if old == new:
        if proof or old_root != new_root:
            raise ProofError("same size, different trees")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("consistency proof does not verify")


# tlog-tiles coordinates.


def tile_widths(size: int) -> list[tuple[int, int, int]]:
    """Every tile a checkpoint of `size` implies: (level, index, width), width 256 for a
    full tile, partial tiles last at each level. Levels stop when nothing is left."""
    tiles = []
    level = 0
    while True:
        count = size >> (TILE_HEIGHT * level)  # hashes at this level
        if count == 0:
            return tiles
        for index in range(count // TILE_WIDTH):
            tiles.append((level, index, TILE_WIDTH))
        if count % TILE_WIDTH:
            tiles.append((level, count // TILE_WIDTH, count % TILE_WIDTH))
        level += 1


def partial_width(size: int, level: int) -> int:
    """Width of the partial tile at `level` for `size` (0: none)."""
    return (size >> (TILE_HEIGHT * level)) % TILE_WIDTH


def encode_index(index: int) -> str:
    """Tile index N as a path: 1234067 -> 'x001/x234/067'."""
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def decode_index(path: str) -> int | None:
    """The inverse of encode_index; None for anything it would not produce."""
    parts = path.split("/")
    if not parts or any(len(p) != (4 if i < len(parts) - 1 else 3) for i, p in enumerate(parts)):
        return None
    digits = []
    for i, part in enumerate(parts):
        if i < len(parts) - 1:
            if part[0] != "x":
                return None
            part = part[1:]
        if not (part.isascii() and part.isdigit()):
            return None
        digits.append(part)
    # The canonical encoding has no leading zero group ("x000/123" is 123 spelled twice).
    if len(digits) > 1 and digits[0] == "000":
        return None
    return int("".join(digits))
