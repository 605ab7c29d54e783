"""Reconciliation: does the trail hold exactly the events of intake's event store?

Both sides compute, per stream, the number of events and the SHA-256 of their ids joined by "," in
stream-version order, over events whose time is before `until` (a moment safely in the past, so
events still on their way through Kafka are not reported as missing). Intake answers over HTTP
(`GET /v1/streams/digests`); services never read each other's tables.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Iterator

import psycopg
import requests
from psycopg.types.json import Jsonb


def intake_digests(intake_url: str, token: str, until: datetime) -> Iterator[dict]:
    session, after = requests.Session(), ""
    session.headers["Authorization"] = f"Bearer {token}"
    while after is not None:
        resp = session.get(f"{intake_url.rstrip('/')}/v1/streams/digests",
                           params={"until": until.isoformat(), "after": after, "limit": 5000}, timeout=30)
        resp.raise_for_status()
        body = resp.json()
        yield from body["streams"]
        after = body["next_after"]


def trail_digests(conn: psycopg.Connection, until: datetime) -> dict[str, tuple[int, str, list[str]]]:
    # Only intake's events: other services' streams (notify's escalations share a case's subject) live
    # in their own stores, which intake's digests know nothing of.
    rows = conn.execute(
        "SELECT subject, array_agg(event::jsonb->>'id' ORDER BY (event::jsonb->>'streamversion')::int) AS ids"
        " FROM trail WHERE event_time < %s AND event_key LIKE '/zhengfeng/intake#%%' GROUP BY subject",
        (until,)).fetchall()
    return {r["subject"]: (len(r["ids"]), hashlib.sha256(",".join(r["ids"]).encode()).hexdigest(), r["ids"])
            for r in rows}


def reconcile(conn: psycopg.Connection, intake: Iterator[dict], until: datetime) -> dict:
    """Compare, store the result, and return it."""
    ours = trail_digests(conn, until)
    missing = extra = differing = streams = 0
    problems: list[dict] = []
    for theirs in intake:
        streams += 1
        count, digest, _ = ours.pop(theirs["stream_id"], (0, "", []))
        if digest == theirs["digest"]:
            continue
        gap = theirs["count"] - count
        missing += max(gap, 0)
        extra += max(-gap, 0)
        differing += gap == 0
        problems.append({"stream": theirs["stream_id"], "intake": theirs["count"], "trail": count})
    for stream, (count, _, _) in ours.items():       # streams intake does not know at all
        extra += count
        problems.append({"stream": stream, "intake": 0, "trail": count})
    result = {"until": until, "streams": streams, "missing": missing, "extra": extra, "differing": differing,
              "report": problems[:1000]}
    conn.execute("INSERT INTO reconciliations (until, streams, missing, extra, differing, report)"
                 " VALUES (%(until)s, %(streams)s, %(missing)s, %(extra)s, %(differing)s, %(report)s)",
                 {**result, "report": Jsonb(result["report"])})
    return result


def latest(conn: psycopg.Connection) -> dict | None:
    return conn.execute("SELECT * FROM reconciliations ORDER BY id DESC LIMIT 1").fetchone()


GRACE = timedelta(seconds=60)


def run_reconciliation(conn: psycopg.Connection, settings) -> dict:
    """Reconcile events older than a minute (by the service clock) and commit the result."""
    from zfcommon.auth import issue_token
    from zfcommon.clock import clock_for

    until = clock_for(settings.clock_file).now() - GRACE
    token = issue_token(settings.jwt_secret, "auditor", "audit-reconciliation", ttl_seconds=600)
    result = reconcile(conn, intake_digests(settings.intake_url, token, until), until)
    conn.commit()
    return result
