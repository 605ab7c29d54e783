"""The Certificate-Transparency Merkle tree of RFC 9162 §2.1: hashes, roots, proofs, verifiers. Pure.

Proofs are computed from a node accessor `get_node(level, index)` that serves COMPLETE subtrees only:
level 0 holds the leaf hashes, and the node at level L, index i covers leaves [i·2^L, (i+1)·2^L).
Complete subtrees never change once their last leaf is appended, so they can be stored once and never
rewritten; the ragged right edge of a tree of any size is recomputed from at most log2(size) of them
(see subtree_root). docs/MERKLE.md explains the algorithms and the verifiers' edge-case policy.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
NodeAccessor = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof that does not verify, or that is malformed, with the reason."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly less than n (n > 1): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def frontier(size: int) -> list[tuple[int, int]]:
    """(level, index) of the maximal complete subtrees that make up [0, size), left to right: one per
    set bit of size, largest first. The root of the tree is their fold from the right."""
    nodes, start = [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


class CompactRange:
    """The hashes of frontier(size): all an appender must remember to extend the tree and name its root."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        if len(hashes) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} frontier nodes, not {len(hashes)}")
        self.size, self.hashes = size, list(hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Adds one leaf hash; returns (level, index, hash) of every node it completes, the leaf first.
        Leaf i completes one parent per trailing 1-bit of i: each merges with the frontier's last node."""
        index, h = self.size, leaf
        completed = [(0, index, h)]
        level = 0
        while index >> level & 1:
            level += 1
            h = node_hash(self.hashes.pop(), h)
            completed.append((level, index >> level, h))
        self.hashes.append(h)
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        h = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            h = node_hash(left, h)
        return h


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH of the leaves, streamed: memory is O(log n) whatever the number of leaves."""
    compact = CompactRange()
    for h in leaf_hashes:
        compact.append(h)
    return compact.root()


def subtree_root(start: int, end: int, get_node: NodeAccessor) -> bytes:
    """MTH(D[start:end]) for any range. When start is a multiple of the smallest power of two >= end -
    start (every range a proof asks for is), each left half is a stored complete subtree and only the
    right edge recurses: the maximal complete subtrees of the range, O(log n) reads, folded right."""
    n = end - start
    if n < 0 or start < 0:
        raise ValueError(f"no leaves [{start}, {end})")
    if n == 0:
        return EMPTY_ROOT
    level = n.bit_length() - 1
    if n == 1 << level and start % n == 0:
        return get_node(level, start >> level)
    k = _split(n)
    return node_hash(subtree_root(start, start + k, get_node), subtree_root(start + k, end, get_node))


def inclusion_proof(index: int, size: int, get_node: NodeAccessor) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf-side sibling first. Going down, a left turn
    leaves the (possibly ragged) right part as the sibling and every later sibling is complete."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path, start, end = [], 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(subtree_root(mid, end, get_node))
            end = mid
        else:
            path.append(subtree_root(start, mid, get_node))
            start = mid
    return path[::-1]


def consistency_proof(m: int, n: int, get_node: NodeAccessor) -> list[bytes]:
    """PROOF(m, D[0:n]) of RFC 9162 §2.1.4.1 (SUBPROOF unrolled), leaf-side node first."""
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from {m} to {n} leaves")
    path, start, end = [], 0, n
    whole = True        # [start, start+m) is still the old tree itself: the verifier has its root
    while start + m != end:
        k = _split(end - start)
        if m <= k:
            path.append(subtree_root(start + k, end, get_node))
            end = start + k
        else:
            path.append(subtree_root(start, start + k, get_node))
            start, m, whole = start + k, m - k, False
    if not whole:
        path.append(subtree_root(start, end, get_node))
    return path[::-1]


def _check_sizes(*hashes: bytes) -> None:
    for h in hashes:
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ProofError(f"a hash must be {HASH_SIZE} bytes, got {h!r:.40}")


def _climb(fn: int, sn: int, seed: bytes, path: Sequence[bytes]) -> tuple[bytes, bytes]:
    """The loop shared by RFC 9162 §2.1.3.2 and §2.1.4.2: fn/sn are the seed's and the last leaf's
    positions at the current level. Returns (fr, sr): the roots rebuilt with only the left siblings
    (the old tree, for consistency; unused for inclusion) and with all of them (the new tree)."""
    fr = sr = seed
    for c in path:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return fr, sr


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> None:
    """RFC 9162 §2.1.3.2; returns None or raises ProofError."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    _check_sizes(leaf, root_hash, *proof)
    if _climb(index, size - 1, leaf, proof)[1] != root_hash:
        raise ProofError("the proof does not lead to the root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """RFC 9162 §2.1.4.2 with the edge cases of transparency-dev/merkle; returns None or raises ProofError."""
    if size1 < 1:
        raise ProofError("consistency with the empty tree proves nothing: refused")
    if size2 < size1:
        raise ProofError(f"a tree cannot shrink from {size1} to {size2}")
    if size1 == size2:
        # Nothing to hash: the claim is "same tree", so the proof is empty and the roots are equal.
        # The reference vectors accept this even with roots that are not 32 bytes long.
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError("equal sizes with different roots")
        return
    if not proof:
        raise ProofError("an empty proof between different sizes")
    _check_sizes(root1, root2, *proof)
    # A power-of-two old tree is a complete subtree of the new one: its root is the path's first node.
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr, sr = _climb(fn, sn, path[0], path[1:])
    if fr != root1 or sr != root2:
        raise ProofError("the proof does not lead to both roots")
