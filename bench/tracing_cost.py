"""What tracing costs, off (the default) and on, on the event path (docs/BENCHMARKS.md "Tracing").

    .venv/bin/python bench/tracing_cost.py [--requests 300] [--rounds 4] [--json]

Needs no running stack: it starts its own embedded PostgreSQL in a temporary folder, migrates it, and
builds intake's real Flask app in this process twice: once with tracing off and once with tracing on
(the SDK with a batch span processor whose exporter drops the spans, so no collector is involved). It then

  hooks      times each tracing hook as the hot paths call it (ns per call), off and on: the unit of
             work's transaction span, the event's trace context, the relay's record headers, one
             consumer batch's spans (per event)
  POST       drives `POST /v1/cases` through Flask's test client, one request at a time, off and on in
             alternating rounds (ABAB, so outside load hits both alike), and reports this process's CPU
             milliseconds per request (the figure that bounds throughput once the cores are busy)

The cases it creates stay in the temporary database, which is removed at the end. Benchmarks are never
assertions: the exit status is 0 whatever the figures.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import timeit
import uuid
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

JWT_SECRET = "bench-jwt-secret-with-enough-bytes-32"
CONTACT_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="   # base64 of 32 bytes, benchmark only


def tracing_on():
    """A provider as configure() builds it, with an exporter that drops what it is given."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Dropping(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropping()))
    return provider


def hook_costs(number: int) -> dict[str, float]:
    """ns per call of each hook as the hot paths call it, in the current state (off or on)."""
    from tests.unit.fakes import received_event
    from zfcommon import tracing

    payload = received_event().to_dict()
    event = received_event()
    record = SimpleNamespace(topic="intake.case.events", partition=0, offset=1, headers=[], value=b"")
    headers = [("zf-epoch", b"1")]

    def transaction():
        tracing.finish(tracing.transaction())

    def consuming():
        with tracing.consuming("ledger", [(record, event)]):
            pass

    def trace_context():
        # as new_event calls it: inside the request's span (no span at all while off)
        with (tracing._tracer.start_as_current_span("request") if tracing.enabled() else nullcontext()):
            t0 = time.perf_counter_ns()
            for _ in range(number):
                tracing.trace_context()
            return time.perf_counter_ns() - t0

    costs = {"event trace context": min(trace_context() for _ in range(5)) / number}
    hooks = {"unit of work transaction": transaction,
             "relay record headers": lambda: tracing.publish_headers(payload, headers),
             "consumer spans (per event)": consuming}
    return {**costs, **{name: min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e9
                        for name, fn in hooks.items()}}


def spans_per_post(client, body: bytes, headers: dict) -> dict[str, int]:
    """The spans one POST makes, by name: how often each hook runs per request."""
    from collections import Counter

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from zfcommon import tracing

    exporter, provider = InMemorySpanExporter(), TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    post_cpu(client, [body], headers, 1)
    tracing.uninstall()
    return dict(Counter(s.name for s in exporter.get_finished_spans()))


