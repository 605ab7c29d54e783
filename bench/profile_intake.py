"""Where intake's `POST /v1/cases` spends CPU, measured in-process against a running `make up`.

    .venv/bin/python bench/profile_intake.py [--requests 300] [--rounds 5] [--cprofile]

The load test (intake_load.py) says how fast intake is next to the anchor; this says why. It builds
intake's real Flask app (`intake.entrypoints.http:create_app()`) in this process, with the stack's
settings and database, and drives it with Flask's test client, one request at a time, so nothing
competes: the figures are CPU milliseconds per request, which is what bounds throughput once the
cores are busy. For each request it measures

  app CPU        this process (Flask, validation, auth, psycopg's client side, events, logging,
                 metrics), less the test client's own cost (a bare GET measured the same way)
  PostgreSQL CPU the backend serving this process's pool (found by application_name in /proc)
  round trips    times that backend blocked waiting per request (voluntary context switches: one
                 per client round trip, plus the commit's WAL flush when it waits for it)

and then the same with one change at a time ("variants", monkeypatched here, nothing in services/
is edited), so each proposed change comes with its measured effect; "undo: …" variants put back how a
change already made did it, so its effect stays measurable in the same run. The anchor app is measured the
same way for reference. The cases it creates are real: the relay and the consumers process them.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import json
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import proc_cpu  # noqa: E402

APP_NAME = "bench-profile"


def stack_env(home: Path) -> dict:
    status = json.loads((home / "run" / "status.json").read_text())
    secrets = json.loads((home / "secrets.json").read_text())
    admin = status["postgres"]["admin_url"]
    return {"admin": admin, "status": status, "secrets": secrets, "jwt_keys": str(home / "jwt-keys.json")}


def backend_pids(admin: str) -> list[int]:
    import psycopg
    with psycopg.connect(admin, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                           (APP_NAME,))]


def proc_waits(pid: int) -> int:
    """Voluntary context switches: a backend blocks once per client round trip (and per WAL flush)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    return 0


# -- variants: each patches the live modules and returns a function that undoes it ---------------
def _patch(obj, name, value, undo: list) -> None:
    undo.append((obj, name, getattr(obj, name)))
    setattr(obj, name, value)


def _patch_everywhere(original, replacement, undo: list) -> int:
    """Replace every module-level reference to `original` in intake/zfcommon modules (code moves)."""
    n = 0
    for name, mod in list(sys.modules.items()):
        if mod is None or not name.startswith(("intake.", "zfcommon.")):
            continue
        for attr, value in list(vars(mod).items()):
            if value is original:
                _patch(mod, attr, replacement, undo)
                n += 1
    if not n:
        raise RuntimeError(f"nothing refers to {original!r} any more: update this variant")
    return n


def v_no_access_log(app, undo):
    """The JSON access-log line written for every request."""
    lg = logging.getLogger("zfcommon.web")
    undo.append((lg, "level", lg.level))
    lg.setLevel(logging.WARNING)


def v_no_metrics(app, undo):
    """Prometheus multiprocess counters/histograms (mmap files) on every request and event."""
    from zfcommon import metrics

    class Nop:
        def labels(self, *a, **k):
            return self

        def inc(self, *a):
            pass

        def observe(self, *a):
            pass
    for name in ("HTTP_REQUESTS", "HTTP_LATENCY", "EVENTS_STORED"):
        _patch(metrics, name, Nop(), undo)


def v_no_event_revalidation(app, undo):
    """new_event() serialises, re-parses and re-validates (marshmallow) every event it builds."""
    import uuid as _uuid
    from datetime import datetime, timezone

    from zfcommon import events
    from zfcommon.events import Event

    def new_event(*, service, type, subject, data, streamversion, correlationid, actor, time=None):
        return Event(id=str(_uuid.uuid4()), source=f"/zhengfeng/{service}", type=type, subject=subject,
                     time=time or datetime.now(timezone.utc), data=data, streamversion=streamversion,
                     correlationid=correlationid, actor=actor)
    _patch_everywhere(events.envelope.new_event, new_event, undo)


