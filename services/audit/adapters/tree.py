"""The Merkle tree over the trail, stored as its complete subtrees in merkle_nodes (0002_merkle.sql).

A complete subtree's hash never changes once its last leaf is in, so the table is append-only like
the trail, and a root or proof for ANY past tree size is computed from O(log n) of its rows: the pure
functions of audit.domain.merkle do the computing, this module only reads and writes rows.
"""
from __future__ import annotations

from typing import Callable, Iterable, TypeVar

import psycopg

from ..domain import merkle

T = TypeVar("T")
_PLACEHOLDER = bytes(merkle.HASH_SIZE)


class Nodes:
    """A get_node accessor for one call: rows are read in batches by fetch() and cached for the call
    (never longer, so nothing is shared between connections or transactions)."""

    def __init__(self, conn: psycopg.Connection):
        self.conn, self.cache = conn, {}

    def fetch(self, keys: Iterable[tuple[int, int]]) -> "Nodes":
        missing = sorted(set(keys) - self.cache.keys())
        if missing:
            levels, idxs = zip(*missing)
            # One round trip whatever the number of nodes; the LATERAL makes each pair a primary-key
            # probe whatever the planner's statistics say (while the table grows faster than
            # autovacuum analyses it, a join would be planned as a scan of every node: O(n) per call).
            rows = self.conn.execute(
                "SELECT k.level, k.idx, n.hash FROM unnest(%s::smallint[], %s::bigint[]) AS k(level, idx)"
                " CROSS JOIN LATERAL (SELECT hash FROM merkle_nodes m WHERE m.level = k.level AND m.idx = k.idx) n",
                (list(levels), list(idxs)))
            self.cache.update(((r["level"], r["idx"]), bytes(r["hash"])) for r in rows)
        return self

    def __call__(self, level: int, idx: int) -> bytes:
        if (level, idx) not in self.cache:
            self.fetch([(level, idx)])
        try:
            return self.cache[(level, idx)]
        except KeyError:
            raise LookupError(f"merkle node ({level}, {idx}) is not stored: the tree is smaller") from None


def append_leaves(conn: psycopg.Connection, first_index: int, leaf_hashes: Iterable[bytes]) -> int:
    """Stores leaves first_index, first_index+1, ... and every parent they complete, in one INSERT;
    returns the new tree size. Call it in the transaction that appends the same events to the trail,
    so the tree and the trail commit together or not at all.

    No separate size check is needed: the frontier of first_index (the nodes the new parents hang
    from) exists only if the tree has at least first_index leaves, and the primary key refuses a
    second leaf first_index, so two appenders racing for the same index cannot fork the tree."""
    keys = merkle.frontier(first_index)
    nodes = Nodes(conn).fetch(keys)
    compact = merkle.CompactRange(first_index, [nodes(*key) for key in keys])
    rows = [node for h in leaf_hashes for node in compact.append(h)]
    if rows:
        levels, idxs, hashes = zip(*rows)
        conn.execute("INSERT INTO merkle_nodes (level, idx, hash)"
                     " SELECT * FROM unnest(%b::smallint[], %b::bigint[], %b::bytea[])",   # binary: no hex
                     (list(levels), list(idxs), list(hashes)))
    return compact.size


def tree_size(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT idx FROM merkle_nodes WHERE level = 0 ORDER BY idx DESC LIMIT 1").fetchone()
    return row["idx"] + 1 if row else 0


def _computed(conn: psycopg.Connection, size: int, compute: Callable[[merkle.NodeAccessor], T]) -> T:
    """Runs compute twice: first on placeholders, to learn which nodes it reads (that choice depends
    on sizes and indices, never on hash values; this pass also validates them), then on those nodes
    fetched in one query. The last leaf is fetched too: its presence proves size <= the tree's size."""
    wanted = [(0, size - 1)]
    compute(lambda level, idx: wanted.append((level, idx)) or _PLACEHOLDER)
    nodes = Nodes(conn).fetch(wanted)
    nodes(0, size - 1)
    return compute(nodes)


def root_at(conn: psycopg.Connection, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return _computed(conn, size, lambda get: merkle.subtree_root(0, size, get))


def inclusion(conn: psycopg.Connection, index: int, size: int) -> list[bytes]:
    return _computed(conn, size, lambda get: merkle.inclusion_proof(index, size, get))


def consistency(conn: psycopg.Connection, m: int, n: int) -> list[bytes]:
    return _computed(conn, n, lambda get: merkle.consistency_proof(m, n, get))
