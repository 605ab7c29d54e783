"""Load generator for intake's `POST /v1/cases`, against a running `make up` (real HTTP).

    make up                 # terminal 1: the whole system
    make bench              # terminal 2: .venv/bin/python bench/intake_load.py [--json] [...]

One run prints, all measured on the same machine in the same minute:

  anchor      closed loop against a bare Flask+gunicorn endpoint doing one INSERT+COMMIT of the same
              JSON body (bench/anchor_app.py), started here with intake's gunicorn flags and worker count
  intake      the same closed loop, same client code, same bodies, against POST /v1/cases; the measured
              time is cut in slices, anchor and intake taking turns, so outside load hits both alike
  ratio       intake ÷ anchor, accepted requests per second (aim: >= 0.8); also the ratio the CPU cost
              per request predicts (HTTP tier alone, and the whole system sharing these cores)
  visibility  an open loop at a fixed rate (default 500 cases/s): for 1 case in 5, the time from
              receiving its 201 to the first `GET {ledger}/v1/cases/{id}` that answers 200
              (aim: p99 <= 250 ms)

It also reports where the CPU went, per accepted request, from /proc: each process tree of the stack
(intake-http, relay, consumers, broker, ...), each PostgreSQL backend charged to the process at the
other end of its connection ("pg ← intake-http"), this client, and "other": whatever else ran on the
machine meanwhile. Absolute numbers depend on the machine and its other load; compare within a run.
Results are also written to bench/results/<timestamp>.json. docs/BENCHMARKS.md explains the figures.
Benchmarks are never assertions: the exit status is 0 whatever the figures (2: no stack running).
"""
from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import multiprocessing as mp
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from benchlib import CpuProbe, proc_table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
AIM_RATIO = 0.8
AIM_P99_MS = 250.0


# ----------------------------------------------------------------------------------------------------
# The running system
# ----------------------------------------------------------------------------------------------------
@dataclass
class Target:
    name: str
    host: str
    port: int

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class System:
    intake: Target
    ledger: Target
    admin_url: str | None
    jwt_secret: object     # an HS256 secret (--jwt-secret), or the `zf up` key set signer (EdDSA)
    status: dict = field(default_factory=dict)   # $ZF_HOME/run/status.json, {} when not from a stack
    home: Path | None = None


def _hostport(value: str, name: str) -> Target:
    value = value.removeprefix("http://").rstrip("/")
    host, _, port = value.rpartition(":")
    return Target(name, host or "127.0.0.1", int(port))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _listening(t: Target) -> bool:
    try:
        with socket.create_connection((t.host, t.port), timeout=1):
            return True
    except OSError:
        return False


def not_running(reason: str) -> NoReturn:
    print(f"intake_load: {reason}\n\n"
          "No running system to measure. Start it first, in another terminal:\n\n"
          "    make up\n\n"
          "then run `make bench` again (with the same ZF_HOME, if you set one).", file=sys.stderr)
    sys.exit(2)


def discover(args) -> System:
    home = Path(os.environ.get("ZF_HOME", ".zf")).absolute()
    status_path, secrets_path = home / "run" / "status.json", home / "secrets.json"
    status: dict = {}
    if status_path.exists():
        try:
            status = json.loads(status_path.read_text())
        except ValueError:
            status = {}
        if not _alive(status.get("intake-http", {}).get("pid")):
            status = {}   # a stale file from a stack that has stopped
    if not status and not (args.intake and args.ledger and args.database_url and args.jwt_secret):
        not_running(f"no live `zf up` found under {home} ({status_path} missing or stale)")
    secret = args.jwt_secret or os.environ.get("ZF_JWT_SECRET")
    if not secret:
        if not secrets_path.exists():
            not_running(f"{secrets_path} not found")
        from zfcommon import jwks            # `zf up` signs with EdDSA: the key set next to secrets.json
        secret = jwks.FileSigner(home / "jwt-keys.json")

    def port_of(name: str) -> int | None:
        return (status.get(name) or {}).get("port")

    intake = _hostport(args.intake, "intake") if args.intake else Target("intake", "127.0.0.1", port_of("intake-http"))
    ledger = _hostport(args.ledger, "ledger") if args.ledger else Target("ledger", "127.0.0.1", port_of("ledger-http"))
    admin = args.database_url
    if not admin and status.get("postgres", {}).get("admin_url"):
        admin = status["postgres"]["admin_url"]
    if not admin:
        print("intake_load: the stack uses an external PostgreSQL (DATABASE_URL); pass --database-url "
              "with an administrator's URL of that server for the anchor", file=sys.stderr)
        sys.exit(2)
    for t in (intake, ledger):
        if not t.port or not _listening(t):
            not_running(f"{t.name} does not answer on {t.addr}")
    return System(intake, ledger, admin, secret, status, home)


