"""The Merkle tree: roots and proofs from stored complete subtrees agree with RFC 9162's recursive
definitions (written out naively below), verify, and stop verifying once anything is tampered with."""
from __future__ import annotations

import pytest

from audit.domain import merkle
from audit.domain.merkle import ProofError, leaf_hash, node_hash

LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(128)]


# --- RFC 9162 §2.1, word for word, over a list of leaf hashes: the reference ---------------------
def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return merkle.EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = split(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = split(len(d))
    return path(m, d[:k]) + [mth(d[k:])] if m < k else path(m - k, d[k:]) + [mth(d[:k])]


def sides(m: int, n: int) -> str:
    """The shape of PATH(m, D[0:n]): on which side each sibling hangs, leaf side first."""
    if n == 1:
        return ""
    k = split(n)
    return sides(m, k) + "R" if m < k else sides(m - k, n - k) + "L"


def subproof(m: int, d: list[bytes], whole: bool) -> list[bytes]:
    if m == len(d):
        return [] if whole else [mth(d)]
    k = split(len(d))
    return subproof(m, d[:k], whole) + [mth(d[k:])] if m <= k else subproof(m - k, d[k:], False) + [mth(d[:k])]


# --- the complete-subtree accessor, as the store serves it ----------------------------------------
class Stored:
    """Only the complete subtrees of a tree of `size` leaves, built by CompactRange as the store
    builds them; counts the distinct nodes read."""

    def __init__(self, size: int):
        compact = merkle.CompactRange()
        self.nodes = {(lv, i): h for leaf in LEAVES[:size] for lv, i, h in compact.append(leaf)}
        self.read: set[tuple[int, int]] = set()

    def __call__(self, level: int, idx: int) -> bytes:
        self.read.add((level, idx))
        return self.nodes[(level, idx)]      # KeyError: asked for a subtree that is not complete


def reads_bound(size: int) -> int:
    return 2 * size.bit_length() + 1


def flipped(proof: list[bytes], at: int) -> list[bytes]:
    return [bytes([h[0] ^ 1]) + h[1:] if j == at else h for j, h in enumerate(proof)]


def test_stored_nodes_are_exactly_the_complete_subtrees_with_their_hashes():
    for size in range(0, 70):
        nodes = Stored(size).nodes
        expected = {(lv, i) for lv in range(7) for i in range(size >> lv)}
        assert set(nodes) == expected
        assert all(h == mth(LEAVES[i << lv:(i + 1) << lv]) for (lv, i), h in nodes.items())


@pytest.mark.parametrize("size", range(0, 71))
def test_roots_match_the_recursive_definition(size):
    expected = mth(LEAVES[:size])
    assert merkle.root(LEAVES[:size]) == expected
    stored = Stored(size)
    assert merkle.subtree_root(0, size, stored) == expected
    assert len(stored.read) == bin(size).count("1")          # the frontier, nothing else


def test_the_empty_tree_and_the_leaf_and_node_prefixes():
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == bytes.fromhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert node_hash(b"a", b"b") != node_hash(b"b", b"a") != leaf_hash(b"ab")


def test_subtree_root_of_any_range_matches_the_recursive_definition():
    stored = Stored(24)
    for start in range(24):
        for end in range(start, 25):
            assert merkle.subtree_root(start, end, stored) == mth(LEAVES[start:end]), (start, end)


@pytest.mark.parametrize("size", range(1, 41))
def test_every_inclusion_proof_equals_the_reference_and_verifies(size):
    root = mth(LEAVES[:size])
    for index in range(size):
        stored = Stored(size)
        proof = merkle.inclusion_proof(index, size, stored)
        assert proof == path(index, LEAVES[:size])
        assert len(stored.read) <= reads_bound(size)
        merkle.verify_inclusion(LEAVES[index], index, size, proof, root)


@pytest.mark.parametrize("n", range(1, 41))
def test_every_consistency_proof_equals_the_reference_and_verifies(n):
    for m in range(1, n + 1):
        stored = Stored(n)
        proof = merkle.consistency_proof(m, n, stored)
        assert proof == subproof(m, LEAVES[:n], True)
        assert len(stored.read) <= reads_bound(n)
        merkle.verify_consistency(m, n, proof, mth(LEAVES[:m]), mth(LEAVES[:n]))


@pytest.mark.parametrize("size", [2, 3, 7, 8, 13, 32, 40])
def test_a_tampered_inclusion_proof_fails(size):
    root = mth(LEAVES[:size])
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, Stored(size))
        tampered = [(LEAVES[index], index, size, flipped(proof, at), root) for at in range(len(proof))]
        tampered += [(LEAVES[index], wrong, size, proof, root) for wrong in {index - 1, index + 1, index ^ 2} - {index}]
        tampered += [(LEAVES[index], index, wrong, proof, mth(LEAVES[:wrong])) for wrong in {size - 1, size + 1, 2 * size}]
        tampered += [(LEAVES[index + 1], index, size, proof, root),
                     (LEAVES[index], index, size, proof + [root], root), (LEAVES[index], index, size, proof[1:], root)]
        for args in tampered:
            with pytest.raises(ProofError):
                merkle.verify_inclusion(*args)


