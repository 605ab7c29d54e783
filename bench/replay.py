"""Rebuilding ledger's and notify's projections from a large audit trail, and verifying that trail.

    .venv/bin/python bench/replay.py [--events 1000000] [--template-cases 200] [--batch N]

How the trail is built (say it when quoting the figures): intake's real Flask app receives
`--template-cases` cases and takes each through its lifecycle (as bench/consumer_cost.py --mix
lifecycle does); those real events are then copied, each copy of a case with new case and event ids
(the case number too), until the trail holds `--events` events, and appended through audit's own
`trail.apply_batch` (trail rows, hash chain, Merkle leaves, one transaction per 5,000 events), with
the tracking rows as the consumer writes them. Then `audit verify` (audit.service_layer.verify
over the whole trail) and, each into a fresh database:

  ledger rebuild   as `python -m ledger.entrypoints.rebuild` runs it: zfcommon.rebuild's
                   rebuild_in_parallel with ledger's route, rebuild_batch and batch size, in
                   `--workers` processes (the command's default; 1: rebuild in this process),
                   reading the trail in one stream from audit's real HTTP API
                   (`GET /v1/events/stream`, served by a process of its own)
  notify rebuild   the same with notify's route, apply_batch and batch size (`--batch` to try another)

and reports events per second (aim of issue 11: rebuilds ≥ 20,000 events/s; verify of 1,000,000
entries ≤ 10 s). The anchors, same run: reading the stream alone (bytes, no parsing), and reading it
and loading each event as the rebuilds do (load_stored), applying nothing (the floor of a rebuild
in one process through the API). Finally it checks on the first 3,000 events that each table
rebuilt from them the same way (in batches of 500, so the workers interleave) equals a projection
applied event by event (the live consumer's way). Each figure goes to stderr as soon as it is
measured, the summary to stdout at the end. Benchmarks print figures; they never assert.
"""
from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
import time
import uuid

import benchlib

benchlib.services_on_path()
SECRET = "bench-jwt-secret-with-enough-bytes-32"