def post_cpu(client, bodies: list[bytes], headers: dict, n: int) -> float:
    """CPU ms of this process per POST /v1/cases."""
    c0 = time.process_time()
    for i in range(n):
        r = client.post("/v1/cases", data=bodies[i % len(bodies)], content_type="application/json",
                        headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        if r.status_code != 201:
            raise RuntimeError(f"HTTP {r.status_code} {r.get_data(as_text=True)[:300]}")
    return 1000 * (time.process_time() - c0) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="POSTs per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each (off and on alternate)")
    parser.add_argument("--hook-calls", type=int, default=20000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import psycopg

    from tests.support import complaint
    from zfcommon import db, tracing
    from zfcommon.auth import issue_token
    from zfcommon.devstack.ports import free_port
    from zfcommon.devstack.postgres import LocalPostgres
    from zfcommon.devstack.stack import migrate_all
    from zfcommon.settings import Settings

    from intake.entrypoints.http import create_app

    result: dict = {"hooks_ns": {}}
    result["hooks_ns"]["off"] = hook_costs(args.hook_calls)
    provider = tracing_on()
    tracing.install(provider)
    result["hooks_ns"]["on"] = hook_costs(args.hook_calls // 10)
    tracing.uninstall()

    with tempfile.TemporaryDirectory(prefix="zf-tracing-bench-") as tmp:
        pg = LocalPostgres(Path(tmp) / "pg", free_port()).start()
        try:
            with psycopg.connect(pg.url, autocommit=True) as conn:
                conn.execute('CREATE DATABASE "bench"')
            passwords = {s: f"bench-{s}-pw" for s in ("intake", "ledger", "notify", "audit", "console")}
            migrate_all(pg.admin_url("bench"), passwords)
            settings = Settings(service="intake", kafka_bootstrap_servers="127.0.0.1:1", jwt_algorithm="HS256", jwt_secret=JWT_SECRET,
                                contact_key=CONTACT_KEY, log_level="WARNING",
                                database_url=db.service_url(pg.admin_url("bench"), "intake", passwords["intake"]))
            off_app = create_app(settings)
            tracing.install(provider)
            on_app = create_app(settings)          # built while on: its request hooks are registered
            tracing.uninstall()
            logging.getLogger().setLevel(logging.WARNING)
            headers = {"Authorization": f"Bearer {issue_token(JWT_SECRET, 'office', 'bench')}"}
            bodies = [json.dumps(complaint(description=f"第{i}号：窗口推诿，不一次性告知所需材料"),
                                 ensure_ascii=False).encode() for i in range(50)]
            apps = {"off": off_app.test_client(), "on": on_app.test_client()}
            result["spans_per_post"] = spans_per_post(apps["on"], bodies[0], headers)
            for state, client in apps.items():           # warm-up
                (tracing.install(provider) if state == "on" else tracing.uninstall())
                post_cpu(client, bodies, headers, 50)
            rounds: dict[str, list[float]] = {"off": [], "on": []}
            for _ in range(args.rounds):
                for state in ("off", "on"):
                    (tracing.install(provider) if state == "on" else tracing.uninstall())
                    rounds[state].append(post_cpu(apps[state], bodies, headers, args.requests))
            tracing.uninstall()
            provider.shutdown()
            for app in (off_app, on_app):
                app.extensions["zf_pool"].close()
        finally:
            pg.stop()
    result["post_cpu_ms"] = {s: {"median": statistics.median(v), "rounds": v} for s, v in rounds.items()}
    off, on = result["post_cpu_ms"]["off"]["median"], result["post_cpu_ms"]["on"]["median"]
    result["post_on_over_off"] = on / off
    # Off, a POST calls the transaction hook pair once per unit of work and the context hook once per
    # event (the request hooks are not even registered); an event is one per POST here.
    per_post_off = (result["hooks_ns"]["off"]["unit of work transaction"] * result["spans_per_post"]["transaction"]
                    + result["hooks_ns"]["off"]["event trace context"])
    result["off_hooks_share_of_post"] = per_post_off / (off * 1e6)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print("hook                          off ns/call   on ns/call")
    for name in result["hooks_ns"]["off"]:
        print(f"{name:28s} {result['hooks_ns']['off'][name]:12.0f} {result['hooks_ns']['on'][name]:12.0f}")
    print(f"\nPOST /v1/cases, CPU ms per request of this process (median of {args.rounds} rounds of {args.requests}):")
    print(f"  off {off:.3f}   on {on:.3f}   on/off {on / off:.3f}")
    print(f"  spans of one POST: {result['spans_per_post']}")
    print(f"  off, the hooks a POST calls ≈ {per_post_off:.0f} ns "
          f"= {100 * result['off_hooks_share_of_post']:.4f} % of its CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