# ----------------------------------------------------------------------------------------------------
# A small HTTP/1.1 client: the same code for every target, cheap enough not to be the bottleneck
# (requests costs ~4x more CPU per call; the client shares the machine's cores with the server)
# ----------------------------------------------------------------------------------------------------
class HttpError(Exception):
    pass


class Conn:
    """One keep-alive connection when the server allows it (gunicorn's sync workers close after each
    response, so there it is one TCP connection per request, as for any client of that server)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.buf = b""

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock, self.buf = None, b""

    def _connect(self) -> None:
        s = socket.create_connection((self.host, self.port), timeout=self.timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buf = s, b""

    def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in (0, 1):
            reused = self.sock is not None
            if not reused:
                self._connect()
            try:
                self.sock.sendall(raw)
                return self._response()
            except (ConnectionError, HttpError) as exc:
                self.close()
                # A keep-alive connection the server closed while idle: send once more on a new one.
                if not (reused and attempt == 0 and isinstance(exc, (ConnectionError, HttpError))):
                    raise
        raise HttpError("unreachable")

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise HttpError("connection closed before a complete response")
        return chunk

    def _response(self) -> tuple[int, bytes]:
        buf = self.buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self._recv()
        head, buf = buf[:end], buf[end + 4:]
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close, chunked = None, lines[0].startswith(b"HTTP/1.0"), False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if chunked:
            body, buf = self._chunked(buf)
        elif length is not None:
            while len(buf) < length:
                buf += self._recv()
            body, buf = buf[:length], buf[length:]
        else:
            close = True
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
            body, buf = buf, b""
        self.buf = buf
        if close:
            self.close()
        return status, body

    def _chunked(self, buf: bytes) -> tuple[bytes, bytes]:
        body = b""
        while True:
            while (i := buf.find(b"\r\n")) < 0:
                buf += self._recv()
            size = int(buf[:i].split(b";")[0], 16)
            buf = buf[i + 2:]
            while len(buf) < size + 2:
                buf += self._recv()
            body, buf = body + buf[:size], buf[size + 2:]
            if size == 0:
                return body, buf


# ----------------------------------------------------------------------------------------------------
# Requests: realistic complaints (cf. tests/support.py complaint()), half anonymous, unique keys
# ----------------------------------------------------------------------------------------------------
# Categories from the seed taxonomy (intake/domain/directory.py DEFAULT_CATEGORIES): intake refuses others.
_CATEGORIES = ("推诿扯皮", "吃拿卡要", "办事效率低", "态度冷漠", "政务服务审批")
_UNITS = ("县自然资源局", "县市场监督管理局", "县住房和城乡建设局", "县人力资源和社会保障局", "县行政审批服务局")
_DESCRIPTIONS = (
    "不动产登记窗口以系统故障为由推诿,不一次性告知所需材料,群众往返四次仍未办结,窗口工作人员态度冷淡,"
    "要求提供与业务无关的证明材料,并称“上面规定的,找我没用”。",
    "办理营业执照变更时被要求先到指定中介机构打印材料并收取费用,工作人员暗示不走中介就要排队一个月以上,"
    "现场未公示收费依据,咨询电话长期无人接听。",
    "施工许可申请已提交四十多个工作日没有任何答复,多次电话询问均称领导不在、正在研究,超过承诺办结时限,"
    "项目因此停工,工人工资无法按时发放。",
    "社保窗口只开一个,排队三个多小时,其他窗口工作人员在玩手机,询问时被告知“到点了明天再来”,"
    "老人和残疾人也没有绿色通道,自助机长期故障无人维修。",
)
_PLACES = (("县政务服务中心二楼", 26.989, 111.2743), ("县政务服务中心一楼综合窗口", 26.9901, 111.2751),
           ("城关镇便民服务中心", 26.9876, 111.2688))


def complaint(i: int) -> dict:
    place = _PLACES[i % len(_PLACES)]
    body = {"channel": ("hotline", "petition", "tipoff")[i % 3],
            "category": _CATEGORIES[i % len(_CATEGORIES)],
            "description": _DESCRIPTIONS[i % len(_DESCRIPTIONS)],
            "subject_unit": _UNITS[(i // 2) % len(_UNITS)],
            "priority": ("normal", "normal", "urgent")[i % 3],
            "location": {"address": place[0], "lat": place[1], "lon": place[2]}}
    if i % 2 == 0:
        body["complainant"] = {"name": "李某", "phone": f"138{7391234 + i:08d}"}
    return body


BODIES = [json.dumps(complaint(i), ensure_ascii=False, separators=(",", ":")).encode() for i in range(60)]


class Requests:
    """Pre-encoded POSTs; each call gives the next body with a fresh Idempotency-Key."""

    def __init__(self, target: Target, path: str, token: str):
        self.heads = [(f"POST {path} HTTP/1.1\r\nHost: {target.addr}\r\nAuthorization: Bearer {token}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\nIdempotency-Key: ").encode()
                      for b in BODIES]
        self.n = 0

    def next(self, i: int | None = None) -> bytes:
        i = self.n if i is None else i
        self.n += 1
        k = i % len(BODIES)
        return b"".join((self.heads[k], uuid.uuid4().hex.encode(), b"\r\n\r\n", BODIES[k]))


def get_request(target: Target, path: str, token: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: {target.addr}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ----------------------------------------------------------------------------------------------------
# Closed loop: P processes x T threads, each sending its next request as soon as the last returned
# ----------------------------------------------------------------------------------------------------
def _closed_process(target: Target, path: str, token: str, threads: int, t_start: float, t_measure: float,
                    t_end: float, seed: int, out: mp.Queue) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    results = []

    def run(k: int) -> None:
        reqs = Requests(target, path, token)
        reqs.n = seed * 1000 + k
        conn = Conn(target.host, target.port)
        ok = sent = 0
        errors: dict[str, int] = {}
        lat: list[float] = []
        last_body = b""
        delay = t_start - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        while True:
            t0 = time.monotonic()
            if t0 >= t_end:
                break
            raw = reqs.next()
            try:
                status, body = conn.request(raw)
                err = None if 200 <= status < 300 else f"HTTP {status}"
            except (OSError, HttpError, ValueError) as exc:
                conn.close()
                status, body, err = 0, b"", type(exc).__name__
            t1 = time.monotonic()
            sent += 1
            if t_measure <= t1 < t_end:
                if err is None:
                    ok += 1
                    lat.append(t1 - t0)
                    last_body = body
                else:
                    errors[err] = errors.get(err, 0) + 1
            if err is not None and status == 0:
                time.sleep(0.01)   # refused/reset: do not spin
        conn.close()
        results.append({"ok": ok, "sent": sent, "errors": errors, "lat": lat, "last_body": last_body})

    at_measure = {}

    def mark() -> None:
        _sleep_until(t_measure)
        at_measure["cpu"] = _cpu_self()
    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)] + [threading.Thread(target=mark)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put({"threads": results, "cpu": _cpu_self() - at_measure["cpu"]})


def closed_loop(target: Target, path: str, token: str, args, duration: float, warmup: float,
                probe: "CpuProbe | None" = None, settle=None) -> dict:
    """One closed-loop slice; `settle()` runs after the slice and before the CPU probe stops (so the
    work a slice left behind, e.g. the ledger catching up, is charged to that slice)."""
    procs = max(1, min(args.procs, args.concurrency))
    per = [args.concurrency // procs + (1 if i < args.concurrency % procs else 0) for i in range(procs)]
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    t_start = time.monotonic() + 0.2
    t_measure = t_start + warmup
    t_end = t_measure + duration
    ps = [ctx.Process(target=_closed_process, args=(target, path, token, per[i], t_start, t_measure, t_end, i, out),
                      daemon=True) for i in range(procs)]
    for p in ps:
        p.start()
    _sleep_until(t_measure)
    if probe:
        probe.start()
    _sleep_until(t_end)
    parts = [out.get(timeout=120) for _ in ps]
    for p in ps:
        p.join(10)
    threads = [t for part in parts for t in part["threads"]]
    last_ids = []
    for t in threads:
        if t["last_body"]:
            try:
                last_ids.append(json.loads(t["last_body"]).get("case_id"))
            except ValueError:
                pass
    settled = settle([i for i in last_ids if i]) if settle else None
    client_cpu = sum(p["cpu"] for p in parts)     # the workers have exited: /proc no longer has them
    cpu = probe.stop({"bench client": client_cpu}) if probe else None
    errors: dict[str, int] = {}
    for t in threads:
        for k, v in t["errors"].items():
            errors[k] = errors.get(k, 0) + v
    return {"ok": sum(t["ok"] for t in threads), "sent": sum(t["sent"] for t in threads), "errors": errors,
            "lat": [x for t in threads for x in t["lat"]], "client_cpu": client_cpu,
            "cpu": cpu, "settled": settled, "duration": duration, "last_ids": [i for i in last_ids if i]}


def merge_slices(target: Target, path: str, args, slices: list[dict]) -> dict:
    duration = sum(x["duration"] for x in slices)
    ok = sum(x["ok"] for x in slices)
    errors: dict[str, int] = {}
    for x in slices:
        for k, v in x["errors"].items():
            errors[k] = errors.get(k, 0) + v
    lat = [v for x in slices for v in x["lat"]]
    cpu = {"wall_s": 0.0, "cores": os.cpu_count(), "busy_s": 0.0, "idle_s": 0.0, "groups_s": {}}
    for x in slices:
        c = x["cpu"]
        for k in ("wall_s", "busy_s", "idle_s"):
            cpu[k] = round(cpu[k] + c[k], 2)
        for k, v in c["groups_s"].items():
            cpu["groups_s"][k] = round(cpu["groups_s"].get(k, 0) + v, 2)
    cpu["groups_s"] = dict(sorted(cpu["groups_s"].items(), key=lambda kv: -kv[1]))
    return {"target": target.addr + path, "concurrency": args.concurrency,
            "processes": max(1, min(args.procs, args.concurrency)), "duration_s": duration, "slices": len(slices),
            "ok": ok, "rate": ok / duration, "errors": errors,
            "rate_per_slice": [round(x["ok"] / x["duration"]) for x in slices],
            "latency_ms": {"p50": _ms(_pct(lat, 50)), "p99": _ms(_pct(lat, 99))},
            "client_cpu_ms_per_req": round(1000 * sum(x["client_cpu"] for x in slices) / max(1, ok), 3),
            "settle_s": [x["settled"] for x in slices if x["settled"] is not None],
            "cpu": cpu}


def _ms(x: float | None) -> float | None:
    return None if x is None else round(1000 * x, 1)


def _sleep_until(t: float) -> None:
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


# ----------------------------------------------------------------------------------------------------
# Open loop + visibility: POSTs on a fixed schedule; a sample of the accepted cases polled on the ledger
# ----------------------------------------------------------------------------------------------------
def _open_process(target: Target, token: str, threads: int, idx: int, nprocs: int, rate: float, t0: float,
                  duration: float, sample_every: int, to_poller: mp.Queue, out: mp.Queue) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    counter = itertools.count()
    lock = threading.Lock()
    results = []
    t_stop = t0 + duration

    def run() -> None:
        reqs = Requests(target, "/v1/cases", token)
        conn = Conn(target.host, target.port)
        ok = ok_in_window = late_sends = skipped = 0
        errors: dict[str, int] = {}
        lat: list[float] = []
        while True:
            with lock:
                k = next(counter)
            slot = k * nprocs + idx
            t_sched = t0 + slot / rate
            if t_sched >= t_stop:
                break
            now = time.monotonic()
            if now >= t_stop:           # fell so far behind that the window closed: not sent
                skipped += 1
                continue
            if t_sched > now:
                time.sleep(t_sched - now)
            elif now - t_sched > 0.010:
                late_sends += 1
            raw = reqs.next(slot)
            try:
                status, body = conn.request(raw)
                err = None if status == 201 else f"HTTP {status}"
            except (OSError, HttpError, ValueError) as exc:
                conn.close()
                status, body, err = 0, b"", type(exc).__name__
            t1 = time.monotonic()
            if err is not None:
                errors[err] = errors.get(err, 0) + 1
                continue
            ok += 1
            ok_in_window += t1 <= t_stop
            lat.append(t1 - t_sched)       # from the scheduled time: no coordinated omission
            if slot % sample_every == 0:
                try:
                    to_poller.put((json.loads(body)["case_id"], t1))
                except (ValueError, KeyError):
                    errors["bad 201 body"] = errors.get("bad 201 body", 0) + 1
        conn.close()
        results.append({"ok": ok, "ok_in_window": ok_in_window, "late": late_sends, "skipped": skipped,
                        "errors": errors, "lat": lat})

    cpu0 = _cpu_self()
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put({"threads": results, "cpu": _cpu_self() - cpu0})


def _poller_process(ledger: Target, token: str, threads: int, interval: float, timeout: float,
                    inbox: mp.Queue, out: mp.Queue) -> None:
    """Polls GET {ledger}/v1/cases/{id} every `interval` per sampled case until it answers 200."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    heap: list = []
    cond = threading.Condition()
    state = {"closed": False, "busy": 0}
    seen, timeouts, errors, late = [], [], {}, []
    polls = [0]
    seq = itertools.count()

    def feeder() -> None:
        while True:
            item = inbox.get()
            with cond:
                if item is None:
                    state["closed"] = True
                else:
                    case_id, t201 = item
                    heapq.heappush(heap, (t201 + interval, next(seq), case_id, t201, 0))
                cond.notify_all()
            if item is None:
                return

    def run() -> None:
        conn = Conn(ledger.host, ledger.port)
        while True:
            with cond:
                while not heap:
                    if state["closed"] and state["busy"] == 0:
                        cond.notify_all()
                        conn.close()
                        return
                    cond.wait(0.05)
                due, _, case_id, t201, n = heapq.heappop(heap)
                state["busy"] += 1
            _sleep_until(due)
            ts = time.monotonic()
            try:
                status, _ = conn.request(get_request(ledger, f"/v1/cases/{case_id}", token))
            except (OSError, HttpError, ValueError) as exc:
                conn.close()
                status = 0
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            tr = time.monotonic()
            with cond:
                polls[0] += 1
                late.append(ts - due)
                state["busy"] -= 1
                if status == 200:
                    seen.append(tr - t201)
                elif tr - t201 > timeout:
                    timeouts.append(case_id)
                else:
                    if status not in (404, 0):
                        errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
                    heapq.heappush(heap, (tr + interval, next(seq), case_id, t201, n + 1))
                cond.notify_all()

    cpu0 = _cpu_self()
    f = threading.Thread(target=feeder, daemon=True)
    f.start()
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put({"visible": seen, "timeouts": len(timeouts), "errors": errors, "polls": polls[0],
             "poll_late_p99_ms": _ms(_pct(late, 99)), "cpu": _cpu_self() - cpu0})


