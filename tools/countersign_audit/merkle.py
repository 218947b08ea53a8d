"""RFC 6962 Merkle tree hashing, proof generation and proof verification.

Conventions (RFC 6962 / RFC 9162 leave them to implementations; docs/audit.md repeats them):
- Every hash is exactly 32 bytes; any other length is rejected, also in the vectors.
- Consistency from m == n: the proof must be empty and the two roots equal.
- Consistency from m == 0 (n > 0): follows c2sp.org/tlog-witness: the empty tree is
  consistent with every tree, the proof must be empty, and an old root, when given, must be
  the empty-tree hash. (transparency-dev/merkle's older vectors reject m == 0 instead.)
- A tree of size 0 has the root SHA-256("").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof or its inputs do not verify."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of 2 strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of leaves given by their leaf hashes, without recursion: a stack of perfect
    subtrees (as a log appends), folded right to left at the end."""
    if not hashes:
        return EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []
    for h in hashes:
        size, cur = 1, h
        while stack and stack[-1][0] == size:
            cur = node_hash(stack.pop()[1], cur)
            size *= 2
        stack.append((size, cur))
    root = stack[-1][1]
    for _, h in reversed(stack[:-1]):
        root = node_hash(h, root)
    return root


def root_from_entries(entries: Sequence[bytes]) -> bytes:
    return root_from_hashes([leaf_hash(e) for e in entries])


def subtree_hash(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) from leaf hashes (end > start)."""
    return root_from_hashes(hashes[start:end])


# ---- Generation (RFC 6962 §2.1.1 PATH and §2.1.2 PROOF/SUBPROOF) ---------------------------


def inclusion_proof(hashes: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    n = len(hashes) if size is None else size
    if not 0 <= index < n <= len(hashes):
        raise ValueError("index out of range")

    def path(m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = _largest_power_of_two_below(hi - lo)
        if m < k:
            return [*path(m, lo, lo + k), subtree_hash(hashes, lo + k, hi)]
        return [*path(m - k, lo + k, hi), subtree_hash(hashes, lo, lo + k)]

    return path(index, 0, n)


def consistency_proof(hashes: Sequence[bytes], old: int, new: int | None = None) -> list[bytes]:
    n = len(hashes) if new is None else new
    if not 0 <= old <= n <= len(hashes):
        raise ValueError("sizes out of range")
    if old == 0 or old == n:
        return []

    def subproof(m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        if m == hi - lo:
            return [] if complete else [subtree_hash(hashes, lo, hi)]
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            return [*subproof(m, lo, lo + k, complete), subtree_hash(hashes, lo + k, hi)]
        return [*subproof(m - k, lo + k, hi, False), subtree_hash(hashes, lo, lo + k)]

    return subproof(old, 0, n, True)


# ---- Verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -----------------------------------------


def _check_hash(h: bytes, what: str) -> None:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise ProofError(f"{what} is not a 32-byte hash")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    _check_hash(leaf, "leaf hash")
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not below the tree size {size}")
    for c in proof:
        _check_hash(c, "proof hash")
    fn, sn, r = index, size - 1, leaf
    for c in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
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
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless `proof` shows leaf hash `leaf` at `index` in the tree `root`."""
    _check_hash(root, "root")
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, proof: Sequence[bytes], old_root: bytes | None, new_root: bytes
) -> None:
    """Raise ProofError unless `proof` shows that the tree (old, old_root) is a prefix of
    (new, new_root). `old_root` may be None only when old == 0."""
    _check_hash(new_root, "new root")
    for c in proof:
        _check_hash(c, "proof hash")
    if old < 0 or new < 0:
        raise ProofError("negative tree size")
    if old > new:
        raise ProofError(f"old size {old} is larger than new size {new}")
    if old == 0:
        # tlog-witness: the empty tree is consistent with any tree; nothing to prove.
        if proof:
            raise ProofError("a proof from size 0 must be empty")
        if old_root is not None:
            _check_hash(old_root, "old root")
            if old_root != EMPTY_ROOT:
                raise ProofError("the root of size 0 must be the empty-tree hash")
        if new == 0 and new_root != EMPTY_ROOT:
            raise ProofError("the root of size 0 must be the empty-tree hash")
        return
    if old_root is None:
        raise ProofError("old root missing")
    _check_hash(old_root, "old root")
    if old == new:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("same size, different roots")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    p = list(proof)
    if old & (old - 1) == 0:  # old is a power of 2: its root is the first node
        p = [old_root, *p]
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = p[0]
    for c in p[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
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
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")