def copies(template: list[dict], n: int):
    """`n` events: the template's events again and again, each round with new case and event ids."""
    made = 0
    for round_ in range(10 ** 9):
        renamed: dict[str, str] = {}
        for payload in template:
            if made >= n:
                return
            event = dict(payload)
            subject = event["subject"]
            if subject.startswith("case-") or len(subject) == 36:
                if round_:
                    renamed.setdefault(subject, str(uuid.uuid4()))
                    event["subject"] = renamed[subject]
            elif round_:
                continue            # directory and other streams: once
            if round_:
                event["id"] = str(uuid.uuid4())
                data = dict(event.get("data") or {})
                if "case_number" in data:
                    data["case_number"] = f"ZF-{2026 + round_ // 900000}-{(round_ * 1000 + made) % 1000000:06d}"
                    event["data"] = data
            made += 1
            yield event


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--template-cases", type=int, default=200)
    ap.add_argument("--batch", type=int, help="events per notify rebuild transaction (default: notify's rebuild, BATCH)")
    ap.add_argument("--workers", type=int, help="rebuild processes (default: the rebuild command's)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import requests

    import consumer_cost
    from audit.adapters import trail
    from audit.service_layer.verify import verify
    from ledger.adapters.repository import apply as ledger_apply
    from ledger.adapters.repository import rebuild_batch as ledger_batch
    from ledger.entrypoints.rebuild import BATCH as LEDGER_BATCH
    from ledger.entrypoints.rebuild import ROUTE as LEDGER_ROUTE
    from notify.adapters.repository import apply as notify_apply
    from notify.adapters.repository import apply_batch as notify_batch
    from notify.entrypoints.rebuild import BATCH as NOTIFY_BATCH
    from notify.entrypoints.rebuild import ROUTE as NOTIFY_ROUTE
    from zfcommon import db
    from zfcommon.auth import issue_token
    from zfcommon.consumer import apply_fresh, apply_once
    from zfcommon.events import load_stored, parse_event
    from zfcommon.events.catalogue import topic_for
    from zfcommon.rebuild import DEFAULT_WORKERS, TrailStream, rebuild_lines
    from zfcommon.devstack.ports import free_port

    servers = benchlib.LocalServers()
    result: dict = {"events": args.events, "machine": {"cores": benchlib.os.cpu_count()}}
    try:
        print(f"making the template: {args.template_cases} cases through intake's app …", file=sys.stderr)
        template = [json.loads(v) for _, _, v in consumer_cost.make_events(servers, args.template_cases, "lifecycle")]
        admin = servers.fresh_database()
        audit_url = servers.service_url(admin, "audit")
        print(f"appending {args.events} events to the trail …", file=sys.stderr)
        t0 = time.monotonic()
        with db.connect(audit_url) as conn:
            chunk: list = []
            for n, payload in enumerate(copies(template, args.events), 1):
                event = parse_event(payload)
                chunk.append((event.topic, event))
                if len(chunk) == 5000:
                    apply_fresh(conn, chunk, trail.apply_batch)
                    conn.commit()
                    chunk = []
                    sys.stderr.write(f"\r  {n} appended")
            if chunk:
                apply_fresh(conn, chunk, trail.apply_batch)
                conn.commit()
        result["trail_build_s"] = round(time.monotonic() - t0, 1)
        sys.stderr.write("\n")
        _say(f"trail built: {args.events} events in {result['trail_build_s']} s through trail.apply_batch")
        with db.connect(audit_url) as conn:
            t = time.monotonic()
            problems = verify(conn, lambda *_: None)
            result["audit_verify"] = {"entries": args.events, "s": round(time.monotonic() - t, 2),
                                      "problems": len(problems)}
        _say(f"audit verify: {result['audit_verify']}")

        # audit's API in a process of its own, as the rebuild command meets it (not sharing its GIL)
        port = free_port()
        server = multiprocessing.get_context("fork").Process(target=_serve_audit, args=(audit_url, port), daemon=True)
        server.start()
        api = f"http://127.0.0.1:{port}"
        if not consumer_cost.wait_for(lambda: _answers(api), timeout=30):
            raise RuntimeError("audit's API did not start")
        token = issue_token(SECRET, "auditor", "bench-replay", ttl_seconds=7200)
        try:
            t = time.monotonic()
            with requests.get(f"{api}/v1/events/stream", headers={"Authorization": f"Bearer {token}"},
                              stream=True) as resp:
                read = sum(chunk.count(b"\n") for chunk in resp.iter_content(256 * 1024))
            result["anchor_read_stream"] = {"events": read, "s": round(time.monotonic() - t, 2),
                                            "events_per_s": round(read / (time.monotonic() - t))}
            _say(f"anchor, read the stream: {result['anchor_read_stream']}")
            t = time.monotonic()
            read = sum(1 for _ in TrailStream(api, token))
            result["anchor_read_parse"] = {"events": read, "s": round(time.monotonic() - t, 2),
                                           "events_per_s": round(read / (time.monotonic() - t))}
            _say(f"anchor, read + load: {result['anchor_read_parse']}")
            workers = args.workers or DEFAULT_WORKERS
            for service, apply, batch, size, route in (
                    ("ledger", ledger_apply, ledger_batch, LEDGER_BATCH, LEDGER_ROUTE),
                    ("notify", notify_apply, notify_batch, args.batch or NOTIFY_BATCH, NOTIFY_ROUTE)):
                url = servers.service_url(servers.fresh_database(), service)
                shown = [0.0]

                def progress(n, service=service, shown=shown):
                    if time.monotonic() - shown[0] > 2:
                        shown[0] = time.monotonic()
                        sys.stderr.write(f"\r  {service}: {n} replayed")
                t = time.monotonic()
                applied = rebuild_lines(url, apply, TrailStream(api, token).lines(), route, progress, batch=size,
                                        apply_batch=batch, workers=workers)
                s = time.monotonic() - t
                sys.stderr.write("\n")
                result[f"{service}_rebuild"] = {"applied": applied, "s": round(s, 2), "batch": size,
                                                "workers": workers, "events_per_s": round(applied / s)}
                _say(f"{service} rebuild: {result[f'{service}_rebuild']}")
                # The same first 3,000 events applied one by one (the live consumer's way): equal tables?
                first = [line for _, (_, line) in zip(range(3000), TrailStream(api, token).lines())]
                one_by_one = servers.service_url(servers.fresh_database(), service)
                set_wise = servers.service_url(servers.fresh_database(), service)
                with db.connect(one_by_one) as conn:
                    for line in first:
                        e = load_stored(line)
                        apply_once(conn, e, topic_for(e.type), apply)
                    conn.commit()
                rebuild_lines(set_wise, apply, enumerate(first, 1), route, batch=500, apply_batch=batch, workers=workers)
                tables = ("cases", "case_events", "unit_month_figures") if service == "ledger" else ("watched_cases",)
                same = all(_snapshot(one_by_one, t) == _snapshot(set_wise, t) for t in tables)
                result[f"{service}_rebuild"]["equals_event_by_event_on_3000"] = same
                _say(f"{service} rebuild equals event-by-event on the first 3,000: {same}")
        finally:
            server.terminate()
            server.join(10)
    finally:
        servers.close()
    benchlib.save_result("replay", result)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"replay  {args.events} events (copies of {args.template_cases} real lifecycle cases); "
          f"trail built in {result['trail_build_s']} s through trail.apply_batch\n")
    a = result["anchor_read_stream"]
    print(f"  anchor: read the stream, no parsing  {a['events_per_s']:>8} events/s  ({a['s']} s)")
    a = result["anchor_read_parse"]
    print(f"  anchor: read the stream + load       {a['events_per_s']:>8} events/s  ({a['s']} s)")
    for service in ("ledger", "notify"):
        r = result[f"{service}_rebuild"]
        print(f"  {service} rebuild (aim ≥ 20,000/s)    {r['events_per_s']:>8} events/s  ({r['s']} s, {r['workers']} workers); "
              f"equals event-by-event on 3,000: {r['equals_event_by_event_on_3000']}")
    v = result["audit_verify"]
    print(f"  audit verify of {v['entries']} entries     {v['s']:>8} s  (aim ≤ 10 s for 1,000,000); "
          f"problems: {v['problems']}")
    return 0


def _serve_audit(audit_url: str, port: int) -> None:
    from werkzeug.serving import make_server

    from audit.entrypoints.http import create_app
    from zfcommon.settings import Settings
    app = create_app(Settings(service="audit", database_url=audit_url, kafka_bootstrap_servers="127.0.0.1:1",
                              jwt_secret=SECRET, jwt_algorithm="HS256", log_level="WARNING"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)     # no line per page
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def _answers(api: str) -> bool:
    import requests
    try:
        return requests.get(f"{api}/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def _say(line: str) -> None:
    """Each figure as soon as it is measured (a 1,000,000-event run takes long)."""
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {line}\n")
    sys.stderr.flush()


def _snapshot(url: str, table: str) -> list:
    from zfcommon import db
    with db.connect(url) as conn:
        rows = conn.execute(f"SELECT * FROM {table}").fetchall()
    return sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows)


if __name__ == "__main__":
    sys.exit(main())
