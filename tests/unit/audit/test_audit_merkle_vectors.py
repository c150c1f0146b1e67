"""RFC 6962 Merkle trees against the published Certificate Transparency vectors.

The leaves, roots, audit paths and consistency proofs below are quoted from the
test data shared by the CT implementations (google/certificate-transparency-go
merkle/log_verifier_test.go, the C++ merkle_tree_test.cc, transparency-dev/merkle);
they are literals here, not computed by the code under test.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casectl.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [bytes.fromhex(h) for h in
          ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]

# ROOTS[n] = MTH of the first n leaves.
ROOTS = [bytes.fromhex(h) for h in [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]]

# (leaf index, tree size, audit path)
INCLUSION = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]

# (old size, new size, consistency proof)
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]

TREE = MerkleTree.from_data(LEAVES)


def test_empty_tree_is_sha256_of_nothing():
    assert EMPTY_ROOT == ROOTS[0]
    assert MerkleTree([]).root() == ROOTS[0]


@pytest.mark.parametrize("size", range(9))
def test_roots(size):
    assert TREE.root(size) == ROOTS[size]
    assert MerkleTree.from_data(LEAVES[:size]).root() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors(index, size, path):
    want = [bytes.fromhex(h) for h in path]
    assert TREE.inclusion_proof(index, size) == want
    verify_inclusion(index, size, leaf_hash(LEAVES[index]), want, ROOTS[size])
    # wrong index, size, leaf or root: refused
    for bad in [(index + 1, size), (index ^ 2, size), (index, size * 2), (index, size // 2)]:
        if 0 <= bad[0] < bad[1] and bad != (index, size):
            with pytest.raises(ProofError):
                verify_inclusion(bad[0], bad[1], leaf_hash(LEAVES[index]), want, ROOTS[size])
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(b"WrongLeaf"), want, ROOTS[size])
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(LEAVES[index]), want, EMPTY_ROOT)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(LEAVES[index]), [*want, ROOTS[size]], ROOTS[size])
    if want:
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaf_hash(LEAVES[index]), want[:-1], ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_vectors(old, new, proof):
    want = [bytes.fromhex(h) for h in proof]
    assert TREE.consistency_proof(old, new) == want
    verify_consistency(old, new, want, ROOTS[old], ROOTS[new])
    if want:
        with pytest.raises(ProofError):
            verify_consistency(old, new, want, ROOTS[new], ROOTS[old])
        with pytest.raises(ProofError):
            verify_consistency(old, new, [], ROOTS[old], ROOTS[new])
        with pytest.raises(ProofError):
            verify_consistency(old, new, want[:-1], ROOTS[old], ROOTS[new])
        with pytest.raises(ProofError):
            verify_consistency(old, new, [*want, ROOTS[old]], ROOTS[old], ROOTS[new])
        for i in range(len(want)):
            tampered = list(want)
            tampered[i] = EMPTY_ROOT
            with pytest.raises(ProofError):
                verify_consistency(old, new, tampered, ROOTS[old], ROOTS[new])


def test_malformed_parameters():
    h = bytes(32)
    with pytest.raises(ProofError):
        verify_inclusion(3, 3, h, [], h)
    with pytest.raises(ProofError):
        verify_inclusion(0, 0, h, [], h)
    with pytest.raises(ProofError):
        verify_consistency(4, 3, [h], h, h)
    with pytest.raises(ProofError):
        verify_consistency(3, 3, [h], h, h)
    with pytest.raises(ProofError):
        verify_consistency(3, 3, [], h, bytes([1]) * 32)
    with pytest.raises(ProofError):
        verify_consistency(2, 3, [], h, h)
    with pytest.raises(ValueError):
        TREE.inclusion_proof(8, 8)
    with pytest.raises(ValueError):
        TREE.consistency_proof(9, 8)


def _reference_root(hashes):
    """RFC 6962 section 2.1 recursion, written independently of MerkleTree."""
    import hashlib

    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + _reference_root(hashes[:k]) + _reference_root(hashes[k:])).digest()


BIG = MerkleTree.from_data(i.to_bytes(4, "big") for i in range(600))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_proofs_verify_and_any_flip_fails(data):
    n = data.draw(st.integers(1, BIG.size), label="n")
    i = data.draw(st.integers(0, n - 1), label="i")
    m = data.draw(st.integers(1, n), label="m")
    root = BIG.root(n)
    assert root == _reference_root(list(BIG.leaf_hashes[:n]))
    path = BIG.inclusion_proof(i, n)
    verify_inclusion(i, n, BIG.leaf(i), path, root)
    cons = BIG.consistency_proof(m, n)
    verify_consistency(m, n, cons, BIG.root(m), root)
    if path:
        j = data.draw(st.integers(0, len(path) - 1), label="j")
        byte = data.draw(st.integers(0, 31), label="byte")
        bit = data.draw(st.integers(0, 7), label="bit")
        bad = list(path)
        bad[j] = bad[j][:byte] + bytes([bad[j][byte] ^ (1 << bit)]) + bad[j][byte + 1:]
        with pytest.raises(ProofError):
            verify_inclusion(i, n, BIG.leaf(i), bad, root)
    if cons:
        j = data.draw(st.integers(0, len(cons) - 1), label="cj")
        byte = data.draw(st.integers(0, 31), label="cbyte")
        bit = data.draw(st.integers(0, 7), label="cbit")
        bad = list(cons)
        bad[j] = bad[j][:byte] + bytes([bad[j][byte] ^ (1 << bit)]) + bad[j][byte + 1:]
        with pytest.raises(ProofError):
            verify_consistency(m, n, bad, BIG.root(m), root)
