"""Rebuilding a projection (ledger's, notify's) from the audit trail, into an empty database.

The trail is the authority: it holds every event in the order audit received it, which keeps each
case's order. The events are fetched page by page from audit's HTTP API (services talk only over
Kafka and HTTP), validated against the catalogue, and applied with the same code and the same
tracking table as the live consumer, so the rebuilt projection equals the live one.
"""
from __future__ import annotations

import sys
from typing import Callable, Iterator

import requests

from . import db
from .consumer import Apply, ApplyBatch, apply_fresh
from .events import Event, parse_event
from .events.catalogue import topic_for


def events_from_trail(audit_url: str, token: str, page: int = 1000) -> Iterator[tuple[int, Event]]:
    """(total, event) pairs from the trail, in order; total is the trail's size when it started."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    after = 0
    while after is not None:
        resp = session.get(f"{audit_url.rstrip('/')}/v1/events", params={"after": after, "limit": page}, timeout=30)
        resp.raise_for_status()
        body = resp.json()
        for item in body["items"]:
            yield item["seq"], parse_event(item["event"])
        after = body["next_after"]


def rebuild(database_url: str, apply: Apply, events: Iterator[tuple[int, Event]],
            progress: Callable[[int], None] = lambda n: None, batch: int = 500,
            apply_batch: ApplyBatch | None = None) -> int:
    """Apply every event in one transaction per `batch`, the way the live consumer applies a poll
    (apply_fresh: one tracking insert, then `apply_batch`, or `apply` event by event); returns how
    many were applied now."""
    each = apply_batch or (lambda conn, fresh: [apply(conn, e) for e in fresh])
    applied, pending = 0, []
    with db.connect(database_url) as conn:
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


def trail_size(audit_url: str, token: str) -> int | None:
    """The size of the trail's latest signed tree head (the trail may have grown since), or None."""
    try:
        resp = requests.get(f"{audit_url.rstrip('/')}/v1/log/sth", headers={"Authorization": f"Bearer {token}"},
                            timeout=30)
    except requests.RequestException:
        return None
    return resp.json().get("tree_size") if resp.ok else None


def progress_line(done: int, total: int | None, width: int = 40) -> str:
    """A progress bar of `done` events out of about `total` (a count when the total is unknown)."""
    if not total:
        return f"{done} events replayed"
    filled = min(width, width * done // total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{max(total, done)} events replayed"


def main(service: str, apply: Apply, argv: list[str] | None = None, apply_batch: ApplyBatch | None = None) -> int:
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

    total = trail_size(args[0], token)

    def report(n: int) -> None:
        sys.stderr.write(f"\r{service}: {progress_line(n, total)}")
        sys.stderr.flush()
    applied = rebuild(settings.database_url, apply, events_from_trail(args[0], token), report,
                      apply_batch=apply_batch)
    print(f"\n{service}: rebuilt from the trail, {applied} events applied")
    return 0
