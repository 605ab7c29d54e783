"""notify's tables of exposures and of the publications the public page lists (migration 0030), kept
from events by `apply` (the consumer, the rebuild, and the command that appended them), and read back."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from zfcommon.events import Event

from ..domain import exposure

Row = dict[str, Any]
COLUMNS = ("id", "case_id", "state", "version", "title", "category", "lesson", "case", "selected_by", "selected_at",
           "draft", "removed", "complainant_checked", "revision", "redacted_by", "redacted_at", "approved_revision",
           "approved_by", "approved_at", "published", "digest", "published_at", "published_by", "withdrawn_at",
           "withdrawn_by", "withdraw_reason")
JSON = ("case", "draft", "removed", "published")
_UPSERT = sql.SQL("INSERT INTO exposures ({cols}) VALUES ({vals}) ON CONFLICT (id) DO UPDATE SET {sets}").format(
    cols=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
    vals=sql.SQL(", ").join(sql.Placeholder(c) for c in COLUMNS),
    sets=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in COLUMNS[1:]))
# The published events of the other publications the public page lists, and their kinds.
PUBLISHED = {f"cn.zhengfeng.{kind}.published.v1": kind for kind in ("bulletin", "interim", "disclosure", "appraisal")}


def apply(conn: psycopg.Connection, event: Event) -> None:
    """Fold one event into the tables; any other event changes nothing. Idempotent: exposures by
    stream version, publications by stream (a published publication never changes)."""
    if exposure.is_exposure(event.type):
        row = conn.execute("SELECT * FROM exposures WHERE id = %s FOR UPDATE",
                           (event.data["exposure_id"],)).fetchone()
        new = exposure.evolve(row, event.type, event.data, version=event.streamversion, time=event.time,
                              actor=event.actor)
        if new is not None:
            conn.execute(_UPSERT, {**new, **{c: Jsonb(new[c]) for c in JSON}})
    elif event.type in PUBLISHED:
        kind = PUBLISHED[event.type]      # the stream is <kind>-<key>
        conn.execute("INSERT INTO public_publications (stream, kind, key, title, digest, published_at,"
                     " document_number) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (stream) DO NOTHING",
                     (event.subject, kind, event.subject.removeprefix(f"{kind}-"), event.data["title"],
                      event.data["digest"], event.time, (event.data.get("document") or {}).get("number")))


def get(conn: psycopg.Connection, exposure_id: str) -> Row | None:
    return conn.execute("SELECT * FROM exposures WHERE id = %s", (exposure_id,)).fetchone()


def active_for_case(conn: psycopg.Connection, case_id: str) -> Row | None:
    """The case's exposure that is not withdrawn, if any (a case is exposed once at a time)."""
    return conn.execute("SELECT * FROM exposures WHERE case_id = %s AND state <> 'withdrawn' LIMIT 1",
                        (case_id,)).fetchone()


def lock_case(conn: psycopg.Connection, case_id: str) -> None:
    """Serialise selections of one case until the transaction ends (two offices selecting it at once)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"exposure-case:{case_id}",))


def listing(conn: psycopg.Connection, state: str | None, limit: int, offset: int) -> list[Row]:
    where = sql.SQL(" WHERE state = %(state)s" if state else "")
    return conn.execute(sql.SQL("SELECT * FROM exposures{w} ORDER BY selected_at DESC, id LIMIT %(limit)s"
                                " OFFSET %(offset)s").format(w=where),
                        {"state": state, "limit": limit, "offset": offset}).fetchall()


def published(conn: psycopg.Connection, limit: int | None = None) -> list[Row]:
    """Published exposures, newest first: the public's view (withdrawn ones are gone)."""
    return conn.execute("SELECT id, published, digest, published_at FROM exposures WHERE state = 'published'"
                        " ORDER BY published_at DESC, id LIMIT %s", (limit,)).fetchall()


def publications(conn: psycopg.Connection, limit: int | None = None) -> list[Row]:
    return conn.execute("SELECT * FROM public_publications ORDER BY published_at DESC, stream LIMIT %s",
                        (limit,)).fetchall()


def publication(conn: psycopg.Connection, kind: str, key: str) -> Row | None:
    return conn.execute("SELECT * FROM public_publications WHERE kind = %s AND key = %s", (kind, key)).fetchone()


def last_change(conn: psycopg.Connection) -> datetime | None:
    """When the public output last changed: a publication, or the withdrawal of a published exposure."""
    return conn.execute(
        "SELECT greatest((SELECT max(greatest(published_at, withdrawn_at)) FROM exposures"
        "                 WHERE published_at IS NOT NULL),"
        "                (SELECT max(published_at) FROM public_publications)) AS at").fetchone()["at"]
