"""Reconciliation: does the trail hold exactly the events of each service's event store?

Every service that writes events keeps its own store (intake: cases and the directory; notify:
escalation steps, weekly reports, bulletins, exposures) and serves `GET /v1/streams/digests`
(zfcommon.streams). For each source, both sides compute, per stream, the number of events and the
SHA-256 of their ids joined by "," in stream-version order, over events whose time is before `until`
(a moment safely in the past, so events still on their way through Kafka are not reported as
missing). The trail's side takes only events whose source is that service (event_key
`/zhengfeng/<source>#<id>`). Services never read each other's tables.

Each run stores one row per source; a source that cannot be reached gets a row with `error` set, so
the others are still reconciled and the unreachable one is visible.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Iterator

import psycopg
import requests
from psycopg.types.json import Jsonb

SOURCES = ("intake", "notify")     # the services with an event store, each with its settings.<source>_url


def source_digests(base_url: str, token: str, until: datetime) -> Iterator[dict]:
    """A service's `GET /v1/streams/digests`, page by page."""
    session, after = requests.Session(), ""
    session.headers["Authorization"] = f"Bearer {token}"
    while after is not None:
        resp = session.get(f"{base_url.rstrip('/')}/v1/streams/digests",
                           params={"until": until.isoformat(), "after": after, "limit": 5000}, timeout=30)
        resp.raise_for_status()
        body = resp.json()
        yield from body["streams"]
        after = body["next_after"]


def trail_digests(conn: psycopg.Connection, until: datetime,
                  source: str) -> dict[str, tuple[int, str, list[str]]]:
    # Only `source`'s events: notify's escalations share a case's subject with intake's case events,
    # but each store knows only its own. Stream id = subject in both stores.
    rows = conn.execute(
        "SELECT subject, array_agg(event::jsonb->>'id' ORDER BY (event::jsonb->>'streamversion')::int) AS ids"
        " FROM trail WHERE event_time < %s AND event_key LIKE %s GROUP BY subject",
        (until, f"/zhengfeng/{source}#%")).fetchall()
    return {r["subject"]: (len(r["ids"]), hashlib.sha256(",".join(r["ids"]).encode()).hexdigest(), r["ids"])
            for r in rows}


def _store(conn: psycopg.Connection, result: dict) -> dict:
    conn.execute("INSERT INTO reconciliations (source, until, streams, missing, extra, differing, report, error)"
                 " VALUES (%(source)s, %(until)s, %(streams)s, %(missing)s, %(extra)s, %(differing)s,"
                 " %(report)s, %(error)s)", {**result, "report": Jsonb(result["report"])})
    return result


def reconcile(conn: psycopg.Connection, source: str, theirs_digests: Iterator[dict], until: datetime) -> dict:
    """Compare the trail with one source's digests, store the result, and return it. A report line
    gives the stream and both counts, keyed by the source's name and "trail"."""
    ours = trail_digests(conn, until, source)
    missing = extra = differing = streams = 0
    problems: list[dict] = []
    for theirs in theirs_digests:
        streams += 1
        count, digest, _ = ours.pop(theirs["stream_id"], (0, "", []))
        if digest == theirs["digest"]:
            continue
        gap = theirs["count"] - count
        missing += max(gap, 0)
        extra += max(-gap, 0)
        differing += gap == 0
        problems.append({"stream": theirs["stream_id"], source: theirs["count"], "trail": count})
    for stream, (count, _, _) in ours.items():       # streams the source does not know at all
        extra += count
        problems.append({"stream": stream, source: 0, "trail": count})
    return _store(conn, {"source": source, "until": until, "streams": streams, "missing": missing,
                         "extra": extra, "differing": differing, "report": problems[:1000], "error": None})


def unreachable(conn: psycopg.Connection, source: str, until: datetime, error: str) -> dict:
    """Record that `source` could not be asked this time (its counts are 0, not "clean")."""
    return _store(conn, {"source": source, "until": until, "streams": 0, "missing": 0, "extra": 0,
                         "differing": 0, "report": [], "error": error[:300]})


def latest(conn: psycopg.Connection) -> list[dict]:
    """The latest result of each source, in SOURCES order (sources never reconciled are absent)."""
    rows = conn.execute("SELECT DISTINCT ON (source) * FROM reconciliations ORDER BY source, id DESC").fetchall()
    return sorted(rows, key=lambda r: SOURCES.index(r["source"]) if r["source"] in SOURCES else len(SOURCES))


def summary(results: list[dict]) -> dict:
    """What `/v1/reconciliation` answers: totals over the reachable sources, the unreachable ones, and
    each source's own result."""
    ok = [r for r in results if not r["error"]]
    return {**{k: sum(r[k] for r in ok) for k in ("streams", "missing", "extra", "differing")},
            "unreachable": [r["source"] for r in results if r["error"]], "sources": results}


GRACE = timedelta(seconds=60)


def run_reconciliation(conn: psycopg.Connection, settings) -> dict:
    """Reconcile every source's events older than a minute (by the service clock), commit the results,
    and return their summary. One source being unreachable does not stop the others."""
    from zfcommon import jwks
    from zfcommon.auth import issue_token
    from zfcommon.clock import clock_for

    until = clock_for(settings.clock_file).now() - GRACE
    token = issue_token(jwks.signer(settings), "auditor", "audit-reconciliation", ttl_seconds=600)
    results = []
    for source in SOURCES:
        try:
            results.append(reconcile(conn, source, source_digests(getattr(settings, f"{source}_url"), token, until),
                                     until))
        except requests.RequestException as exc:
            conn.rollback()      # nothing of this source was stored; earlier sources were committed below
            results.append(unreachable(conn, source, until, f"{source} is not reachable: {type(exc).__name__}"))
        conn.commit()
    return summary(results)