def open_loop(sys_: System, token: str, args, probe: "CpuProbe") -> dict:
    ctx = mp.get_context("fork")
    to_poller, out, pout = ctx.Queue(), ctx.Queue(), ctx.Queue()
    poller = ctx.Process(target=_poller_process, args=(sys_.ledger, token, args.poll_threads, args.poll_interval,
                                                        args.visibility_timeout, to_poller, pout), daemon=True)
    poller.start()
    procs = max(1, args.procs)
    t0 = time.monotonic() + 0.3
    ps = [ctx.Process(target=_open_process, args=(sys_.intake, token, args.open_threads, i, procs, args.rate, t0,
                                                  args.open_duration, args.sample_every, to_poller, out), daemon=True)
          for i in range(procs)]
    for p in ps:
        p.start()
    _sleep_until(t0)
    probe.start()
    _sleep_until(t0 + args.open_duration)
    cpu = probe.stop()
    parts = [out.get(timeout=300) for _ in ps]
    for p in ps:
        p.join(10)
    to_poller.put(None)
    vis = pout.get(timeout=args.visibility_timeout + 120)
    poller.join(10)
    threads = [t for part in parts for t in part["threads"]]
    lat = [x for t in threads for x in t["lat"]]
    errors: dict[str, int] = {}
    for t in threads:
        for k, v in t["errors"].items():
            errors[k] = errors.get(k, 0) + v
    planned = int(args.rate * args.open_duration)
    ok_in_window = sum(t["ok_in_window"] for t in threads)
    v = vis["visible"]
    return {
        "target_rate": args.rate, "duration_s": args.open_duration, "planned": planned,
        "accepted": sum(t["ok"] for t in threads), "achieved_rate": ok_in_window / args.open_duration,
        "sent_late_gt_10ms": sum(t["late"] for t in threads), "not_sent": sum(t["skipped"] for t in threads),
        "errors": errors,
        "post_latency_ms": {"p50": _ms(_pct(lat, 50)), "p99": _ms(_pct(lat, 99)), "max": _ms(max(lat, default=None))},
        "visibility_ms": {"samples": len(v), "p50": _ms(_pct(v, 50)), "p90": _ms(_pct(v, 90)),
                          "p99": _ms(_pct(v, 99)), "max": _ms(max(v, default=None)), "timeouts": vis["timeouts"]},
        "poller": {"polls": vis["polls"], "polls_per_s": round(vis["polls"] / args.open_duration),
                   "late_p99_ms": vis["poll_late_p99_ms"], "errors": vis["errors"],
                   "interval_ms": args.poll_interval * 1000, "sample_every": args.sample_every},
        "client_cpu_s": round(sum(p["cpu"] for p in parts) + vis["cpu"], 2),
        "cpu": cpu,
    }