class _Collector:
    """The garbage collector's thresholds and frozen objects as one attribute a variant sets and undoes."""
    @property
    def state(self):
        return gc.get_threshold(), gc.get_freeze_count() > 0

    @state.setter
    def state(self, value):
        threshold, frozen = value
        gc.set_threshold(*threshold)
        if frozen:
            gc.collect()
            gc.freeze()
        else:
            gc.unfreeze()


COLLECTOR = _Collector()


def v_gc_frozen(app, undo):
    """The objects alive once the app is built moved out of the collector's scans (gc.freeze)."""
    _patch(COLLECTOR, "state", (gc.get_threshold(), True), undo)


def v_gc_frozen_rarer(app, undo):
    """gc.freeze, and a young generation collected every 10,000 allocations instead of 700 (3.11's)."""
    _patch(COLLECTOR, "state", ((10_000, 10, 10), True), undo)


# -- "undo" variants: put back how a past change did it, so its effect is measured in the same run --
def u_tokens_verified_each_time(app, undo):
    """Before VerifiedTokens: every request's bearer token verified afresh (signature, claims)."""
    from zfcommon import auth
    original = auth.principal_from_header

    def principal_from_header(key, header, verified=None):
        return original(key, header, verified=None)
    _patch_everywhere(original, principal_from_header, undo)


def u_schemas_built_each_time(app, undo):
    """Before the parser kept one instance per argument schema: webargs builds it per request."""
    from webargs.flaskparser import FlaskParser

    from zfcommon import inputs
    _patch(inputs.RequestParser, "_get_schema", FlaskParser._get_schema, undo)


def u_writes_as_they_come(app, undo):
    """Before: a command's unit of work sent each write as it came, in a transaction (BEGIN, the reads,
    the contact key, the events, the request index, the Idempotency-Key's answer, COMMIT)."""
    from intake.entrypoints import common
    _patch(common, "command_uow", lambda: common.uow(write_behind=False), undo)


def u_bodies_through_webargs(app, undo):
    """Before a JSON body went first through its compiled schema: webargs and marshmallow load it."""
    from marshmallow import missing

    from zfcommon import inputs
    _patch(inputs.RequestParser, "_vouched_body", lambda self, *a, **k: missing, undo)


VARIANTS = {
    "as is": [],
    "undo: tokens verified every request": [u_tokens_verified_each_time],
    "undo: argument schema built every request": [u_schemas_built_each_time],
    "undo: writes sent as they come": [u_writes_as_they_come],
    "undo: body loaded by webargs and marshmallow": [u_bodies_through_webargs],
    "undo: all four": [u_tokens_verified_each_time, u_schemas_built_each_time, u_writes_as_they_come,
                       u_bodies_through_webargs],
    "no access-log line": [v_no_access_log],
    "no Prometheus metrics": [v_no_metrics],
    "new_event without re-validation": [v_no_event_revalidation],
    "gc: startup objects frozen": [v_gc_frozen],
    "gc: frozen, young generation every 10,000": [v_gc_frozen_rarer],
}


def build_intake_app(env: dict):
    from zfcommon.db import service_url
    os.environ.update({
        "DATABASE_URL": service_url(env["admin"], "intake", env["secrets"]["db_passwords"]["intake"])
        + f" application_name={APP_NAME}",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{env['status']['broker']['port']}",
        "ZF_JWT_KEYS": env["jwt_keys"],           # `zf up` signs tokens with EdDSA (zfcommon.jwks)
        "ZF_CONTACT_KEY": env["secrets"]["contact_key"],
    })
    from intake.entrypoints.http import create_app
    app = create_app()
    app.extensions["zf_pool"].wait(10)
    return app


def measure(app, path: str, bodies: list[bytes], headers: dict, n: int, admin: str, get: bool = False) -> dict:
    client = app.test_client()

    def one(i: int) -> None:
        h = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        if get:
            r = client.get(path, headers=h)
        else:
            r = client.post(path, data=bodies[i % len(bodies)], headers=h, content_type="application/json")
        if r.status_code >= 300:
            raise RuntimeError(f"{path}: HTTP {r.status_code} {r.get_data(as_text=True)[:300]}")
    for i in range(min(100, n)):
        one(i)
    pids = backend_pids(admin)
    cpu0, rd0 = sum(proc_cpu(p) for p in pids), sum(proc_waits(p) for p in pids)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        one(i)
    c1, t1 = time.process_time(), time.perf_counter()
    cpu1, rd1 = sum(proc_cpu(p) for p in pids), sum(proc_waits(p) for p in pids)
    return {"app_ms": 1000 * (c1 - c0) / n, "pg_ms": 1000 * (cpu1 - cpu0) / n,
            "wall_ms": 1000 * (t1 - t0) / n, "round_trips": (rd1 - rd0) / n, "backends": len(pids)}


