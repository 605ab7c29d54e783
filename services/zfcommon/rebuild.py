"""Rebuilding a projection (ledger's, notify's) from the audit trail, into an empty database.

The trail is the authority: it holds every event in the order audit received it, which keeps each
case's order. The events are read in one streamed response from audit's HTTP API (services talk
only over Kafka and HTTP): `GET /v1/events/stream`, one stored CloudEvent per line, sent by audit as
PostgreSQL's COPY gives them. Each is loaded as a stored event (load_stored: audit checked it against
the catalogue before storing it, so only its envelope's shape is checked again) and applied with the
same code and the same tracking table as the live consumer, a big batch per transaction, so the
rebuilt projection equals the live one.

`rebuild_in_parallel` spreads the work over processes (the command's `--workers`, default 2): this
process reads the stream and routes each line by the service's `Route`, each worker parses and applies
its share in its own transactions. Why and what a route must promise: docs/DECISIONS.md, "Rebuilds in
parallel".
"""
from __future__ import annotations

import gc
import json
import multiprocessing
import os
import queue
import sys
import zlib
from typing import Callable, Iterable, Iterator

import requests

from . import db
from .consumer import Apply, ApplyBatch, apply_fresh
from .events import Event, load_stored
from .events.catalogue import CATALOGUE, topic_for

CHUNK = 256 * 1024
Route = Callable[[str, str], "str | None"]
DEFAULT_WORKERS = min(2, os.cpu_count() or 1)       # the rebuild commands' --workers


class TrailBroken(RuntimeError):
    """The stream ended before the entry audit announced as its last (the connection broke)."""


class TrailStream:
    """(seq, event) pairs of the trail after seq `after`, in order, from one streamed response;
    `until` is the last seq audit will send (its trail's last entry when the request was made)."""

    def __init__(self, audit_url: str, token: str, after: int = 0, timeout: float = 60):
        self.after = after
        self.response = requests.get(f"{audit_url.rstrip('/')}/v1/events/stream", params={"after": after},
                                     headers={"Authorization": f"Bearer {token}"}, stream=True, timeout=timeout)
        self.response.raise_for_status()
        self.until = int(self.response.headers["X-Trail-Until"])

    @property
    def total(self) -> int:
        return max(self.until - self.after, 0)

    def __iter__(self) -> Iterator[tuple[int, Event]]:
        return ((seq, load_stored(line)) for seq, line in self.lines())

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """(seq, the stored event's canonical bytes), unparsed."""
        seq, rest = self.after, b""
        with self.response:
            for chunk in self.response.iter_content(chunk_size=CHUNK):
                lines = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
                rest = lines.pop()
                for line in lines:
                    seq += 1
                    yield seq, line
        if rest or seq != max(self.until, self.after):
            raise TrailBroken(f"the trail stream ended at seq {seq}, audit announced {self.until}")


def events_from_trail(audit_url: str, token: str, after: int = 0) -> Iterator[tuple[int, Event]]:
    """(seq, event) pairs from the trail, in order (TrailStream)."""
    return iter(TrailStream(audit_url, token, after))


def rebuild(database_url: str, apply: Apply, events: Iterable[tuple[int, Event]],
            progress: Callable[[int], None] = lambda n: None, batch: int = 500,
            apply_batch: ApplyBatch | None = None) -> int:
    """Apply every event in one transaction per `batch`, the way the live consumer applies a poll
    (apply_fresh: one tracking insert, then `apply_batch`, or `apply` event by event); returns how
    many were applied now. Commits are asynchronous (synchronous_commit off): a crash may lose the
    last batches, tracking rows and projection together, and running the rebuild again applies them.

    The objects alive when it starts (every imported module's) are frozen out of the garbage
    collector's scans: a batch in flight keeps hundreds of thousands of objects alive, so full
    collections come often, and each one walked all of those too (docs/BENCHMARKS.md, aim 5)."""
    each = _batch_of(apply, apply_batch)
    gc.freeze()
    applied, pending, n = 0, [], 0
    with _connect(database_url) as conn:
        for n, (_, event) in enumerate(events, 1):
            pending.append((topic_for(event.type), event))
            if len(pending) == batch:
                applied += sum(apply_fresh(conn, pending, each))
                conn.commit()
                pending = []
                progress(n)
        applied += sum(apply_fresh(conn, pending, each)) if pending else 0
        conn.commit()
    progress(n)
    return applied


def _batch_of(apply: Apply, apply_batch: ApplyBatch | None) -> ApplyBatch:
    return apply_batch or (lambda conn, fresh: [apply(conn, e) for e in fresh])


def _connect(database_url: str):
    """The rebuild's connection: commits asynchronous (rebuild's docstring says why that is safe)."""
    conn = db.connect(database_url)
    conn.execute("SET synchronous_commit = off")
    return conn