# ----------------------------------------------------------------------------------------------------
# Where the CPU went: /proc, grouped by process tree; PostgreSQL backends by role (bench/benchlib.py)
# ----------------------------------------------------------------------------------------------------
def stack_roots(status: dict) -> dict[str, int]:
    roots = {name: info.get("pid") for name, info in status.items() if name != "postgres" and info.get("pid")}
    roots["bench client"] = os.getpid()
    return roots


# ----------------------------------------------------------------------------------------------------
# The anchor server
# ----------------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_count(status: dict) -> tuple[int, str]:
    """Intake's gunicorn worker count: counted from /proc when the stack is local, else ZF_WORKERS."""
    master = (status.get("intake-http") or {}).get("pid")
    if master:
        n = sum(1 for ppid, _ in proc_table().values() if ppid == master)
        if n:
            return n, f"counted under intake-http (pid {master})"
    return int(os.environ.get("ZF_WORKERS", "2")), "ZF_WORKERS (default 2)"


class Anchor:
    def __init__(self, admin_url: str, workers: int):
        self.admin_url, self.workers = admin_url, workers
        self.port = _free_port()
        self.target = Target("anchor", "127.0.0.1", self.port)
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="bench-anchor-", suffix=".log", delete=False)

    def _sql(self, statement: str) -> None:
        import psycopg
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)

    def start(self) -> "Anchor":
        sys.path.insert(0, str(HERE))
        from anchor_app import DROP_SQL, SCHEMA_SQL
        self._sql(DROP_SQL)
        self._sql(SCHEMA_SQL)
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        # The flags `zf up` gives intake-http (stack.py plan() + zfcommon.gunicorn_conf): sync workers,
        # same count, no access log, graceful_timeout 10, timeout 30.
        argv = [gunicorn, "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                "--graceful-timeout", "10", "--timeout", "30", "--pythonpath", str(HERE), "anchor_app:create_app()"]
        env = {**os.environ, "BENCH_DATABASE_URL": self.admin_url, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        probe = get_request(self.target, "/healthz", "-")
        while True:
            try:
                c = Conn("127.0.0.1", self.port, timeout=2)
                status, _ = c.request(probe)
                c.close()
                if status == 200:
                    return self
            except (OSError, HttpError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the anchor did not start; see {self.log.name}")
            time.sleep(0.1)

    def rows(self) -> int:
        import psycopg
        with psycopg.connect(self.admin_url, connect_timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM bench_anchor.rows").fetchone()[0]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        try:
            from anchor_app import DROP_SQL
            self._sql(DROP_SQL)
        except Exception as exc:  # the figures are already measured; say so and go on
            print(f"intake_load: could not drop schema bench_anchor: {exc}", file=sys.stderr)


def pause_pipeline(status: dict) -> list[tuple[str, int]]:
    """Diagnosis only (--pause-pipeline): SIGSTOP the relay and the consumers of a local stack for the
    intake closed loop, so it measures intake's HTTP tier without the rest of the system on the same
    cores. Events wait in the outbox meanwhile; nothing is lost (the relay resumes where it was)."""
    paused = []
    for name, info in status.items():
        if name.endswith(("-relay", "-consumer")) and _alive(info.get("pid")):
            os.kill(info["pid"], signal.SIGSTOP)
            paused.append((name, info["pid"]))
    return paused


def resume(paused: list[tuple[str, int]]) -> None:
    for _, pid in paused:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


# ----------------------------------------------------------------------------------------------------
# Between phases: wait until the ledger caught up with what the closed loop wrote
# ----------------------------------------------------------------------------------------------------
def drain(sys_: System, token: str, case_ids: list[str], timeout: float) -> float | None:
    t0 = time.monotonic()
    pending = list(case_ids)
    conn = Conn(sys_.ledger.host, sys_.ledger.port)
    while pending and time.monotonic() - t0 < timeout:
        try:
            status, _ = conn.request(get_request(sys_.ledger, f"/v1/cases/{pending[0]}", token))
        except (OSError, HttpError):
            conn.close()
            status = 0
        if status == 200:
            pending.pop(0)
        else:
            time.sleep(0.05)
    conn.close()
    return None if pending else round(time.monotonic() - t0, 2)


# ----------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------
def per_request_ms(cpu: dict, n: int) -> dict[str, float]:
    return {k: round(1000 * v / max(1, n), 3) for k, v in cpu["groups_s"].items()}


def cpu_ratios(anchor: dict[str, float], intake: dict[str, float]) -> dict:
    """Throughput ratios the CPU cost alone predicts when the cores are the bottleneck: they do not
    move with load from outside the benchmark, which the measured ratio does on a shared machine."""
    def tier(per, name):
        return per.get(name, 0) + per.get(f"pg ← {name}", 0)

    def system(per):
        return sum(v for k, v in per.items() if k not in ("other (not this system)", "bench client"))
    a_http, i_http = tier(anchor, "anchor"), tier(intake, "intake-http")
    a_sys, i_sys = system(anchor), system(intake)
    return {"anchor_http_ms": round(a_http, 3), "intake_http_ms": round(i_http, 3),
            "http_tier": round(a_http / i_http, 3) if i_http else None,
            "anchor_system_ms": round(a_sys, 3), "intake_system_ms": round(i_sys, 3),
            "whole_system": round(a_sys / i_sys, 3) if i_sys else None}


def table(r: dict) -> str:
    a, i, o = r["anchor"], r["intake"], r.get("visibility")
    lines = [f"intake load benchmark  {r['started_at']}  ({r['machine']['cores']} cores, "
             f"load avg {r['machine']['loadavg_before']} before; {r['workers']} gunicorn workers: {r['workers_source']})",
             ""]
    closed = [x for x in (a, i) if x]
    if closed:
        c = closed[0]
        lines.append(f"  {'closed loop (' + str(c['concurrency']) + ' clients, ' + str(c['duration_s']) + ' s)':<38}"
                     f"{'2xx/s':>9}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}")
    i_label = "intake  POST /v1/cases" + (" (pipeline paused)" if i and i.get("pipeline_paused") else "")
    for x, label in ((a, "anchor  POST /anchor (insert+commit)"), (i, i_label)):
        if x:
            lines.append(f"  {label:<38}{x['rate']:>9.0f}{sum(x['errors'].values()):>8}"
                         f"{_f(x['latency_ms']['p50']):>9}{_f(x['latency_ms']['p99']):>9}")
    if r.get("ratio") is not None:
        lines.append(f"  {'ratio intake ÷ anchor':<38}{r['ratio']:>9.2f}   aim >= {AIM_RATIO}  "
                     f"{'MET' if r['ratio'] >= AIM_RATIO else 'NOT MET'}")
        c = r["cpu_ratios"]
        lines.append(f"  {'  same, from CPU cost per request:':<38}")
        lines.append(f"  {'    HTTP tier (server + its PG backends)':<38}{c['http_tier'] or 0:>9.2f}   "
                     f"anchor {c['anchor_http_ms']:.2f} ms vs intake {c['intake_http_ms']:.2f} ms")
        lines.append(f"  {'    whole system on these cores':<38}{c['whole_system'] or 0:>9.2f}   "
                     f"anchor {c['anchor_system_ms']:.2f} ms vs intake {c['intake_system_ms']:.2f} ms "
                     f"(+ relay, broker, consumers)")
    lines.append("")
    if o:
        v = o["visibility_ms"]
        met = v["p99"] is not None and v["p99"] <= AIM_P99_MS and v["timeouts"] == 0 and \
            o["achieved_rate"] >= 0.98 * o["target_rate"]
        lines += [
            f"  open loop  {o['target_rate']:.0f} cases/s for {o['duration_s']:g} s: achieved {o['achieved_rate']:.0f}/s "
            f"({o['accepted']} accepted, {sum(o['errors'].values())} errors, {o['not_sent']} not sent, "
            f"{o['sent_late_gt_10ms']} sent >10 ms late)",
            f"    201 latency from schedule   p50 {_f(o['post_latency_ms']['p50'])} ms   "
            f"p99 {_f(o['post_latency_ms']['p99'])} ms",
            f"    201 -> ledger 200 (1 in {o['poller']['sample_every']}, n={v['samples']})   p50 {_f(v['p50'])} ms   "
            f"p90 {_f(v['p90'])} ms   p99 {_f(v['p99'])} ms   max {_f(v['max'])} ms   timeouts {v['timeouts']}",
            f"    aim p99 <= {AIM_P99_MS:.0f} ms at {o['target_rate']:.0f}/s  {'MET' if met else 'NOT MET'}   "
            f"(poller: {o['poller']['polls_per_s']} GET/s, late p99 {_f(o['poller']['late_p99_ms'])} ms)",
            ""]
    if i and i.get("settle_s"):
        lines.append(f"  after each intake slice the ledger caught up within {max(i['settle_s']):.2f} s "
                     f"(charged to the slice's CPU); intake 2xx/s per slice {i['rate_per_slice']}, "
                     f"anchor {a['rate_per_slice'] if a else '-'}")
    if r.get("drain_s") is not None:
        lines.append(f"  ledger caught up {r['drain_s']} s after the paused pipeline was resumed")
    lines.append("  CPU ms per accepted request, from /proc ('other' = processes not of this system or bench):")
    for name, x in (("anchor", a), ("intake", i), ("open", o)):
        if not x:
            continue
        per = x.get("cpu_ms_per_req") or x.get("cpu_ms_per_case")
        top = ", ".join(f"{k} {v:.2f}" for k, v in per.items() if v >= 0.05)
        lines.append(f"    {name:<7} machine busy {x['cpu']['busy_s']:.1f} of {x['cpu']['wall_s'] * x['cpu']['cores']:.0f} "
                     f"core-s: {top}")
    if closed:
        lines.append("  client CPU per request: " + ", ".join(
            f"{n} {x['client_cpu_ms_per_req']} ms" for n, x in (("anchor", a), ("intake", i)) if x))
    return "\n".join(lines)


def _f(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--intake", help="intake base URL (default: from $ZF_HOME/run/status.json)")
    ap.add_argument("--ledger", help="ledger base URL (default: from status.json)")
    ap.add_argument("--database-url", help="an administrator's URL of intake's PostgreSQL, for the anchor "
                                           "(default: the stack's own PostgreSQL from status.json)")
    ap.add_argument("--jwt-secret", help="default: $ZF_HOME/secrets.json")
    ap.add_argument("--duration", type=float, default=10.0, help="closed-loop seconds measured per target (10)")
    ap.add_argument("--warmup", type=float, default=2.0, help="closed-loop warm-up seconds, not counted (2)")
    ap.add_argument("--concurrency", type=int, default=16, help="closed-loop clients, both targets (16)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="the measured closed-loop time is cut in this many slices, anchor and intake taking turns "
                         "(ABBA), so load from outside the benchmark hits both alike (5)")
    ap.add_argument("--procs", type=int, default=4, help="client processes (4)")
    ap.add_argument("--rate", type=float, default=500.0, help="open-loop cases per second (500)")
    ap.add_argument("--open-duration", type=float, default=10.0, help="open-loop seconds (10)")
    ap.add_argument("--open-threads", type=int, default=8, help="sender threads per process, open loop (8)")
    ap.add_argument("--sample-every", type=int, default=5, help="poll 1 accepted case in N (5)")
    ap.add_argument("--poll-interval", type=float, default=0.005, help="seconds between polls of a case (0.005)")
    ap.add_argument("--poll-threads", type=int, default=8, help="poller threads (8)")
    ap.add_argument("--visibility-timeout", type=float, default=10.0, help="give up on a case after (10 s)")
    ap.add_argument("--phases", default="anchor,intake,visibility",
                    help="which parts to run, comma-separated (default: all three; the ratio needs anchor and intake)")
    ap.add_argument("--skip-open-loop", action="store_true", help="same as --phases anchor,intake")
    ap.add_argument("--pause-pipeline", action="store_true",
                    help="diagnosis: SIGSTOP the stack's relay and consumers during intake's closed loop (its HTTP "
                         "tier alone against the anchor); they are resumed right after")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = ap.parse_args(argv)

    sys_ = discover(args)
    sys.path.insert(0, str(ROOT / "services"))
    from zfcommon.auth import issue_token
    token = issue_token(sys_.jwt_secret, "office", "bench")
    workers, source = worker_count(sys_.status)
    roots = stack_roots(sys_.status)
    pg_pid = (sys_.status.get("postgres") or {}).get("pid")
    started = datetime.now(timezone.utc)
    result: dict = {"started_at": started.isoformat(timespec="seconds"),
                    "machine": {"cores": os.cpu_count(), "loadavg_before": round(os.getloadavg()[0], 2)},
                    "workers": workers, "workers_source": source,
                    "intake": None, "anchor": None, "visibility": None}
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))

    phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    if args.skip_open_loop:
        phases.discard("visibility")
    targets = []
    anchor = Anchor(sys_.admin_url, workers) if "anchor" in phases else None
    paused: list = []
    try:
        if anchor:
            log(f"anchor: starting gunicorn ({workers} workers) on {anchor.target.addr} …")
            anchor.start()
            targets.append(("anchor", anchor.target, "/anchor", {**roots, "anchor": anchor.proc.pid}))
        if "intake" in phases:
            targets.append(("intake", sys_.intake, "/v1/cases", roots))
        if args.pause_pipeline and "intake" in phases:
            paused = pause_pipeline(sys_.status)
            log("paused (SIGSTOP): " + ", ".join(n for n, _ in paused))

        def settle_for(name):
            if name != "intake" or paused:
                return None
            return lambda ids: drain(sys_, token, ids, timeout=120)

        if targets:
            rounds = max(1, args.rounds)
            log(f"closed loops: {', '.join(n for n, *_ in targets)}; {args.concurrency} clients; warm-up "
                f"{args.warmup:g} s each, then {rounds} interleaved slices of {args.duration / rounds:g} s each …")
            for name, target, path, _ in targets:
                closed_loop(target, path, token, args, args.warmup, 0.0, None, settle_for(name))
            slices: dict[str, list] = {name: [] for name, *_ in targets}
            for r in range(rounds):
                for name, target, path, groups in (targets if r % 2 == 0 else targets[::-1]):
                    slices[name].append(closed_loop(target, path, token, args, args.duration / rounds, 0.3,
                                                    CpuProbe(groups, pg_pid), settle_for(name)))
            for name, target, path, _ in targets:
                result[name] = merge_slices(target, path, args, slices[name])
            if anchor:
                result["anchor"]["rows_in_table"] = anchor.rows()
            if result["intake"]:
                result["intake"]["pipeline_paused"] = [n for n, _ in paused]
    finally:
        resume(paused)
        if anchor:
            anchor.stop()
    if paused and result["intake"]:
        log("waiting for the ledger to catch up with the paused pipeline …")
        result["drain_s"] = drain(sys_, token, slices["intake"][-1]["last_ids"], timeout=180)
    for name in ("anchor", "intake"):
        if result[name]:
            result[name]["cpu_ms_per_req"] = per_request_ms(result[name]["cpu"], result[name]["ok"])
    if result["anchor"] and result["intake"]:
        result["ratio"] = round(result["intake"]["rate"] / max(1e-9, result["anchor"]["rate"]), 3)
        result["cpu_ratios"] = cpu_ratios(result["anchor"]["cpu_ms_per_req"], result["intake"]["cpu_ms_per_req"])

    if "visibility" in phases:
        log(f"visibility: open loop at {args.rate:g}/s for {args.open_duration:g} s, polling 1 in "
            f"{args.sample_every} on the ledger …")
        result["visibility"] = open_loop(sys_, token, args, CpuProbe(roots, pg_pid))
        result["visibility"]["cpu_ms_per_case"] = per_request_ms(result["visibility"]["cpu"],
                                                                 result["visibility"]["accepted"])
    result["settings"] = {k: v for k, v in vars(args).items() if k not in ("jwt_secret",)}

    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(table(result))
        print(f"\n(results: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
