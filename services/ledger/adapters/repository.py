"""The ledger's tables: apply a projected row, and the queries behind the API."""
from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from zfcommon.events import Event

from ..domain import projection

COLUMNS = ("case_id", "status", "channel", "category", "description", "subject_unit", "priority",
           "location", "anonymous", "received_at", "updated_at", "version")


def apply(conn: psycopg.Connection, event: Event) -> None:
    """Consumer callback: runs inside the consumer's transaction, with the tracking insert."""
    row = conn.execute("SELECT * FROM cases WHERE case_id = %s FOR UPDATE", (event.subject,)).fetchone()
    new = projection.evolve(row, event)
    if new is not None:
        values = [Jsonb(new[c]) if c == "location" and new[c] is not None else new[c] for c in COLUMNS]
        conn.execute(
            sql.SQL("INSERT INTO cases ({cols}) VALUES ({vals}) ON CONFLICT (case_id) DO UPDATE SET {upd}").format(
                cols=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
                vals=sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)),
                upd=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                                       for c in COLUMNS if c != "case_id")),
            values)
    entry = projection.timeline_entry(event)
    conn.execute("INSERT INTO case_events (case_id, version, event_id, type, time, actor, data)"
                 " VALUES (%(case_id)s, %(version)s, %(event_id)s, %(type)s, %(time)s, %(actor)s, %(data)s)"
                 " ON CONFLICT (case_id, version) DO NOTHING", {**entry, "data": Jsonb(entry["data"])})


def get_case(conn: psycopg.Connection, case_id: str) -> dict[str, Any] | None:
    return conn.execute("SELECT * FROM cases WHERE case_id = %s", (case_id,)).fetchone()


def encode_cursor(row: dict[str, Any]) -> str:
    raw = json.dumps([row["received_at"].isoformat(), row["case_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raises ValueError on a cursor we did not make."""
    if len(cursor) > 300:
        raise ValueError("not a cursor from this API")
    try:
        received, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(received)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError("not a cursor from this API") from exc
    if at.tzinfo is None:
        raise ValueError("not a cursor from this API")
    return at, str(case_id)


def list_cases(conn: psycopg.Connection, *, status: str | None, unit: str | None, limit: int,
               after: tuple[datetime, str] | None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; keyset paging on (received_at, case_id) so pages stay stable while cases arrive."""
    where, params = [], []
    if status:
        where.append(sql.SQL("status = %s"))
        params.append(status)
    if unit:
        where.append(sql.SQL("subject_unit = %s"))
        params.append(unit)
    if after:
        where.append(sql.SQL("(received_at, case_id) < (%s, %s)"))
        params += list(after)
    query = sql.SQL("SELECT * FROM cases {where} ORDER BY received_at DESC, case_id DESC LIMIT %s").format(
        where=sql.SQL("WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""))
    rows = conn.execute(query, [*params, limit + 1]).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more else None)


def timeline(conn: psycopg.Connection, case_id: str) -> list[dict[str, Any]]:
    return conn.execute("SELECT version, event_id, type, time, actor, data FROM case_events"
                        " WHERE case_id = %s ORDER BY version", (case_id,)).fetchall()
