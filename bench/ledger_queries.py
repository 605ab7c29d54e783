"""The ledger's queries at scale: p50/p99 of typical reads over N synthetic cases (default 1,000,000).

    .venv/bin/python bench/ledger_queries.py [--rows N] [--repeat R]

Starts its own PostgreSQL (embedded, random port, scratch folder), applies every migration as
`zf migrate` does, bulk-loads N cases into ledger.cases (bench/ledger_data.py), then times each
query through the real Flask app (create_app, its pool, auth, schemas and JSON) with Flask's test
client, one request at a time. Each figure is also given as a ratio to an anchor measured in the
same run: GET /v1/cases/{id}, a primary-key lookup through the same app and pool. Aim: p99 <= 100 ms.
Benchmarks are never assertions: the exit status is 0 whatever the figures.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_data import CATEGORIES, COMMON_TERM, RARE_TERM, TODAY, UNITS, loaded_ledger  # noqa: E402

from ledger.adapters.cursor import encode_cursor  # noqa: E402
from ledger.entrypoints.http import create_app  # noqa: E402
from zfcommon import db  # noqa: E402
from zfcommon.auth import issue_token  # noqa: E402
from zfcommon.settings import Settings  # noqa: E402

SECRET = "bench-secret-with-enough-bytes-for-hs256"
AIM_P99_MS = 100.0
Request = tuple[str, dict, dict]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(client, make: Callable[[random.Random], Request], repeat: int, rng: random.Random) -> list[float]:
    for _ in range(5):      # warm the pool, the calendar and PostgreSQL's caches
        path, params, headers = make(rng)
        client.get(path, query_string=params, headers=headers)
    samples = []
    for _ in range(repeat):
        path, params, headers = make(rng)
        started = time.perf_counter()
        resp = client.get(path, query_string=params, headers=headers)
        resp.get_data()
        samples.append((time.perf_counter() - started) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"{path} {params} answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
    return samples


def workloads(admin_url: str, rows: int) -> dict[str, Callable[[random.Random], Request]]:
    office = {"Authorization": f"Bearer {issue_token(SECRET, 'office', 'bench')}"}

    def unit_token(unit: str) -> dict:
        return {"Authorization": f"Bearer {issue_token(SECRET, 'unit', 'bench', unit=unit)}"}
    with psycopg.connect(admin_url) as conn:     # cursors deep in the list: a tenth of the cases apart
        deep = [encode_cursor({"received_at": r[0], "case_id": r[1]}) for r in conn.execute(
            "SELECT received_at, case_id FROM ledger.cases ORDER BY received_at DESC, case_id DESC"
            " OFFSET %s LIMIT 1", (rows // 2,))]

    def window(rng: random.Random) -> dict:
        start = TODAY.toordinal() - rng.randrange(30, 3 * 365)
        return {"received_from": TODAY.fromordinal(start).isoformat(),
                "received_to": TODAY.fromordinal(start + 30).isoformat()}
    return {
        "anchor: case by id": lambda r: (f"/v1/cases/case-{r.randrange(rows):07d}", {}, office),
        "first page, unfiltered": lambda r: ("/v1/cases", {}, office),
        "by status": lambda r: ("/v1/cases", {"status": r.choice(["in_progress", "assigned", "closed"])}, office),
        "several statuses (old ones)": lambda r: ("/v1/cases", {"status": "closed,dismissed,merged"}, office),
        "several statuses (open ones)": lambda r: ("/v1/cases", {"status": "assigned,in_progress,returned"}, office),
        "by unit (lead or cooperating)": lambda r: ("/v1/cases", {"unit": r.choice(UNITS)}, office),
        "as a unit (scoped)": lambda r: ("/v1/cases", {}, unit_token(r.choice(UNITS))),
        "category + 30-day range": lambda r: ("/v1/cases", {"category": r.choice(CATEGORIES), **window(r)}, office),
        f"q common ({COMMON_TERM})": lambda r: ("/v1/cases", {"q": COMMON_TERM}, office),
        f"q rare ({RARE_TERM})": lambda r: ("/v1/cases", {"q": RARE_TERM}, office),
        "overdue=true filter": lambda r: ("/v1/cases", {"overdue": "true"}, office),
        "overdue list": lambda r: ("/v1/overdue", {"offset": r.choice([0, 50, 500])}, office),
        "deep page via cursor": lambda r: ("/v1/cases", {"cursor": r.choice(deep)}, office),
        "unit stats, all time": lambda r: ("/v1/units/stats", {}, office),
        "unit stats, one quarter": lambda r: ("/v1/units/stats", {"from": "2026-07-01", "to": "2026-09-30"}, office),
        "unit stats, as a unit": lambda r: ("/v1/units/stats", {}, unit_token(r.choice(UNITS))),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with loaded_ledger(args.rows) as (admin_url, passwords):
        settings = Settings(service="ledger", database_url=db.service_url(admin_url, "ledger", passwords["ledger"]),
                            kafka_bootstrap_servers="127.0.0.1:1", jwt_algorithm="HS256", jwt_secret=SECRET, log_level="WARNING")
        app = create_app(settings, today=lambda: TODAY)
        report(app.test_client(), workloads(admin_url, args.rows), args.repeat)
        app.extensions["zf_pool"].close()
    return 0


def report(client, loads: dict, repeat: int) -> None:
    """One line per query as soon as it is measured; the anchor comes first."""
    rng = random.Random(11)
    print_report("query", ((name, timed(client, make, repeat, rng)) for name, make in loads.items()), 0.99, AIM_P99_MS)


def print_report(heading: str, measured, q: float, aim: float) -> None:
    """A line per (name, samples) as each is measured: p50 and the q-quantile, and both as ratios to the
    first line's (the anchor, measured in the same run)."""
    tail = f"p{round(q * 100)}"
    print(f"\n{heading:34} {'p50 ms':>8} {tail + ' ms':>8} {'p50/anchor':>11} {tail + '/anchor':>11}"
          f"  aim {tail} <= {aim:.0f} ms", flush=True)
    anchor = None
    for name, samples in measured:
        p50, high = statistics.median(samples), percentile(samples, q)
        anchor = anchor or (p50, high)
        flag = "" if high <= aim else "  over aim"
        print(f"{name:34} {p50:8.1f} {high:8.1f} {p50 / anchor[0]:11.1f} {high / anchor[1]:11.1f}{flag}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