def rebuild_lines(database_url: str, apply: Apply, lines: Iterable[tuple[int, bytes]], route: Route | None,
                  progress: Callable[[int], None] = lambda n: None, batch: int = 500,
                  apply_batch: ApplyBatch | None = None, workers: int = DEFAULT_WORKERS) -> int:
    """The trail's lines rebuilt the commands' way: in `workers` processes by `route`
    (rebuild_in_parallel), or in this process (rebuild) with one worker or no route."""
    if route is not None and workers > 1:
        return rebuild_in_parallel(database_url, apply, lines, route, progress, batch=batch,
                                   apply_batch=apply_batch, workers=workers)
    return rebuild(database_url, apply, ((seq, load_stored(line)) for seq, line in lines), progress,
                   batch=batch, apply_batch=apply_batch)


def by_subject(topics: Iterable[str], others: str | None) -> Route:
    """The route of a projection whose events of `topics` touch only their subject's rows (and add to
    shared sums, in key order): each subject's events on one worker, in order. Every other event goes
    where `others` says: a key (all of them on one worker, in order, beside the subjects: the
    projection's other events read nothing the keyed ones write, and those read nothing they write)
    or None (each one a barrier: applied after everything before it, before anything after it)."""
    keyed = frozenset(topics)

    def route(event_type: str, subject: str) -> str | None:
        known = CATALOGUE.get(event_type)
        return subject if known is not None and known.topic in keyed else others
    return route


class RebuildFailed(RuntimeError):
    """A worker of a parallel rebuild stopped: what it said, or that it died."""


_TYPE, _SUBJECT = b',"type":"', b',"subject":"'


def _type_and_subject(line: bytes) -> tuple[str, str]:
    """A stored event's type and subject without parsing it. The trail holds canonical JSON
    (docs/CANONICAL.md): keys sorted, no spaces, and every top-level attribute after `data` a scalar,
    so the last `,"type":"` and `,"subject":"` are the envelope's. Anything else (an escape in the
    value, a line not in that form) is decoded; the worker checks the answer against the event it
    parses either way."""
    found = []
    for marker in (_TYPE, _SUBJECT):
        at = line.rfind(marker)
        start = at + len(marker)
        end = line.find(b'"', start) if at >= 0 else -1
        if end < 0 or b"\\" in line[start:end]:     # an escape in the value
            try:
                decoded = json.loads(line)
                return str(decoded.get("type")), str(decoded.get("subject"))
            except (ValueError, AttributeError):
                return "", ""                       # the worker's parse says what is wrong with it
        found.append(line[start:end].decode())
    return found[0], found[1]


def rebuild_in_parallel(database_url: str, apply: Apply, lines: Iterable[tuple[int, bytes]], route: Route,
                        progress: Callable[[int], None] = lambda n: None, batch: int = 500,
                        apply_batch: ApplyBatch | None = None, workers: int = 2) -> int:
    """rebuild, spread over `workers` processes: this one reads the stored events' lines and sends each
    to the worker its `route` key hashes to, `batch` lines at a time; each worker parses its lines and
    applies them the way `rebuild` does (apply_fresh, one transaction per batch). A key of None makes
    the event a barrier: every worker commits what it was sent, then one worker applies the barrier
    events (a run of them together), and only then do later events go out. Returns how many events were
    applied now."""
    ctx = multiprocessing.get_context("spawn")      # no inherited threads or locks (tests, the bench)
    results = ctx.Queue()
    inboxes = [ctx.Queue(maxsize=1) for _ in range(workers)]
    procs = [ctx.Process(target=_worker, args=(i, database_url, apply, apply_batch, inboxes[i], results),
                         name=f"rebuild-worker-{i}", daemon=True) for i in range(workers)]
    for proc in procs:
        proc.start()
    sent, acked = [0] * workers, [0] * workers
    pending: list[list[bytes]] = [[] for _ in range(workers)]
    barriers: list[bytes] = []
    applied = 0

    def receive(timeout: float = 1) -> None:
        nonlocal applied
        while True:
            try:
                who, said = results.get(timeout=timeout)
                break
            except queue.Empty:
                dead = [p.name for p in procs if not p.is_alive()]
                if dead:
                    while not results.empty():      # what a worker said before it stopped comes first
                        receive(timeout=0.1)
                    raise RebuildFailed(f"{', '.join(dead)} died") from None
        if isinstance(said, str):
            raise RebuildFailed(f"rebuild-worker-{who}: {said}")
        acked[who] += 1
        applied += said

    def send(i: int, lines_: list[bytes]) -> None:
        while True:
            try:
                inboxes[i].put(b"\n".join(lines_), timeout=1)
                break
            except queue.Full:
                if not procs[i].is_alive():
                    receive(timeout=0.1)            # raises what it said, or that it died
        sent[i] += 1

    def settle(i: int) -> None:
        """Everything worker i was sent is committed."""
        if pending[i]:
            send(i, pending[i])
            pending[i] = []
        while acked[i] < sent[i]:
            receive()

    def apply_barriers() -> None:
        for i in range(workers):
            settle(i)
        send(0, barriers)
        barriers.clear()
        settle(0)

    n = 0
    try:
        for n, (_, line) in enumerate(lines, 1):
            key = route(*_type_and_subject(line))
            if key is None:
                barriers.append(line)
                if len(barriers) < batch:
                    continue
                apply_barriers()
            else:
                if barriers:
                    apply_barriers()
                i = zlib.crc32(key.encode()) % workers
                pending[i].append(line)
                if len(pending[i]) < batch:
                    continue
                send(i, pending[i])
                pending[i] = []
            while not results.empty():
                receive()
            progress(n)
        if barriers:
            apply_barriers()
        for i in range(workers):
            settle(i)
        progress(n)
    finally:
        for i, proc in enumerate(procs):
            if proc.is_alive():
                try:
                    inboxes[i].put(None, timeout=5)
                except queue.Full:
                    proc.terminate()
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.terminate()
    return applied


