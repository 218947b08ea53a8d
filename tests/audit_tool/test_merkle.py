"""RFC 6962 hashing and proofs against every vector in shared/data/merkle-vectors/."""

import base64
import json
import os
from pathlib import Path

import pytest
from countersign_audit import merkle as M

VECTORS = Path(os.environ.get("COUNTERSIGN_MERKLE_VECTORS", "/work/shared/data/merkle-vectors"))

# Where our documented conventions differ from transparency-dev/merkle's vectors (README):
# every hash must be 32 bytes, so equal sizes with equal 12-byte "roots" are refused.
DIFFERENT_CONVENTION = {"consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}


def _b64(text):
    return base64.b64decode(text) if text else b""


def _files(kind):
    if not VECTORS.is_dir():
        pytest.fail(f"the vectors are missing at {VECTORS}")
    return sorted(p.relative_to(VECTORS).as_posix() for p in (VECTORS / kind).rglob("*.json"))


def _accepts(fn):
    try:
        fn()
    except M.ProofError:
        return False
    return True


@pytest.mark.parametrize("name", _files("inclusion"))
def test_inclusion_vector(name):
    v = json.loads((VECTORS / name).read_text())
    proof = [_b64(p) for p in v["proof"] or []]
    ok = _accepts(
        lambda: M.verify_inclusion(
            v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), proof, _b64(v["root"])
        )
    )
    assert ok is not v["wantErr"], v["desc"]


@pytest.mark.parametrize("name", _files("consistency"))
def test_consistency_vector(name):
    v = json.loads((VECTORS / name).read_text())
    proof = [_b64(p) for p in v["proof"] or []]
    ok = _accepts(
        lambda: M.verify_consistency(
            v["size1"], v["size2"], proof, _b64(v["root1"]), _b64(v["root2"])
        )
    )
    if name in DIFFERENT_CONVENTION:
        assert ok is False and v["wantErr"] is False, v["desc"]
    else:
        assert ok is not v["wantErr"], v["desc"]


def test_all_196_vectors_are_used():
    assert len(_files("inclusion")) + len(_files("consistency")) == 196


def test_empty_tree_and_rfc6962_roots():
    assert M.root_from_hashes([]) == M.EMPTY_ROOT
    assert base64.b64encode(M.EMPTY_ROOT).decode() == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    # RFC 6962's reference tree of 8 leaves (as in certificate-transparency's tests).
    leaves = [
        bytes.fromhex(h)
        for h in [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
    ]
    root = M.root_from_entries(leaves)
    assert root.hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def _recursive_root(hashes):
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return M.node_hash(_recursive_root(hashes[:k]), _recursive_root(hashes[k:]))


def test_generated_proofs_verify_and_tampered_ones_do_not():
    hashes = [M.leaf_hash(bytes([i])) for i in range(70)]
    for n in range(1, 71):
        root = M.root_from_hashes(hashes[:n])
        assert root == _recursive_root(hashes[:n])
        for m in range(n):
            proof = M.inclusion_proof(hashes, m, n)
            M.verify_inclusion(m, n, hashes[m], proof, root)
            if proof:
                bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
                with pytest.raises(M.ProofError):
                    M.verify_inclusion(m, n, hashes[m], bad, root)
        for m in range(0, n + 1):
            proof = M.consistency_proof(hashes, m, n)
            M.verify_consistency(m, n, proof, M.root_from_hashes(hashes[:m]), root)
            if proof:
                with pytest.raises(M.ProofError):
                    M.verify_consistency(m, n, proof[:-1], M.root_from_hashes(hashes[:m]), root)


def test_size_zero_follows_tlog_witness():
    root = M.root_from_entries([b"a", b"b"])
    M.verify_consistency(0, 2, [], None, root)
    M.verify_consistency(0, 2, [], M.EMPTY_ROOT, root)
    with pytest.raises(M.ProofError, match="must be empty"):
        M.verify_consistency(0, 2, [root], None, root)
    with pytest.raises(M.ProofError, match="empty-tree"):
        M.verify_consistency(0, 0, [], None, root)
