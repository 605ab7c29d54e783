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

import hashlib
from itertools import zip_longest
from typing import Callable, Iterator

import psycopg

from ..domain import checkpoint, merkle
from ..domain.chain import GENESIS

BATCH = 20_000
_sha256 = hashlib.sha256


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


def _check_level(conn: psycopg.Connection, level: int, expected: list[bytes], problems: list[str]) -> list[bytes]:
    """_compare, with a fast path for the usual case: the whole stored level read as one string (its
    hashes in index order) and compared at once; only a level that differs is walked node by node to
    name each difference. The indices are 0..n-1 exactly when there are n rows and the largest is
    n-1 (the key is unique and indices are never negative)."""
    row = conn.execute("SELECT count(*) AS n, coalesce(max(idx), -1) AS top,"
                       " coalesce(string_agg(hash, ''::bytea ORDER BY idx), ''::bytea) AS hashes"
                       " FROM merkle_nodes WHERE level = %s", (level,)).fetchone()
    if row["n"] == len(expected) == row["top"] + 1 and bytes(row["hashes"]) == b"".join(expected):
        return expected
    return _compare(level, iter(expected), _nodes(conn, level), problems)


def _leaves(conn: psycopg.Connection, total: int, problems: list[str],
            progress: Callable[[int, int], None]) -> list[bytes]:
    """The leaf hashes recomputed from the stored canonical events, checking the seq numbers and the
    hash chain on the way (RFC 9162 leaf: SHA-256(0x00 ‖ event); chain: SHA-256(prev ‖ event))."""
    leaves: list[bytes] = []
    prev, expected = GENESIS, 1
    # COPY in binary: one sequential read, each row's fields parsed by psycopg's C code, no hex
    # text for the hashes, no cursor round trips.
    with conn.cursor() as cur, cur.copy("COPY (SELECT seq, event, prev_hash, hash FROM trail ORDER BY seq)"
                                        " TO STDOUT (FORMAT binary)") as copy:
        copy.set_types(["int8", "text", "bytea", "bytea"])
        for seq, event, prev_hash, digest in copy.rows():
            canonical = event.encode("utf-8")
            if seq != expected:
                problems.append(f"trail seq {expected} expected, found {seq}: a row was removed or inserted")
            if prev_hash != prev or _sha256(prev + canonical).digest() != digest:
                problems.append(f"trail seq {seq}: hash chain broken (row changed, inserted or reordered)")
            prev, expected = digest, seq + 1
            leaves.append(_sha256(b"\x00" + canonical).digest())
            if expected % BATCH == 0:
                progress(len(leaves), total)
    progress(len(leaves), total)
    return leaves


def _parents(below: list[bytes]) -> list[bytes]:
    return [_sha256(b"\x01" + below[i] + below[i + 1]).digest() for i in range(0, len(below) - 1, 2)]


def _roots(levels: list[list[bytes]], sizes: set[int], size: int) -> dict[int, bytes]:
    """The root of the tree of each of `sizes` (≤ size) from the recomputed levels: the fold of its
    frontier's complete subtrees (merkle.frontier), right to left."""
    roots = {}
    for n in sizes:
        if n == 0:
            roots[0] = merkle.EMPTY_ROOT
        elif n <= size:
            nodes = [levels[level][idx] for level, idx in merkle.frontier(n)]
            h = nodes[-1]
            for left in reversed(nodes[:-1]):
                h = merkle.node_hash(left, h)
            roots[n] = h
    return roots


def verify(conn: psycopg.Connection, progress: Callable[[int, int], None] = lambda done, total: None) -> list[str]:
    problems: list[str] = []
    total = conn.execute("SELECT count(*) AS n FROM trail").fetchone()["n"]
    heads = conn.execute("SELECT h.*, k.public_key, k.origin FROM tree_heads h JOIN signing_keys k USING (key_id)"
                         " ORDER BY timestamp_ms").fetchall()
    leaves = _leaves(conn, total, problems, progress)
    size = len(leaves)
    # Every level recomputed from the stored (checked) level below it. While no stored node differs,
    # the levels are exactly the tree of the recomputed leaves, and the heads' roots are read from
    # them; otherwise the roots are recomputed from the leaves alone.
    tree_problems = len(problems)
    level, below, recomputed = 0, _check_level(conn, 0, leaves, problems), [leaves]
    while len(below) > 1 or level == 0:
        level += 1
        parents = _parents(below)
        recomputed.append(parents)
        below = _check_level(conn, level, parents, problems)
        if not below:
            break
    extra = conn.execute("SELECT count(*) AS n FROM merkle_nodes WHERE level > %s", (level,)).fetchone()["n"]
    if extra:
        problems.append(f"merkle_nodes holds {extra} rows above the tree's top level {level}")
    wanted = {h["tree_size"] for h in heads}
    if len(problems) == tree_problems:
        roots = _roots(recomputed, wanted, size)
    else:
        compact, roots = merkle.CompactRange(), ({0: merkle.EMPTY_ROOT} if 0 in wanted else {})
        for leaf in leaves:
            compact.append(leaf)
            if compact.size in wanted:
                roots[compact.size] = compact.root()

    last_size, last_stamp = -1, -1
    for h in heads:
        size_signed = h["tree_size"]
        if size_signed < last_size or h["timestamp_ms"] <= last_stamp:
            problems.append(f"tree head at {h['timestamp_ms']}: sizes must not shrink, timestamps must increase")
        last_size, last_stamp = size_signed, h["timestamp_ms"]
        if size_signed > size:
            problems.append(f"tree head for size {size_signed} but the trail has only {size} entries")
        elif roots.get(size_signed) != bytes(h["root"]):
            problems.append(f"tree head for size {size_signed}: root differs from the recomputed one")
        try:
            signed = checkpoint.verify(h["checkpoint"], {
                checkpoint.key_hash(h["origin"], bytes(h["public_key"])): bytes(h["public_key"])})
            if (signed.tree_size, signed.root, signed.timestamp_ms) != (size_signed, bytes(h["root"]), h["timestamp_ms"]):
                problems.append(f"tree head for size {size_signed}: the signed note says something else")
        except checkpoint.BadCheckpoint as exc:
            problems.append(f"tree head for size {size_signed}: {exc}")
    return problems
