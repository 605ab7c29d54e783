"""CPU per event of each consumer (ledger, notify, audit) at a fixed event rate, against an anchor
consumer measured in the same run. Brings its own PostgreSQL and broker (never the running `make up`).

    .venv/bin/python bench/consumer_cost.py [--rate 500] [--seconds 10] [--mix received|lifecycle]
                                            [--consumers anchor,ledger,notify,audit] [--rounds 1]
                                            [--profile ledger]

The events are real: intake's own Flask app (test client) receives the cases (and, with
`--mix lifecycle`, assigns, signs for, reports and closes them) into a source database, exactly as
`POST /v1/cases` would. Each consumer is then measured in a round of its own, on a fresh database
and a broker restarted empty: its real process (`python -m <service>.entrypoints.consumer`) joins
its group, and the events are produced at `--rate` per second for `--seconds`, the way the relay
publishes them (same serialisation, headers and keys, small batches as the outbox fills). The round
ends when the consumer has recorded every event in processed_events.

Per event it reports the consumer's CPU and its PostgreSQL backend's (from /proc), and how long
after the last event was produced the consumer had it. The anchor is the floor of any consumer of
these topics: a bare kafka-python consumer with the same settings that inserts each poll's records
into one table and commits (bench/anchor_consumer.py).

`--profile SERVICE` runs that consumer in this process under cProfile instead and prints where its
time goes. Benchmarks print figures; they never assert.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg

import benchlib
from zfcommon.devstack import stack

HERE = Path(__file__).resolve().parent
benchlib.services_on_path()
CONSUMERS = ("anchor", "ledger", "notify", "audit")
UNITS = ("县自然资源局", "县市场监督管理局")


# -- the events -------------------------------------------------------------------------------------
def make_events(servers: benchlib.LocalServers, cases: int, mix: str) -> list[tuple[str, str, bytes]]:
    """(topic, key, value) of every event intake stored for `cases` cases, in store order."""
    from intake.entrypoints.http import create_app
    from zfcommon import db
    from zfcommon.auth import issue_token
    from zfcommon.events.catalogue import topic_for
    from zfcommon.settings import Settings
    from intake_load import BODIES

    admin = servers.fresh_database()
    clock = servers.dir / "clock"
    clock.write_text("2026-11-23T09:00:00+08:00")       # a Monday
    secret = "bench-jwt-secret-with-enough-bytes-32"
    settings = Settings(service="intake", database_url=servers.service_url(admin, "intake"),
                        kafka_bootstrap_servers="127.0.0.1:1", jwt_algorithm="HS256", jwt_secret=secret,
                        contact_key="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", clock_file=str(clock),
                        log_level="WARNING")
    app = create_app(settings)
    client = app.test_client()

    def bearer(role="office", **scope):
        return {"Authorization": f"Bearer {issue_token(secret, role, 'bench', **scope)}"}
    office = bearer()
    for name in UNITS:
        client.post("/v1/directory/units", json={"name": name, "kind": "government_department",
                                                 "supervising_channel": "县监察局"}, headers=office)
    steps = [("assign", {"lead_unit": UNITS[0], "cooperating_units": [UNITS[1]], "handling_mode": "deadline"}, office),
             ("accept", {}, bearer("unit", unit=UNITS[0])),
             ("note-progress", {"note": "已约谈窗口负责人"}, bearer("unit", unit=UNITS[1])),
             ("report-rectified", {"text": "已完善一次性告知制度", "attachments": []}, bearer("unit", unit=UNITS[0])),
             ("close", {"comment": "整改到位"}, office)]
    for i in range(cases):
        resp = client.post("/v1/cases", data=BODIES[i % len(BODIES)], content_type="application/json",
                           headers={**office, "Idempotency-Key": uuid.uuid4().hex})
        if resp.status_code != 201:
            raise RuntimeError(f"POST /v1/cases: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        if mix == "lifecycle":
            for command, body, who in steps:
                r = client.post(f"/v1/cases/{resp.json['case_id']}/{command}", json=body, headers=who)
                if r.status_code != 200:
                    raise RuntimeError(f"{command}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    app.extensions["zf_pool"].close()
    with db.connect(servers.service_url(admin, "intake")) as conn:
        rows = conn.execute("SELECT stream_id, type, payload FROM events ORDER BY position").fetchall()
    # As the relay serialises them (zfcommon.relay.publish_batch).
    return [(topic_for(r["type"]), r["stream_id"],
             json.dumps(r["payload"], ensure_ascii=False, separators=(",", ":")).encode()) for r in rows]


def produce(bootstrap: str, events: list[tuple[str, str, bytes]], rate: float, tick: float = 0.01) -> float:
    """Send `events` at `rate` per second in small batches, one every `tick` seconds (as a relay woken
    by each commit would); returns when the last one was acknowledged."""
    from zfcommon import kafka
    producer = kafka.producer(bootstrap)
    headers = [kafka.CE_CONTENT_TYPE_HEADER, (kafka.EPOCH_HEADER, b"1")]
    t0 = time.monotonic()
    sent = 0
    while sent < len(events):
        due = min(len(events), int((time.monotonic() - t0) * rate) + 1)
        futures = [producer.send(t, key=k.encode(), value=v, headers=headers) for t, k, v in events[sent:due]]
        producer.flush(30)
        for f in futures:
            f.get(30)
        sent = due
        time.sleep(max(0.0, t0 + sent / rate - time.monotonic(), tick if sent < len(events) else 0))
    done = time.monotonic()
    producer.close(5)
    return done


# -- one round --------------------------------------------------------------------------------------
def consumer_env(servers: benchlib.LocalServers, admin: str, service: str, bootstrap: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}
    env.update({"DATABASE_URL": servers.service_url(admin, "ledger" if service == "anchor" else service),
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "ZF_JWT_SECRET": "bench-jwt-secret-with-enough-bytes-32",
                "ZF_PARTITIONS": str(servers.partitions), "ZF_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": os.pathsep.join([str(benchlib.ROOT / "services"), str(HERE)])})
    for passed in ("ZF_CONSUMER_LINGER_MS", "ZF_CONSUMER_BATCH"):     # to compare a setting's values
        if passed in os.environ:
            env[passed] = os.environ[passed]
    return env


def processed(url: str, table: str) -> int:
    from zfcommon import db
    with db.connect(url) as conn:
        return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def wait_for(check, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def round_for(servers: benchlib.LocalServers, service: str, events: list, warmup: list, args) -> dict:
    """One consumer, fresh database and empty broker: CPU per event at the rate."""
    admin = servers.fresh_database()
    bootstrap = servers.fresh_broker()
    url = servers.service_url(admin, "ledger" if service == "anchor" else service)
    if service == "anchor":
        from anchor_consumer import ANCHOR_TABLE_SQL
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(ANCHOR_TABLE_SQL)
    table = "bench_anchor_events" if service == "anchor" else "processed_events"
    argv = ([sys.executable, str(HERE / "anchor_consumer.py")] if service == "anchor"
            else [sys.executable, "-m", f"{service}.entrypoints.consumer"])
    log = open(servers.dir / f"{service}-consumer.log", "ab")
    proc = subprocess.Popen(argv, env=consumer_env(servers, admin, service, bootstrap), stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        produce(bootstrap, warmup, rate=1000)      # the group is joined once these arrived
        if not wait_for(lambda: processed(url, table) >= len(warmup), timeout=90):
            raise RuntimeError(f"{service}: the consumer never caught the warm-up events; see {log.name}")
        time.sleep(0.5)
        probe = benchlib.CpuProbe({f"{service}-consumer": proc.pid, "producer (bench)": os.getpid()},
                                  servers.pg.proc.pid).start()
        t_last = produce(bootstrap, events, args.rate)
        caught = wait_for(lambda: processed(url, table) >= len(warmup) + len(events), timeout=120, interval=0.01)
        lag = time.monotonic() - t_last
        cpu = probe.stop()
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    g = cpu["groups_s"]
    n = len(events)
    own, backend = g.get(f"{service}-consumer", 0.0), g.get(f"pg ← {service}-consumer", 0.0)
    return {"consumer": service, "events": n, "caught_up": caught, "caught_up_after_last_s": round(lag, 3),
            "consumer_ms_per_event": round(1000 * own / n, 4), "pg_ms_per_event": round(1000 * backend / n, 4),
            "total_ms_per_event": round(1000 * (own + backend) / n, 4), "cpu": cpu}


# -- profile --------------------------------------------------------------------------------------
def profile(servers: benchlib.LocalServers, service: str, events: list, warmup: list, args) -> str:
    """The consumer in this process under cProfile (CPU clock) while the events are produced."""
    import importlib

    from zfcommon import consumer as loop, kafka
    from zfcommon.events.catalogue import TOPICS
    admin = servers.fresh_database()
    bootstrap = servers.fresh_broker()
    url = servers.service_url(admin, service)
    mod = importlib.import_module(f"{service}.entrypoints.consumer")
    appliers = {"ledger": lambda: (mod.apply, getattr(mod, "apply_batch", None)),
                "audit": lambda: (mod.apply, mod.apply_batch)}
    if service == "notify":
        from notify.service_layer.fanout import applier, batch_applier
        apply, apply_batch = applier(hotline_on=False), batch_applier(hotline_on=False)
    else:
        apply, apply_batch = appliers[service]()
    kc = kafka.consumer(bootstrap, service, list(TOPICS))
    consumer = loop.EventConsumer(group=service, apply=apply, apply_batch=apply_batch, database_url=url,
                                  kafka_consumer=kc, dlq_producer=kafka.producer(bootstrap))
    stop = threading.Event()
    runner = threading.Thread(target=lambda: consumer.run(stop, poll_ms=100), daemon=True)
    produce(bootstrap, warmup, rate=1000)
    runner.start()
    wait_for(lambda: processed(url, "processed_events") >= len(warmup), timeout=90)
    stop.set()
    runner.join(10)
    prof = cProfile.Profile(time.process_time)
    producer = threading.Thread(target=produce, args=(bootstrap, events, args.rate))
    producer.start()
    stop.clear()
    prof.enable()
    deadline = time.monotonic() + args.seconds + 30
    while processed(url, "processed_events") < len(warmup) + len(events) and time.monotonic() < deadline:
        batch = consumer.consumer.poll(timeout_ms=100)
        if batch:
            consumer.handle(batch)
    prof.disable()
    producer.join()
    kc.close()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=500.0, help="events per second (500)")
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds of events per round (10)")
    ap.add_argument("--mix", choices=("received", "lifecycle"), default="received",
                    help="received: new cases only, as `make bench` sends; lifecycle: each case received, "
                         "assigned, signed for, progress noted, rectification reported, closed")
    ap.add_argument("--consumers", default=",".join(CONSUMERS), help="which, in order (%(default)s)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds per consumer, for the spread (1)")
    ap.add_argument("--partitions", type=int, default=stack.PARTITIONS,
                    help=f"partitions per topic, as zf up makes them ({stack.PARTITIONS})")
    ap.add_argument("--profile", choices=CONSUMERS[1:], help="cProfile one consumer in-process instead")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    servers = benchlib.LocalServers(partitions=args.partitions)
    try:
        total = int(args.rate * args.seconds)
        per_case = 1 if args.mix == "received" else 6
        log(f"making {total} events through intake's app ({args.mix}) …")
        made = make_events(servers, total // per_case + 20 // per_case + 1, args.mix)
        warmup, events = made[:20], made[20:20 + total]
        if args.profile:
            print(profile(servers, args.profile, events, warmup, args))
            return 0
        started = datetime.now(timezone.utc)
        rounds: dict[str, list[dict]] = {}
        for r in range(args.rounds):
            for service in [c.strip() for c in args.consumers.split(",") if c.strip()]:
                log(f"round {r + 1}: {service} at {args.rate:g} events/s for {args.seconds:g} s …")
                rounds.setdefault(service, []).append(round_for(servers, service, events, warmup, args))
    finally:
        servers.close()
    result = {"started_at": started.isoformat(timespec="seconds"), "rate": args.rate, "seconds": args.seconds,
              "mix": args.mix, "events": len(events), "partitions": args.partitions,
              "machine": {"cores": os.cpu_count(), "loadavg": os.getloadavg()[0]},
              "consumers": {s: {"total_ms_per_event": benchlib.spread([x["total_ms_per_event"] for x in rs]),
                                "consumer_ms_per_event": benchlib.spread([x["consumer_ms_per_event"] for x in rs]),
                                "pg_ms_per_event": benchlib.spread([x["pg_ms_per_event"] for x in rs]),
                                "caught_up_after_last_s": benchlib.spread([x["caught_up_after_last_s"] for x in rs]),
                                "all_caught_up": all(x["caught_up"] for x in rs), "rounds": rs}
                            for s, rs in rounds.items()}}
    path = benchlib.save_result("consumers", result)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"consumer cost  {result['started_at']}  {len(events)} events ({args.mix}) at {args.rate:g}/s, "
          f"{args.partitions} partitions, {args.rounds} round(s); load avg {result['machine']['loadavg']:.2f}\n")
    print(f"  {'consumer':<10}{'CPU ms/event':>14}{'  (process + pg)':<22}{'caught up':>12}  vs anchor")
    anchor = result["consumers"].get("anchor", {}).get("total_ms_per_event", {}).get("median")
    for s, c in result["consumers"].items():
        t = c["total_ms_per_event"]
        ratio = f"  {t['median'] / anchor:>6.2f}x" if anchor else ""     # (without an anchor round: none)
        print(f"  {s:<10}{t['median']:>14.3f}  ({c['consumer_ms_per_event']['median']:.3f} + "
              f"{c['pg_ms_per_event']['median']:.3f}){'':<5}{c['caught_up_after_last_s']['median']:>10.2f} s{ratio}")
        if args.rounds > 1:
            print(f"  {'':<10}{'runs: ' + ', '.join(f'{v:.3f}' for v in t['runs']):>30}")
    print(f"\n(results: {path.relative_to(benchlib.ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
