"""What the benchmarks share: CPU time from /proc, grouped by process tree, and a private PostgreSQL and
broker for the benchmarks that bring their own (never the running `make up`).

CPU figures come from /proc (utime + stime of each process), so they count what a process really
used whatever else the machine does; wall-clock rates do not, on a shared machine."""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def services_on_path() -> None:
    if str(ROOT / "services") not in sys.path:
        sys.path.insert(0, str(ROOT / "services"))


# -- /proc ------------------------------------------------------------------------------------------
def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        rest = f.read().rsplit(b")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, utime+stime ticks)."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        rest = raw[raw.rindex(b")") + 2:].split()
        table[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
    return table


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of the whole machine since boot."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def pg_backend(pid: int) -> tuple[str, int | None]:
    """("pg zf_intake", client port) for a backend; ("pg background", None) for the server's own."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            title = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "pg (gone)", None
    # "postgres: zf_intake postgres 127.0.0.1(34990) idle": role, database, client address(port)
    words = title.split()
    if len(words) >= 4 and words[0] == "postgres:" and "(" in words[3]:
        try:
            return "pg " + words[1], int(words[3].rsplit("(", 1)[1].rstrip(")"))
        except ValueError:
            return "pg " + words[1], None
    return "pg background", None


def socket_owners() -> tuple[dict[int, int], dict[int, int]]:
    """(local TCP port -> socket inode, socket inode -> pid), to find the process behind a backend."""
    ports: dict[int, int] = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[9] != "0":      # 0: TIME_WAIT and the like, owned by nobody
                        ports[int(cols[1].rsplit(":", 1)[1], 16)] = int(cols[9])
        except OSError:
            pass
    owners: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{d}/fd"):
                link = os.readlink(f"/proc/{d}/fd/{fd}")
                if link.startswith("socket:["):
                    owners[int(link[8:-1])] = int(d)
        except OSError:
            continue
    return ports, owners


class CpuProbe:
    """CPU seconds per group between start() and stop(); `roots` maps a group to a process-tree root.
    A PostgreSQL backend is charged to the process at the other end of its connection ("pg ← name")."""

    def __init__(self, roots: dict[str, int], postgres_pid: int | None):
        self.roots = {pid: name for name, pid in roots.items() if pid}
        self.postgres_pid = postgres_pid
        self.sockets: tuple[dict, dict] | None = None

    def _backend_group(self, table, backend: int, cache) -> str:
        role, port = pg_backend(backend)
        if port is None:
            return role
        if self.sockets is None:
            self.sockets = socket_owners()
        ports, owners = self.sockets
        client = owners.get(ports.get(port, -1))
        if client is None or client == self.postgres_pid:
            return role
        g = self._group(table, client, cache)
        return f"pg ← {g}" if g and not g.startswith("pg") else role

    def _group(self, table, pid, cache) -> str | None:
        p, chain = pid, []
        while p and p not in cache:
            if p in self.roots:
                cache[p] = self.roots[p]
                break
            if p == self.postgres_pid:
                cache[p] = "pg background"
                break
            chain.append(p)
            p = table.get(p, (0, 0))[0]
        g = cache.get(p) if p else None
        if g == "pg background" and p == self.postgres_pid and chain:
            g = self._backend_group(table, chain[-1], cache)
            cache[chain[-1]] = g
            chain = chain[:-1]
        for c in chain:
            cache[c] = g
        return g

    def start(self) -> "CpuProbe":
        self.t0, self.m0, self.p0 = time.monotonic(), machine_ticks(), proc_table()
        return self

    def stop(self, extra: dict[str, float] | None = None) -> dict:
        """`extra`: CPU seconds of processes that ended before stop() (the client's workers), by group."""
        t1, m1, p1 = time.monotonic(), machine_ticks(), proc_table()
        cache: dict = {}
        groups: dict[str, float] = dict(extra or {})
        self.sockets = None
        for pid, (ppid, ticks) in p1.items():
            g = self._group(p1, pid, cache)
            if g is None:
                continue
            before = self.p0.get(pid, (0, 0))[1]
            groups[g] = groups.get(g, 0) + max(0, ticks - before) / CLK_TCK
        busy = (m1[0] - self.m0[0]) / CLK_TCK
        total = (m1[1] - self.m0[1]) / CLK_TCK
        known = sum(groups.values())
        groups["other (not this system)"] = max(0.0, busy - known)
        return {"wall_s": round(t1 - self.t0, 2), "cores": os.cpu_count(), "busy_s": round(busy, 2),
                "idle_s": round(total - busy, 2),
                "groups_s": {k: round(v, 3) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])}}


# -- a private PostgreSQL and broker ----------------------------------------------------------------
class LocalServers:
    """PostgreSQL and the Tansu broker on free ports in a temporary folder, every service migrated,
    stopped by close(). The broker can be restarted empty between rounds (fresh_broker)."""

    def __init__(self, partitions: int = 6):
        services_on_path()
        from zfcommon.devstack.broker import LocalBroker
        from zfcommon.devstack.ports import free_port
        from zfcommon.devstack.postgres import LocalPostgres
        from zfcommon.settings import SERVICES
        self.partitions = partitions
        self.dir = Path(tempfile.mkdtemp(prefix="zf-bench-"))
        self.passwords = {s: f"bench-{s}-pw" for s in SERVICES}
        self.pg = LocalPostgres(self.dir / "pg" / "data", free_port()).start()
        self.broker = LocalBroker(free_port(), self.dir / "broker").start()
        self.databases = 0

    def fresh_database(self) -> str:
        """A new database with every service's migrations; returns its administrator's URL."""
        import psycopg

        from zfcommon.devstack.stack import migrate_all
        self.databases += 1
        name = f"bench_{self.databases}"
        with psycopg.connect(self.pg.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = self.pg.admin_url(name)
        migrate_all(url, self.passwords)
        return url

    def service_url(self, admin_url: str, service: str) -> str:
        from zfcommon.db import service_url
        return service_url(admin_url, service, self.passwords[service])

    def fresh_broker(self) -> str:
        """The broker restarted empty, with every topic; returns its bootstrap address."""
        from zfcommon import kafka
        from zfcommon.events.catalogue import all_topics
        self.broker.stop(kill=True)
        self.broker.start()
        kafka.ensure_topics(self.broker.bootstrap, all_topics(), self.partitions)
        return self.broker.bootstrap

    def close(self) -> None:
        import shutil
        self.broker.stop(kill=True)
        self.pg.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- summaries ----------------------------------------------------------------------------------
def save_result(prefix: str, result: dict) -> Path:
    """Write `result` to bench/results/<prefix>-<UTC time>.json (git-ignored); returns the path."""
    import json
    from datetime import datetime, timezone
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{prefix}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return path

def least_cpu_ms(rounds: int, count: int, work, prepare=lambda: None) -> float:
    """CPU ms (this process) per item of `work(prepare())`, which handles `count` items: the least of
    `rounds` rounds. What `prepare` makes for each round is not timed."""
    best = float("inf")
    for _ in range(rounds):
        prepared = prepare()
        started = time.process_time()
        work(prepared)
        best = min(best, (time.process_time() - started) / count * 1000)
    return best


def spread(values: list[float]) -> dict:
    """median, min and max of a figure over runs."""
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "runs": [round(v, 3) for v in values]}
