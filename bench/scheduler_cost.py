"""CPU per case of notify's escalation scheduler deciding the cases the consumer handed it, batched
as it runs (a batch of due cases in one transaction) against one case per transaction (how it ran
until the eighth round of issue 11, and how it still decides a batch that failed). Brings its own
PostgreSQL (never the running `make up`).

    .venv/bin/python bench/scheduler_cost.py [--cases 2000] [--mix received|lifecycle] [--rounds 3]

The cases are real: intake's own Flask app receives them (and, with `--mix lifecycle`, assigns,
signs for, reports and closes them), exactly as bench/consumer_cost.py makes them. For each round
and each way, a fresh database gets notify's projection of those events (its consumer's own
apply_batch, in one transaction), so every case waits for the scheduler; then one pass
(`escalate.run_once`) decides them all. Reported per case: the pass's CPU in this process and in its
PostgreSQL backend (from /proc). Benchmarks print figures; they never assert.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import datetime, timezone

import benchlib
from consumer_cost import make_events

benchlib.services_on_path()
WAYS = ("batched", "one by one")


def one_pass(servers: benchlib.LocalServers, events: list, way: str, clock_file: str) -> dict:
    """A fresh notify projection of `events`, then one scheduler pass over it, measured."""
    from notify.service_layer import escalate
    from notify.service_layer.fanout import batch_applier
    from notify.service_layer.uow import UnitOfWork
    from zfcommon import db
    from zfcommon.clock import FileClock
    from zfcommon.consumer import apply_fresh
    from zfcommon.events import parse_event

    admin = servers.fresh_database()
    url = servers.service_url(admin, "notify")
    with db.connect(url) as conn:
        apply_fresh(conn, [(topic, parse_event(value)) for topic, _, value in events], batch_applier(hotline_on=False))
        conn.commit()
        waiting = conn.execute("SELECT count(*) AS n FROM escalation_checks WHERE checked_version < seen_version"
                               ).fetchone()["n"]
    pool = db.make_pool(url, max_size=1, name="bench-scheduler")
    pool.open()
    original = escalate.decide_cases
    if way == "one by one":
        def refuse(*_a, **_k):
            raise RuntimeError("deciding one case per transaction")
        escalate.decide_cases = refuse
    try:
        with UnitOfWork(pool) as uow:
            backend = uow.conn.execute("SELECT pg_backend_pid() AS p").fetchone()["p"]
            uow.conn.rollback()
            own, pg, wall = time.process_time(), benchlib.proc_cpu(backend), time.monotonic()
            appended = escalate.run_once(uow, FileClock(clock_file))
            own, pg, wall = (time.process_time() - own, benchlib.proc_cpu(backend) - pg,
                             time.monotonic() - wall)
    finally:
        escalate.decide_cases = original
        pool.close()
    with db.connect(url) as conn:
        left = conn.execute("SELECT count(*) AS n FROM escalation_checks WHERE checked_version < seen_version"
                            ).fetchone()["n"]
    return {"cases": waiting, "left": left, "appended": appended, "wall_s": round(wall, 3),
            "process_ms_per_case": round(1000 * own / waiting, 4), "pg_ms_per_case": round(1000 * pg / waiting, 4),
            "total_ms_per_case": round(1000 * (own + pg) / waiting, 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2000, help="cases waiting for the scheduler (2000)")
    ap.add_argument("--mix", choices=("received", "lifecycle"), default="received",
                    help="received: new cases, as `make bench` sends; lifecycle: each case also assigned, "
                         "signed for, progress noted, rectification reported, closed")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, the ways taking turns (3)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    servers = benchlib.LocalServers(partitions=1)
    try:
        log(f"making {args.cases} cases through intake's app ({args.mix}) …")
        events = make_events(servers, args.cases, args.mix)
        clock = servers.dir / "clock"          # make_events' clock: the Monday the cases were received
        started = datetime.now(timezone.utc)
        rounds: dict[str, list[dict]] = {w: [] for w in WAYS}
        for r in range(args.rounds):
            for way in (WAYS if r % 2 == 0 else WAYS[::-1]):
                log(f"round {r + 1}: {way} …")
                rounds[way].append(one_pass(servers, events, way, str(clock)))
    finally:
        servers.close()
    result = {"started_at": started.isoformat(timespec="seconds"), "mix": args.mix, "cases": args.cases,
              "machine": {"cores": os.cpu_count(), "loadavg": os.getloadavg()[0]},
              "ways": {w: {"total_ms_per_case": benchlib.spread([x["total_ms_per_case"] for x in rs]),
                           "process_ms_per_case": benchlib.spread([x["process_ms_per_case"] for x in rs]),
                           "pg_ms_per_case": benchlib.spread([x["pg_ms_per_case"] for x in rs]),
                           "all_decided": all(x["left"] == 0 for x in rs), "rounds": rs}
                       for w, rs in rounds.items()}}
    path = benchlib.save_result("scheduler", result)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"scheduler cost  {result['started_at']}  {args.cases} cases ({args.mix}), {args.rounds} round(s); "
          f"load avg {result['machine']['loadavg']:.2f}\n")
    print(f"  {'way':<12}{'CPU ms/case':>13}  (process + pg)     all decided")
    for w, c in result["ways"].items():
        t = c["total_ms_per_case"]
        print(f"  {w:<12}{t['median']:>13.3f}  ({c['process_ms_per_case']['median']:.3f} + "
              f"{c['pg_ms_per_case']['median']:.3f})   {'yes' if c['all_decided'] else 'NO'}")
        print(f"  {'':<12}  runs: {', '.join(f'{x:.3f}' for x in t['runs'])}")
    print(f"\n(results: {path.relative_to(benchlib.ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
