"""Recompute the whole log and report every place where the stored state disagrees with it.

Checks, from the trail rows alone (the only input trusted is the canonical event bytes):
- seq numbers run 1..n without a gap (a removed or inserted row shows here or in the chain);
- each row's hash chains from the previous one (a changed, inserted or reordered row breaks it);
- each leaf and every complete subtree stored in merkle_nodes equals the recomputed one, and there
  are no extra nodes;
- every signed tree head's root equals the recomputed root at its size, its signature verifies with
  its key, and timestamps strictly increase with sizes never shrinking.
"""
from __future__ import annotations

from typing import Callable, Iterator

import psycopg

from ..adapters.tree import Nodes
from ..domain import checkpoint, merkle
from ..domain.chain import GENESIS, link

BATCH = 5000


def _rows(conn: psycopg.Connection) -> Iterator[dict]:
    with conn.cursor(name="verify_trail") as cur:    # server-side cursor: constant memory
        cur.itersize = BATCH
        cur.execute("SELECT seq, event, prev_hash, hash FROM trail ORDER BY seq")
        yield from cur


def verify(conn: psycopg.Connection, progress: Callable[[int, int], None] = lambda done, total: None) -> list[str]:
    problems: list[str] = []
    total = conn.execute("SELECT count(*) AS n FROM trail").fetchone()["n"]
    heads = conn.execute("SELECT h.*, k.public_key, k.origin FROM tree_heads h JOIN signing_keys k USING (key_id)"
                         " ORDER BY timestamp_ms").fetchall()
    roots_wanted = {h["tree_size"] for h in heads}
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in roots_wanted else {}
    compact, prev, expected_seq, pending = merkle.CompactRange(), GENESIS, 1, []

    def check_nodes() -> None:
        stored = Nodes(conn).fetch((level, idx) for level, idx, _ in pending).cache
        for level, idx, h in pending:
            if stored.get((level, idx)) != h:
                problems.append(f"merkle node ({level}, {idx}) {'missing' if (level, idx) not in stored else 'differs'}")
        pending.clear()

    for row in _rows(conn):
        seq, canonical = row["seq"], row["event"].encode("utf-8")
        if seq != expected_seq:
            problems.append(f"trail seq {expected_seq} expected, found {seq}: a row was removed or inserted")
        if bytes(row["prev_hash"]) != prev or link(prev, canonical) != bytes(row["hash"]):
            problems.append(f"trail seq {seq}: hash chain broken (row changed, inserted or reordered)")
        prev, expected_seq = bytes(row["hash"]), seq + 1
        pending += compact.append(merkle.leaf_hash(canonical))
        if compact.size in roots_wanted:
            roots[compact.size] = compact.root()
        if len(pending) >= 2 * BATCH:
            check_nodes()
            progress(compact.size, total)
    check_nodes()
    progress(compact.size, total)
    stored_count = conn.execute("SELECT count(*) AS n FROM merkle_nodes").fetchone()["n"]
    expected_count = 2 * compact.size - bin(compact.size).count("1")
    if stored_count != expected_count:
        problems.append(f"merkle_nodes holds {stored_count} rows, the trail implies {expected_count}")

    last_size, last_stamp = -1, -1
    for h in heads:
        size = h["tree_size"]
        if size < last_size or h["timestamp_ms"] <= last_stamp:
            problems.append(f"tree head at {h['timestamp_ms']}: sizes must not shrink, timestamps must increase")
        last_size, last_stamp = size, h["timestamp_ms"]
        if size > compact.size:
            problems.append(f"tree head for size {size} but the trail has only {compact.size} entries")
        elif roots.get(size) != bytes(h["root"]):
            problems.append(f"tree head for size {size}: root differs from the recomputed one")
        try:
            signed = checkpoint.verify(h["checkpoint"], {
                checkpoint.key_hash(h["origin"], bytes(h["public_key"])): bytes(h["public_key"])})
            if (signed.tree_size, signed.root, signed.timestamp_ms) != (size, bytes(h["root"]), h["timestamp_ms"]):
                problems.append(f"tree head for size {size}: the signed note says something else")
        except checkpoint.BadCheckpoint as exc:
            problems.append(f"tree head for size {size}: {exc}")
    return problems