# Inclusive CPU of the parts of a POST, by (file suffix, function name); they may overlap where noted.
AREAS = [
    ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
    ("body validation (webargs + marshmallow CaseIn)", "webargs/core.py", "parse"),
    ("bearer token check (PyJWT)", "zfcommon/auth.py", "principal_from_header"),
    ("idempotency + command (run_command)", "zfcommon/idempotency.py", "run_command"),
    ("  idempotency lookup", "zfcommon/idempotency.py", "find"),
    ("  idempotency remember", "zfcommon/idempotency.py", "remember"),
    ("  load_directory (version query, cached replay)", "service_layer/handlers.py", "load_directory"),
    ("  parse_event (re-validates stored events)", "events/envelope.py", "parse_event"),
    ("  case number (sequence)", "adapters/case_numbers.py", "issue"),
    ("  seal complainant (AES-GCM + INSERT)", "adapters/contacts.py", "seal"),
    ("  new_event (build + re-validate)", "events/envelope.py", "new_event"),
    ("  EventStore.append (held: the statement's parts)", "zfcommon/eventstore.py", "append"),
    ("  pool getconn", "psycopg_pool/pool.py", "getconn"),
    ("  commit (the held writes as one statement)", "zfcommon/uow.py", "commit"),
    ("psycopg Connection.execute, all statements", "psycopg/connection.py", "execute"),
    ("response body (marshmallow dump)", "marshmallow/schema.py", "dump"),
    ("logging (Logger.info calls, incl. the access line)", "logging/__init__.py", "info"),
    ("Prometheus counter + histogram", "prometheus_client/metrics.py", "inc"),
    ("  histogram observe", "prometheus_client/metrics.py", "observe"),
]


