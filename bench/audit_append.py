"""The audit trail at the consumer's pace: events appended through audit's own `apply_batch` (trail
rows, hash chain and Merkle leaves, one transaction per batch as the consumer does) while a signer signs a
tree head every second; then the full `verify` of everything.

    .venv/bin/python bench/audit_append.py [--events N] [--batch B]

Starts its own PostgreSQL (scratch folder, random port). The anchor, measured in the same run, is the
same events inserted as plain rows (one INSERT each, same batches) into a scratch table: what any
trail must at least do. Aims (issue 4): ≥ 5,000 events/s appended with heads signed every second;
full verification of 1M entries ≤ 15 s. Benchmarks never assert: the exit status is 0 whatever the
figures.
"""
from __future__ import annotations

import argparse
import base64
import json
import tempfile
import threading
import time
from pathlib import Path

from audit.adapters import heads, trail
from audit.service_layer.verify import verify
from zfcommon import db
from zfcommon.consumer import apply_fresh
from zfcommon.devstack.ports import free_port
from zfcommon.devstack.postgres import LocalPostgres
from zfcommon.devstack.stack import migrate_all
from zfcommon.events import new_event
from zfcommon.settings import SERVICES

ORIGIN = "bench.zhengfeng/audit"


def events(n: int):
    data = {"channel": "hotline", "category": "推诿扯皮", "description": "窗口推诿" * 10, "subject_unit": "县自然资源局",
            "priority": "normal", "location": None, "anonymous": True, "complainant": None}
    for i in range(n):
        yield new_event(service="intake", type="cn.zhengfeng.case.received.v1", subject=f"case-{i}", data=data,
                        streamversion=1, correlationid="bench", actor="office:bench")


def anchor(url: str, evs: list, batch: int) -> float:
    with db.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_rows (id bigserial PRIMARY KEY, event text NOT NULL)")
        conn.commit()
        started = time.perf_counter()
        for i in range(0, len(evs), batch):
            for e in evs[i:i + batch]:
                conn.execute("INSERT INTO bench_rows (event) VALUES (%s)", (json.dumps(e.to_dict()),))
            conn.commit()
        return len(evs) / (time.perf_counter() - started)


def signer(url: str, stop: threading.Event, signed: list) -> None:
    key = heads.load_signing_key(base64.b64encode(bytes(32)).decode())
    with db.connect(url) as conn:
        key_id = heads.register_key(conn, ORIGIN, key)
        conn.commit()
        while not stop.wait(1.0):
            if heads.sign_if_grown(conn, ORIGIN, key, key_id):
                signed.append(time.perf_counter())
            conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        pg = LocalPostgres(Path(scratch) / "pg", free_port()).start()
        try:
            passwords = {s: "bench" for s in SERVICES}
            migrate_all(pg.url, passwords)
            url = db.service_url(pg.url, "audit", passwords["audit"])
            evs = list(events(args.events))
            anchor_rate = anchor(pg.url, evs, args.batch)
            stop, signed = threading.Event(), []
            thread = threading.Thread(target=signer, args=(url, stop, signed))
            thread.start()
            started = time.perf_counter()
            with db.connect(url) as conn:
                for i in range(0, len(evs), args.batch):
                    apply_fresh(conn, [(e.topic, e) for e in evs[i:i + args.batch]], trail.apply_batch)
                    conn.commit()
            rate = len(evs) / (time.perf_counter() - started)
            time.sleep(1.5)
            stop.set()
            thread.join()
            with db.connect(url) as conn:
                started = time.perf_counter()
                problems = verify(conn)
                verify_s = time.perf_counter() - started
            print(f"audit append, {args.events} events, batches of {args.batch}, heads signed every second")
            print(f"  anchor (plain INSERT per event)   {anchor_rate:8.0f} events/s")
            print(f"  trail + chain + Merkle leaf       {rate:8.0f} events/s   ratio {rate / anchor_rate:.2f}"
                  f"   aim >= 5000/s {'met' if rate >= 5000 else 'NOT MET'}")
            print(f"  tree heads signed during the run  {len(signed)}")
            print(f"  full verify                       {verify_s:8.2f} s  ({args.events / verify_s:.0f} entries/s;"
                  f" 1M would take {1_000_000 / (args.events / verify_s):.1f} s, aim <= 15 s)"
                  f"  problems: {len(problems)}")
        finally:
            pg.stop()


if __name__ == "__main__":
    main()