def test_the_same_root_with_another_size_verifies_only_where_the_path_has_the_same_shape():
    """RFC 9162 proofs do not bind the size: a verifier must take size and root together from a
    signed tree head. Where the shape differs, a wrong size is caught."""
    for size in range(1, 41):
        root = mth(LEAVES[:size])
        for index in range(size):
            proof = path(index, LEAVES[:size])
            for wrong in range(index + 1, 81):
                try:
                    merkle.verify_inclusion(LEAVES[index], index, wrong, proof, root)
                    verified = True
                except ProofError:
                    verified = False
                assert verified == (sides(index, wrong) == sides(index, size)), (index, size, wrong)


@pytest.mark.parametrize("n", [2, 3, 7, 8, 13, 32, 40])
def test_a_tampered_consistency_proof_fails(n):
    for m in range(1, n):
        proof = merkle.consistency_proof(m, n, Stored(n))
        root1, root2 = mth(LEAVES[:m]), mth(LEAVES[:n])
        tampered = [(m, n, flipped(proof, at), root1, root2) for at in range(len(proof))]
        tampered += [(wm, wn, proof, mth(LEAVES[:wm]), mth(LEAVES[:wn]))
                     for wm, wn in {(m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1), (2 * m, n), (m, 2 * n)}
                     if 0 < wm < wn]
        tampered += [(m, n, garbled, root1, root2) for garbled in (proof[:-1], proof + [root2], [root1] + proof, [])]
        tampered += [(m, n, proof, root2, root1), (m, n, proof, root1, root1)]
        for args in tampered:
            with pytest.raises(ProofError):
                merkle.verify_consistency(*args)


def test_the_verifiers_edge_case_policy():
    r = mth(LEAVES[:1])
    with pytest.raises(ProofError, match="empty tree"):
        merkle.verify_consistency(0, 0, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
    with pytest.raises(ProofError, match="empty tree"):
        merkle.verify_consistency(0, 1, [], merkle.EMPTY_ROOT, r)
    merkle.verify_consistency(5, 5, [], r, r)
    with pytest.raises(ProofError, match="empty proof"):
        merkle.verify_consistency(5, 5, [r], r, r)
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_consistency(1, 2, [LEAVES[1][:31]], r, mth(LEAVES[:2]))
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_inclusion(r + b"\x00", 0, 1, [], r + b"\x00")
    merkle.verify_inclusion(r, 0, 1, [], r)
    with pytest.raises(ProofError, match="longer"):
        merkle.verify_inclusion(r, 0, 1, [r], r)
    with pytest.raises(ProofError, match="shorter"):
        merkle.verify_inclusion(LEAVES[0], 0, 3, [LEAVES[1]], mth(LEAVES[:3]))
    for index, size in [(1, 1), (-1, 1), (0, 0)]:
        with pytest.raises(ProofError, match="not in a tree"):
            merkle.verify_inclusion(r, index, size, [], r)


def test_proofs_are_refused_for_positions_outside_the_tree():
    for args in [(0, 0), (3, 3), (-1, 4)]:
        with pytest.raises(ValueError):
            merkle.inclusion_proof(*args, Stored(4))
    for args in [(0, 4), (5, 4), (-1, 4)]:
        with pytest.raises(ValueError):
            merkle.consistency_proof(*args, Stored(5))
    assert merkle.consistency_proof(4, 4, Stored(4)) == []


def test_a_compact_range_resumes_from_its_frontier():
    whole = merkle.CompactRange()
    for leaf in LEAVES[:37]:
        whole.append(leaf)
    stored = Stored(37)
    resumed = merkle.CompactRange(37, [stored(*key) for key in merkle.frontier(37)])
    assert resumed.hashes == whole.hashes
    added = [node for leaf in LEAVES[37:64] for node in resumed.append(leaf)]
    assert {(lv, i) for lv, i, _ in added} == set(Stored(64).nodes) - set(stored.nodes)
    assert resumed.root() == mth(LEAVES[:64])
    with pytest.raises(ValueError):
        merkle.CompactRange(37, [])
