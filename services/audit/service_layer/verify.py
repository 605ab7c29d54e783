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

from itertools import zip_longest
from typing import Callable, Iterator

import psycopg

from ..domain import checkpoint, merkle
from ..domain.chain import GENESIS, link

BATCH = 5000


def _stream(conn: psycopg.Connection, name: str, query: str, params: tuple = ()) -> Iterator[dict]:
    with conn.cursor(name=name) as cur:    # server-side cursor: constant memory, sequential reads
        cur.itersize = BATCH
        cur.execute(query, params)
        yield from cur


def _nodes(conn: psycopg.Connection, level: int) -> Iterator[dict]:
    return _stream(conn, f"verify_level_{level}", "SELECT idx, hash FROM merkle_nodes WHERE level = %s ORDER BY idx",
                   (level,))


def _compare(level: int, expected: Iterator[bytes], stored: Iterator[dict], problems: list[str]) -> list[bytes]:
    """Walk the recomputed hashes of one level and its stored rows in lockstep; returns the stored
    hashes (the next level is recomputed from them, so each level is checked against a checked one)."""
    kept = []
    for idx, (want, row) in enumerate(zip_longest(expected, stored)):
        if row is None:
            problems.append(f"merkle node ({level}, {idx}) missing")
            continue
        if want is None or row["idx"] != idx:
            problems.append(f"merkle node ({level}, {row['idx']}) is not part of the tree")
            break
        if bytes(row["hash"]) != want:
            problems.append(f"merkle node ({level}, {idx}) differs")
        kept.append(bytes(row["hash"]))
    return kept


def verify(conn: psycopg.Connection, progress: Callable[[int, int], None] = lambda done, total: None) -> list[str]:
    problems: list[str] = []
    total = conn.execute("SELECT count(*) AS n FROM trail").fetchone()["n"]
    heads = conn.execute("SELECT h.*, k.public_key, k.origin FROM tree_heads h JOIN signing_keys k USING (key_id)"
                         " ORDER BY timestamp_ms").fetchall()
    roots_wanted = {h["tree_size"] for h in heads}
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in roots_wanted else {}
    compact, state = merkle.CompactRange(), {"prev": GENESIS, "seq": 1}

    def leaves() -> Iterator[bytes]:
        for row in _stream(conn, "verify_trail", "SELECT seq, event, prev_hash, hash FROM trail ORDER BY seq"):
            seq, canonical, prev = row["seq"], row["event"].encode("utf-8"), state["prev"]
            if seq != state["seq"]:
                problems.append(f"trail seq {state['seq']} expected, found {seq}: a row was removed or inserted")
            if bytes(row["prev_hash"]) != prev or link(prev, canonical) != bytes(row["hash"]):
                problems.append(f"trail seq {seq}: hash chain broken (row changed, inserted or reordered)")
            state.update(prev=bytes(row["hash"]), seq=seq + 1)
            leaf = merkle.leaf_hash(canonical)
            compact.append(leaf)
            if compact.size in roots_wanted:
                roots[compact.size] = compact.root()
            if compact.size % BATCH == 0:
                progress(compact.size, total)
            yield leaf

    level, below = 0, _compare(0, leaves(), _nodes(conn, 0), problems)
    progress(compact.size, total)
    while len(below) > 1 or level == 0:
        level += 1
        parents = (merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2))
        below = _compare(level, parents, _nodes(conn, level), problems)
        if not below:
            break
    extra = conn.execute("SELECT count(*) AS n FROM merkle_nodes WHERE level > %s", (level,)).fetchone()["n"]
    if extra:
        problems.append(f"merkle_nodes holds {extra} rows above the tree's top level {level}")

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