def breakdown(stats: pstats.Stats) -> dict:
    """Shares of the profiled request CPU: named areas (inclusive) and self time by package."""
    entries = stats.stats  # (file, line, func) -> (cc, nc, tt, ct, callers)
    total = max(e[3] for (f, _, fn), e in entries.items() if fn == "wsgi_app")
    areas = []
    for label, suffix, func in AREAS:
        match = [e for (f, _, fn), e in entries.items() if fn == func and f.endswith(suffix)]
        areas.append((label, sum(e[3] for e in match) / total, sum(e[1] for e in match)))
    by_pkg: dict[str, float] = {}
    for (f, _, fn), e in entries.items():
        if "site-packages/" in f:
            key = f.split("site-packages/")[1].split("/")[0]
        elif "/services/" in f:
            key = "/".join(f.split("/services/")[1].split("/")[:2])
        elif f == "~":
            key = "C: " + fn.strip("<>{}").replace("built-in method ", "").replace("method ", "")[:50]
        else:
            key = "stdlib " + Path(f).stem
        by_pkg[key] = by_pkg.get(key, 0) + e[2] / total
    return {"areas": areas, "self_by_package": sorted(by_pkg.items(), key=lambda kv: -kv[1])[:15]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=300, help="requests per measurement (300)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="rounds, variants in alternating order; CPU figures are the least of them (5)")
    ap.add_argument("--cprofile", action="store_true", help="also print the top functions (CPU) of 'as is'")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    home = Path(os.environ.get("ZF_HOME", ".zf")).absolute()
    if not (home / "run" / "status.json").exists():
        print(f"profile_intake: no `zf up` under {home}; run `make up` first", file=sys.stderr)
        return 2
    env = stack_env(home)
    # Like the stack: metrics in a multiprocess directory, logs to a file (stderr goes there).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-prof-metrics-")
    log_file = tempfile.NamedTemporaryFile(prefix="bench-prof-", suffix=".log", delete=False)
    saved_stderr = os.dup(2)
    os.dup2(log_file.fileno(), 2)
    try:
        from intake_load import BODIES
        from zfcommon.auth import issue_token
        import anchor_app
        import psycopg
        from psycopg.conninfo import make_conninfo

        from zfcommon.jwks import FileSigner
        token = issue_token(FileSigner(env["jwt_keys"]), "office", "bench")
        headers = {"Authorization": f"Bearer {token}"}
        app = build_intake_app(env)
        with psycopg.connect(env["admin"], autocommit=True) as conn:
            conn.execute(anchor_app.DROP_SQL)
            conn.execute(anchor_app.SCHEMA_SQL)
        os.environ["BENCH_DATABASE_URL"] = make_conninfo(env["admin"], application_name=APP_NAME)
        anchor = anchor_app.create_app()

        rows: dict[str, list[dict]] = {}
        floor = []
        order = list(VARIANTS.items())
        for rnd in range(args.rounds):
            floor.append(measure(anchor, "/healthz", BODIES, headers, args.requests, env["admin"], get=True))
            rows.setdefault("anchor (insert+commit)", []).append(
                measure(anchor, "/anchor", BODIES, headers, args.requests, env["admin"]))
            for name, patches in (order if rnd % 2 == 0 else order[::-1]):
                undo: list = []
                for p in patches:
                    p(app, undo)
                try:
                    rows.setdefault(name, []).append(measure(app, "/v1/cases", BODIES, headers, args.requests,
                                                             env["admin"]))
                finally:
                    for obj, attr, old in reversed(undo):
                        if attr == "level":
                            obj.setLevel(old)
                        else:
                            setattr(obj, attr, old)
        prof_text = ""
        if args.cprofile:
            prof = cProfile.Profile(time.process_time)
            prof.enable()
            measure(app, "/v1/cases", BODIES, headers, args.requests, env["admin"])
            prof.disable()
            prof_text = breakdown(pstats.Stats(prof))
            prof_text["requests"] = args.requests + min(100, args.requests)   # measure() warms up with 100
        with psycopg.connect(env["admin"], autocommit=True) as conn:
            conn.execute(anchor_app.DROP_SQL)
    finally:
        os.dup2(saved_stderr, 2)

    test_client_ms = min(f["app_ms"] for f in floor)
    result = {"requests_per_measurement": args.requests, "rounds": args.rounds,
              "test_client_floor_ms": round(test_client_ms, 3), "rows": {}}
    for name, ms in rows.items():
        # CPU: the least of the rounds (noise from a shared machine only ever adds); the rest: median
        med = {k: min(m[k] for m in ms) for k in ("app_ms", "pg_ms")}
        med.update({k: statistics.median(m[k] for m in ms) for k in ("wall_ms", "round_trips")})
        med["app_ms"] -= test_client_ms
        med["total_ms"] = med["app_ms"] + med["pg_ms"]
        result["rows"][name] = {k: round(v, 3) for k, v in med.items()}
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    base = result["rows"]["as is"]["total_ms"]
    print(f"CPU per request, in-process, least of {args.rounds} rounds x {args.requests} requests "
          f"(test client's own {test_client_ms:.3f} ms taken off app CPU)\n")
    print(f"  {'':50}{'app ms':>8}{'pg ms':>8}{'total':>8}{'vs as is':>10}{'trips':>7}{'wall ms':>9}")
    for name, r in result["rows"].items():
        print(f"  {name:<50}{r['app_ms']:>8.2f}{r['pg_ms']:>8.2f}{r['total_ms']:>8.2f}"
              f"{r['total_ms'] - base:>+10.2f}{r['round_trips']:>7.1f}{r['wall_ms']:>9.2f}")
    if prof_text:
        scale = result["rows"]["as is"]["app_ms"] + test_client_ms
        print(f"\nWhere 'as is' spends CPU (cProfile with the CPU clock, {prof_text['requests']} requests; share of "
              f"the request incl. test client, and that share of the unprofiled {scale:.2f} ms. The profiler "
              f"inflates call-heavy code such as marshmallow: read those shares as upper bounds):\n")
        for label, share, calls in prof_text["areas"]:
            print(f"  {label:<55}{100 * share:6.1f}%  {share * scale:6.2f} ms   ({calls / prof_text['requests']:.1f} calls/req)")
        print("\n  self time by package (top 15):")
        for key, share in prof_text["self_by_package"]:
            print(f"    {key:<60}{100 * share:6.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
