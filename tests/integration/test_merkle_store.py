"""The Merkle tree stored as complete subtrees in audit.merkle_nodes, on the real PostgreSQL: roots and
proofs for every past size, and a table that nobody, not even its owner, can rewrite."""
from __future__ import annotations

import random

import psycopg
import pytest

from audit.adapters import tree
from audit.domain import merkle
from zfcommon import db

pytestmark = pytest.mark.integration

LEAVES = [merkle.leaf_hash(f"event {i}".encode()) for i in range(1000)]


def prefix_roots(leaves: list[bytes]) -> list[bytes]:
    """The pure root of every prefix: ROOTS[size] for size 0..len(leaves)."""
    compact, roots = merkle.CompactRange(), [merkle.EMPTY_ROOT]
    for leaf in leaves:
        compact.append(leaf)
        roots.append(compact.root())
    return roots


ROOTS = prefix_roots(LEAVES)


def append_in_random_batches(url: str, leaves: list[bytes], seed: int = 7) -> None:
    rng = random.Random(seed)
    size = 0
    with db.connect(url) as conn:
        while size < len(leaves):
            batch = leaves[size:size + rng.choice([1, 1, 2, 3, 5, 16, 31, 64, 100])]
            with conn.transaction():
                size = tree.append_leaves(conn, size, batch)
            assert tree.tree_size(conn) == size


@pytest.fixture
def stored(urls) -> str:
    append_in_random_batches(urls["audit"], LEAVES)
    return urls["audit"]


def test_the_root_at_every_past_size_equals_the_pure_root(stored):
    assert ROOTS[0] == merkle.EMPTY_ROOT and ROOTS[-1] == merkle.root(LEAVES)
    with db.connect(stored) as conn:
        for size, root in enumerate(ROOTS):
            assert tree.root_at(conn, size) == root, size


def test_stored_proofs_verify_against_the_pure_roots(stored):
    rng = random.Random(3)
    with db.connect(stored) as conn:
        for index in range(len(LEAVES)):
            size = rng.randrange(index + 1, len(LEAVES) + 1)
            proof = tree.inclusion(conn, index, size)
            merkle.verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])
        for _ in range(300):
            m, n = sorted(rng.sample(range(1, len(LEAVES) + 1), 2))
            proof = tree.consistency(conn, m, n)
            merkle.verify_consistency(m, n, proof, ROOTS[m], ROOTS[n])
        assert tree.consistency(conn, 500, 500) == []


def test_nothing_is_computed_for_a_size_the_tree_has_not_reached(urls):
    with db.connect(urls["audit"]) as conn:
        tree.append_leaves(conn, 0, LEAVES[:10])
        for read in (lambda: tree.root_at(conn, 11), lambda: tree.inclusion(conn, 10, 11),
                     lambda: tree.inclusion(conn, 3, 11), lambda: tree.consistency(conn, 4, 11)):
            with pytest.raises(LookupError):
                read()
        with pytest.raises(ValueError):
            tree.inclusion(conn, 10, 10)


def test_an_append_at_the_wrong_position_is_refused_so_the_tree_cannot_fork(urls):
    with db.connect(urls["audit"]) as conn:
        tree.append_leaves(conn, 0, LEAVES[:6])
        conn.commit()
        with pytest.raises(LookupError):           # a gap: the frontier of 7 leaves is not there
            tree.append_leaves(conn, 7, LEAVES[7:9])
        conn.rollback()
        with pytest.raises(psycopg.errors.UniqueViolation):     # leaf 5 is already in
            tree.append_leaves(conn, 5, LEAVES[5:9])
        conn.rollback()
        assert tree.tree_size(conn) == 6
        assert tree.append_leaves(conn, 6, []) == 6


@pytest.mark.parametrize("statement", ["UPDATE merkle_nodes SET hash = hash", "DELETE FROM merkle_nodes",
                                       "TRUNCATE merkle_nodes"])
def test_the_service_role_cannot_rewrite_the_tree(urls, statement):
    with db.connect(urls["audit"]) as conn:
        tree.append_leaves(conn, 0, LEAVES[:4])
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute(statement)


@pytest.mark.parametrize("statement", ["UPDATE audit.merkle_nodes SET hash = hash", "DELETE FROM audit.merkle_nodes",
                                       "TRUNCATE audit.merkle_nodes"])
def test_a_trigger_refuses_rewrites_even_for_the_owner(urls, admin_url, statement):
    append_in_random_batches(urls["audit"], LEAVES[:4])
    with db.connect(admin_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
