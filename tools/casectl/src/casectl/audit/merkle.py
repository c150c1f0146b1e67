"""RFC 6962 / RFC 9162 Merkle tree: roots, inclusion and consistency proofs.

    leaf hash  = SHA-256(0x00 || data)
    node hash  = SHA-256(0x01 || left || right)
    empty tree = SHA-256("")

The tree over n leaves splits at the largest power of two k < n
(MTH(D[n]) = H(MTH(D[0:k]), MTH(D[k:n]))). Building it bottom-up, pairing
neighbours and promoting an unpaired last node unchanged, gives the same tree;
that is what `MerkleTree` stores, one level at a time, so every leaf hash is
computed once and a tree of a million leaves costs about two million SHA-256
calls. Proofs are read off the stored levels. Levels can also be built in parts
(`build_levels` over ranges that start at multiples of 2^k, up to level k) and
joined (`MerkleTree.from_levels`).

The verifiers implement RFC 9162 section 2.1.3.2 (inclusion) and 2.1.4.2
(consistency) and need nothing but the hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not verify, or its parameters are impossible."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def build_levels(level0: bytes, up_to: int | None = None) -> list[bytes]:
    """The tree's levels bottom-up, each as the concatenation of its 32-byte hashes: level 0 is
    `level0` (the leaf hashes), and each next level pairs neighbours and promotes an unpaired last
    node unchanged; stops at one node, or after level `up_to`."""
    levels = [level0]
    level = level0
    sha = hashlib.sha256
    while len(level) > HASH_SIZE and (up_to is None or len(levels) <= up_to):
        pairs = len(level) // (2 * HASH_SIZE) * 2 * HASH_SIZE
        nxt = b"".join([sha(NODE_PREFIX + level[i:i + 2 * HASH_SIZE]).digest() for i in range(0, pairs, 2 * HASH_SIZE)])
        if pairs < len(level):
            nxt += level[pairs:]
        levels.append(nxt)
        level = nxt
    return levels


class MerkleTree:
    """An immutable RFC 6962 tree over already-hashed leaves.

    Each level is kept as one bytes object (the concatenation of its 32-byte hashes)."""

    def __init__(self, leaf_hashes: Iterable[bytes]):
        level = list(leaf_hashes)
        if any(len(h) != HASH_SIZE for h in level):
            for i, h in enumerate(level):
                if len(h) != HASH_SIZE:
                    raise ValueError(f"leaf hash {i} is {len(h)} bytes, expected {HASH_SIZE}")
        self._levels: list[bytes] = build_levels(b"".join(level))
        self._leaf_list: list[bytes] | None = None

    @classmethod
    def from_levels(cls, levels: Sequence[bytes]) -> MerkleTree:
        """A tree from its lowest levels as build_levels gives them (levels 0..k, for any k >= 0);
        the levels above are computed. The caller vouches for the levels given."""
        if not levels or len(levels[0]) % HASH_SIZE:
            raise ValueError("level 0 must be a whole number of hashes")
        top = next((j for j, lv in enumerate(levels) if len(lv) <= HASH_SIZE), len(levels) - 1)
        tree = cls.__new__(cls)
        tree._levels = list(levels[:top]) + build_levels(levels[top])  # a lone node is only promoted above
        tree._leaf_list = None
        return tree

    @classmethod
    def from_data(cls, leaves: Iterable[bytes]) -> MerkleTree:
        return cls(leaf_hash(d) for d in leaves)

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def _node(self, level: int, index: int) -> bytes:
        return self._levels[level][index * HASH_SIZE:(index + 1) * HASH_SIZE]

    def leaf(self, index: int) -> bytes:
        if not 0 <= index < self.size:
            if -self.size <= index < 0:
                index += self.size
            else:
                raise IndexError("leaf index out of range")
        return self._node(0, index)

    @property
    def leaf_hashes(self) -> Sequence[bytes]:
        if self._leaf_list is None:
            lv = self._levels[0]
            self._leaf_list = [lv[i:i + HASH_SIZE] for i in range(0, len(lv), HASH_SIZE)]
        return self._leaf_list

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all)."""
        n = self.size if size is None else size
        if not 0 <= n <= self.size:
            raise ValueError(f"size {n} outside 0..{self.size}")
        if n == 0:
            return EMPTY_ROOT
        return self._subtree(0, n)

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]); `start` is a multiple of the largest power of two <= end-start."""
        width = end - start
        if width & (width - 1) == 0:  # a perfect subtree: stored
            level = width.bit_length() - 1
            return self._node(level, start >> level)
        k = _largest_power_of_two_below(width)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path PATH(index, D[size]), leaf to root (RFC 6962 2.1.1)."""
        n = self.size if size is None else size
        if not 0 < n <= self.size or not 0 <= index < n:
            raise ValueError(f"no inclusion proof for index {index} in a tree of size {n}")
        path: list[bytes] = []
        start, end, m = 0, n, index
        while end - start > 1:
            k = _largest_power_of_two_below(end - start)
            if m < k:
                path.append(self._subtree(start + k, end))
                end = start + k
            else:
                path.append(self._subtree(start, start + k))
                start += k
                m -= k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[new_size]) (RFC 6962 2.1.2)."""
        n = self.size if new_size is None else new_size
        m = old_size
        if not 0 <= m <= n <= self.size:
            raise ValueError(f"no consistency proof from size {m} to size {n} (tree size {self.size})")
        if m == 0 or m == n:
            return []
        proof: list[bytes] = []
        start, end, b = 0, n, True
        while True:
            width = end - start
            if m == width:
                if not b:
                    proof.append(self._subtree(start, end))
                break
            k = _largest_power_of_two_below(width)
            if m <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start += k
                m -= k
                b = False
        proof.reverse()
        return proof


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    return MerkleTree(leaf_hashes).root()


def _check_hash(name: str, h: bytes) -> None:
    if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root that `proof` implies for `leaf` (a leaf hash)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    _check_hash("leaf hash", leaf)
    fn, sn, r = index, size - 1, bytes(leaf)
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)
        if sn == 0:
            raise ProofError(f"inclusion proof too long ({len(proof)} elements)")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof too short ({len(proof)} elements)")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless `proof` shows leaf hash `leaf` at `index` in the tree `root` of `size`."""
    _check_hash("root", root)
    got = root_from_inclusion_proof(index, size, leaf, proof)
    if got != root:
        raise ProofError(f"inclusion proof gives root {got.hex()}, expected {bytes(root).hex()}")


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """RFC 9162 2.1.4.2: raise ProofError unless the tree (new_size, new_root) extends (old_size, old_root)."""
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("proof must be empty for equal sizes")
        if old_root != new_root:
            raise ProofError("equal sizes but different roots")
        return
    if old_size == 0:
        if proof:
            raise ProofError("proof must be empty from the empty tree")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof too long ({len(proof)} elements)")
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
        raise ProofError(f"consistency proof too short ({len(proof)} elements)")
    if fr != old_root:
        raise ProofError(f"consistency proof gives old root {fr.hex()}, expected {bytes(old_root).hex()}")
    if sr != new_root:
        raise ProofError(f"consistency proof gives new root {sr.hex()}, expected {bytes(new_root).hex()}")