def _worker(me: int, database_url: str, apply: Apply, apply_batch: ApplyBatch | None,
            inbox: "multiprocessing.Queue[bytes | None]", results: "multiprocessing.Queue") -> None:
    """A parallel rebuild's worker: each message is a batch of lines, parsed, checked against the route
    they were sent by, applied and committed; it answers how many were applied now, or what failed."""
    each = _batch_of(apply, apply_batch)
    gc.freeze()
    try:
        with _connect(database_url) as conn:
            while (message := inbox.get()) is not None:
                items = []
                for line in message.split(b"\n"):
                    event = load_stored(line)
                    if (event.type, event.subject) != _type_and_subject(line):
                        raise RebuildFailed(f"event {event.id} was routed by a type and subject it does not have")
                    items.append((topic_for(event.type), event))
                applied = sum(apply_fresh(conn, items, each))
                conn.commit()
                results.put((me, applied))
    except BaseException as exc:        # the main process raises it (RebuildFailed) and stops the others
        results.put((me, f"{type(exc).__name__}: {exc}"))
        raise SystemExit(1) from None


def progress_line(done: int, total: int | None, width: int = 40) -> str:
    """A progress bar of `done` events out of `total` (a count when the total is unknown)."""
    if not total:
        return f"{done} events replayed"
    filled = min(width, width * done // total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{max(total, done)} events replayed"


def main(service: str, apply: Apply, argv: list[str] | None = None, apply_batch: ApplyBatch | None = None,
         batch: int = 500, route: Route | None = None) -> int:
    """`python -m <service>.entrypoints.rebuild [--workers N] AUDIT_URL`: DATABASE_URL (the service's
    settings) names the empty, migrated database to fill; the signing key (ZF_JWT_KEYS, or
    ZF_JWT_SECRET under HS256) signs an auditor token for reading the trail. `--workers` (default: 2,
    or 1 on a machine of one core) processes apply the events (rebuild_in_parallel, by `route`); 1
    applies them in this process."""
    import argparse

    from . import jwks
    from .auth import issue_token
    from .settings import Settings

    parser = argparse.ArgumentParser(prog=f"python -m {service}.entrypoints.rebuild",
                                     description=f"Fill an empty {service} database from the audit trail.")
    parser.add_argument("audit_url", metavar="AUDIT_URL")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help="processes that apply the events (default: %(default)s)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    settings = Settings.from_env(service, database_only=True)     # the trail comes over HTTP: no broker
    signing = jwks.signer(settings)
    if not signing or isinstance(signing, jwks.NoKeys):
        print(f"{service} rebuild: set ZF_JWT_KEYS (or ZF_JWT_SECRET under ZF_JWT_ALGORITHM=HS256), the key that"
              " signs its auditor token for reading the trail", file=sys.stderr)
        return 2
    token = issue_token(signing, "auditor", f"rebuild-{service}", ttl_seconds=3600)

    trail = TrailStream(args.audit_url, token)

    def report(n: int) -> None:
        sys.stderr.write(f"\r{service}: {progress_line(n, trail.total)}")
        sys.stderr.flush()
    applied = rebuild_lines(settings.database_url, apply, trail.lines(), route, report, batch=batch,
                            apply_batch=apply_batch, workers=args.workers)
    print(f"\n{service}: rebuilt from the trail, {applied} events applied")
    return 0
