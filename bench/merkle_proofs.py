"""The audit Merkle tree at scale: append rate, proof latency and a full recomputation over N leaves.

    .venv/bin/python bench/merkle_proofs.py [--leaves N] [--batch B] [--repeat R]

Starts its own PostgreSQL (embedded, random port, scratch folder), applies every migration as
`zf migrate` does, appends N leaves (default 1,000,000) through audit.adapters.tree.append_leaves in
batches of B, one transaction each, as the audit service's own role. Then times, over R random
positions, an inclusion proof and a consistency proof at size N, and once the root recomputed from
every leaf row (streamed through a server-side cursor). Each figure is also given as a ratio to an
anchor measured in the same run: a primary-key lookup of one node row. Aim: inclusion p99 well
under 10 ms. Benchmarks are never assertions: the exit status is 0 whatever the figures.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from audit.adapters import tree
from audit.domain import merkle
from zfcommon import db
from zfcommon.devstack.ports import free_port
from zfcommon.devstack.postgres import LocalPostgres
from zfcommon.devstack.stack import migrate_all
from zfcommon.settings import SERVICES

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_queries import percentile  # noqa: E402

AIM_INCLUSION_P99_MS = 10.0


def append(conn, leaves: int, batch: int) -> float:
    started = time.perf_counter()
    size = 0
    while size < leaves:
        with conn.transaction():
            size = tree.append_leaves(conn, size, [merkle.leaf_hash(b"event %d" % i)
                                                   for i in range(size, min(leaves, size + batch))])
    return time.perf_counter() - started


def timed(run: Callable[[random.Random], object], repeat: int, rng: random.Random) -> list[float]:
    for _ in range(5):      # warm PostgreSQL's caches and the prepared statements
        run(rng)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run(rng)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def recompute_root(conn) -> bytes:
    """The root from every leaf row, streamed: the check an outside auditor would run."""
    with conn.cursor(name="leaves") as cur:
        cur.itersize = 20_000
        cur.execute("SELECT hash FROM merkle_nodes WHERE level = 0 ORDER BY idx")
        return merkle.root(bytes(row["hash"]) for row in cur)


def report(conn, n: int, repeat: int) -> None:
    rng = random.Random(11)
    loads = {
        "anchor: one node by primary key": lambda r: conn.execute(
            "SELECT hash FROM merkle_nodes WHERE level = 0 AND idx = %s", (r.randrange(n),)).fetchone(),
        f"inclusion proof, size {n:,}": lambda r: tree.inclusion(conn, r.randrange(n), n),
        "inclusion proof, random past size": lambda r: tree.inclusion(conn, *sorted(r.sample(range(n), 2))),
        f"consistency proof, m < {n:,}": lambda r: tree.consistency(conn, r.randrange(1, n), n),
        "root at a random past size": lambda r: tree.root_at(conn, r.randrange(1, n + 1)),
    }
    print(f"\n{'operation':36} {'p50 ms':>8} {'p99 ms':>8} {'p50/anchor':>11} {'p99/anchor':>11}", flush=True)
    anchor = None
    for name, run in loads.items():
        samples = timed(run, repeat, rng)
        p50, p99 = statistics.median(samples), percentile(samples, 0.99)
        anchor = anchor or (p50, p99)
        flag = "  over aim" if name.startswith("inclusion") and p99 > AIM_INCLUSION_P99_MS else ""
        print(f"{name:36} {p50:8.2f} {p99:8.2f} {p50 / anchor[0]:11.1f} {p99 / anchor[1]:11.1f}{flag}", flush=True)
    reads: set[tuple[int, int]] = set()
    proof = merkle.inclusion_proof(n // 3, n, lambda level, idx: reads.add((level, idx)) or bytes(32))
    print(f"an inclusion proof at {n:,}: {len(proof)} hashes from {len(reads)} node rows, one query:", flush=True)
    levels, idxs = zip(*reads)
    for row in conn.execute("EXPLAIN (ANALYZE, COSTS OFF) SELECT level, idx, hash FROM merkle_nodes"
                            " WHERE (level, idx) IN (SELECT * FROM unnest(%s::smallint[], %s::bigint[]))",
                            (list(levels), list(idxs))):
        print("    " + row["QUERY PLAN"])
    started = time.perf_counter()
    recomputed = recompute_root(conn)
    seconds = time.perf_counter() - started
    same = "equals" if recomputed == tree.root_at(conn, n) else "DIFFERS FROM"
    print(f"full recomputation from {n:,} leaf rows: {seconds * 1000:.0f} ms"
          f" ({seconds * 1000 / anchor[0]:,.0f} x anchor p50); {same} root_at({n:,})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1000)
    args = parser.parse_args()
    passwords = {s: f"bench-{s}" for s in SERVICES}
    with tempfile.TemporaryDirectory(prefix="zf-bench-") as scratch:
        server = LocalPostgres(Path(scratch) / "pg", free_port()).start()
        try:
            migrate_all(server.url, passwords)
            with db.connect(db.service_url(server.url, "audit", passwords["audit"])) as conn:
                seconds = append(conn, args.leaves, args.batch)
                rows = conn.execute("SELECT count(*) AS n FROM merkle_nodes").fetchone()["n"]
                print(f"appended {args.leaves:,} leaves in batches of {args.batch:,}: {seconds:.1f} s,"
                      f" {args.leaves / seconds:,.0f} leaves/s ({rows:,} node rows, {rows / seconds:,.0f} rows/s)")
                report(conn, args.leaves, args.repeat)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
