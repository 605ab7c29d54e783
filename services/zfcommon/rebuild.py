"""Rebuilding a projection (ledger's, notify's) from the audit trail, into an empty database.

The trail is the authority: it holds every event in the order audit received it, which keeps each
case's order. The events are read in one streamed response from audit's HTTP API (services talk
only over Kafka and HTTP): `GET /v1/events/stream`, one stored CloudEvent per line, sent by audit as
PostgreSQL's COPY gives them. Each is validated against the catalogue (parse_event, through the
compiled fast path) and applied with the same code and the same tracking table as the live
consumer, a big batch per transaction, so the rebuilt projection equals the live one.
"""
from __future__ import annotations

import gc
import sys
from typing import Callable, Iterable, Iterator

import requests

from . import db
from .consumer import Apply, ApplyBatch, apply_fresh
from .events import Event, parse_event
from .events.catalogue import topic_for

CHUNK = 256 * 1024


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
        seq, rest = self.after, b""
        with self.response:
            for chunk in self.response.iter_content(chunk_size=CHUNK):
                lines = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
                rest = lines.pop()
                for line in lines:
                    seq += 1
                    yield seq, parse_event(line)
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
    each = apply_batch or (lambda conn, fresh: [apply(conn, e) for e in fresh])
    gc.freeze()
    applied, pending = 0, []
    with db.connect(database_url) as conn:
        conn.execute("SET synchronous_commit = off")
        for n, (_, event) in enumerate(events, 1):
            pending.append((topic_for(event.type), event))
            if len(pending) == batch:
                applied += sum(apply_fresh(conn, pending, each))
                conn.commit()
                pending = []
                progress(n)
        applied += sum(apply_fresh(conn, pending, each)) if pending else 0
        conn.commit()
    return applied


def progress_line(done: int, total: int | None, width: int = 40) -> str:
    """A progress bar of `done` events out of `total` (a count when the total is unknown)."""
    if not total:
        return f"{done} events replayed"
    filled = min(width, width * done // total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{max(total, done)} events replayed"


def main(service: str, apply: Apply, argv: list[str] | None = None, apply_batch: ApplyBatch | None = None,
         batch: int = 500) -> int:
    """`python -m <service>.entrypoints.rebuild AUDIT_URL`: DATABASE_URL (the service's settings) names
    the empty, migrated database to fill; the signing key (ZF_JWT_KEYS, or ZF_JWT_SECRET under HS256) signs an auditor token for reading the trail."""
    from . import jwks
    from .auth import issue_token
    from .settings import Settings

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m {service}.entrypoints.rebuild AUDIT_URL", file=sys.stderr)
        return 2
    settings = Settings.from_env(service)
    token = issue_token(jwks.signer(settings), "auditor", f"rebuild-{service}", ttl_seconds=3600)

    trail = TrailStream(args[0], token)

    def report(n: int) -> None:
        sys.stderr.write(f"\r{service}: {progress_line(n, trail.total)}")
        sys.stderr.flush()
    applied = rebuild(settings.database_url, apply, iter(trail), report, batch=batch, apply_batch=apply_batch)
    print(f"\n{service}: rebuilt from the trail, {applied} events applied")
    return 0
