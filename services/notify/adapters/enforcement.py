"""Enforcement and supervision actions and their SMS ratings (执法监督短信评议) in notify's tables:
`enforcement_actions`, projected from their events (the command applies them at once; the consumer and
a rebuild from the trail apply them again, idempotently by stream version), and `enforcement_contacts`,
the party's number sealed until the rating or its expiry (never in an event, never rebuilt)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from zfcommon.events import Event
from zfcommon.sealing import Envelope, SealError

from ..domain import enforcement

Row = dict[str, Any]


def apply(conn: psycopg.Connection, event: Event) -> None:
    """Fold one event into `enforcement_actions`; any other event changes nothing."""
    if event.type == enforcement.RECORDED:
        d = event.data
        conn.execute(
            "INSERT INTO enforcement_actions (action_id, unit, kind, section, matter, party, performed_on, officers,"
            " phone_masked, phone_key, recorded_at, recorded_by, version)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (action_id) DO NOTHING",
            (str(d["action_id"]), d["unit"], d["kind"], d["section"], d["matter"], d["party"], d["performed_on"],
             Jsonb(d["officers"]), d["phone_masked"], d["phone_key"], event.time, event.actor, event.streamversion))
    elif event.type == enforcement.ROSTER:
        d = event.data
        conn.execute("INSERT INTO enforcement_rosters (unit, staff, version, published_at, published_by)"
                     " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (unit) DO UPDATE SET staff = EXCLUDED.staff,"
                     " version = EXCLUDED.version, published_at = EXCLUDED.published_at,"
                     " published_by = EXCLUDED.published_by WHERE enforcement_rosters.version < EXCLUDED.version",
                     (d["unit"], Jsonb(d["staff"]), event.streamversion, event.time, event.actor))
    elif event.type == enforcement.RATED:
        d = event.data
        conn.execute("UPDATE enforcement_actions SET grade = %s, rated_at = %s, counted_in = %s, version = %s"
                     " WHERE action_id = %s AND version < %s",
                     (d["grade"], event.time, d["counted_in"], event.streamversion, str(d["action_id"]),
                      event.streamversion))


def roster(conn: psycopg.Connection, unit: str) -> Row | None:
    return conn.execute("SELECT * FROM enforcement_rosters WHERE unit = %s", (unit,)).fetchone()


def rosters(conn: psycopg.Connection) -> list[Row]:
    """Every unit's published roster with someone on it, by unit."""
    return conn.execute("SELECT * FROM enforcement_rosters WHERE jsonb_array_length(staff) > 0 ORDER BY unit").fetchall()


def get(conn: psycopg.Connection, action_id: str) -> Row | None:
    return conn.execute("SELECT * FROM enforcement_actions WHERE action_id = %s", (action_id,)).fetchone()


def listed(conn: psycopg.Connection, *, units: list[str] | None, first: date | None, last: date | None,
           rated: bool | None, limit: int | None, offset: int = 0) -> list[Row]:
    """Newest first by the day acted; `units` None: every unit."""
    where, args = ["TRUE"], []
    if units is not None:
        where.append("unit = ANY(%s)")
        args.append(units)
    if first is not None:
        where.append("performed_on >= %s")
        args.append(first)
    if last is not None:
        where.append("performed_on <= %s")
        args.append(last)
    if rated is not None:
        where.append("grade IS NOT NULL" if rated else "grade IS NULL")
    query = (f"SELECT * FROM enforcement_actions WHERE {' AND '.join(where)}"
             " ORDER BY performed_on DESC, recorded_at DESC, action_id")
    if limit is not None:
        query += " LIMIT %s OFFSET %s"
        args += [limit, offset]
    return conn.execute(query, args).fetchall()


def asked_that_day(conn: psycopg.Connection, unit: str, phone_key: str, day: date) -> bool:
    """Whether `unit` already recorded an action on `day` with the number whose key is `phone_key`."""
    return conn.execute("SELECT 1 FROM enforcement_actions WHERE performed_on = %s AND unit = %s AND phone_key = %s",
                        (day, unit, phone_key)).fetchone() is not None


# -- the party's number ------------------------------------------------------------------------------
def _aad(action_id: str) -> str:
    return f"enforcement-contact:{action_id}"


def keep_phone(conn: psycopg.Connection, secrets: Envelope, action_id: str, phone: str, expires_at: datetime) -> None:
    conn.execute("INSERT INTO enforcement_contacts (action_id, phone, expires_at) VALUES (%s, %s, %s)"
                 " ON CONFLICT (action_id) DO NOTHING",
                 (action_id, secrets.seal_text(phone, _aad(action_id)), expires_at))


def phone(conn: psycopg.Connection, secrets: Envelope, action_id: str, now: datetime) -> str | None:
    """The party's number while the request may still be answered; None once rated, expired or unreadable."""
    row = conn.execute("SELECT phone FROM enforcement_contacts WHERE action_id = %s AND expires_at > %s",
                       (action_id, now)).fetchone()
    if row is None:
        return None
    try:
        return secrets.open_text(row["phone"], _aad(action_id))
    except SealError:
        return None


def has_phone(conn: psycopg.Connection, action_id: str) -> bool:
    return conn.execute("SELECT 1 FROM enforcement_contacts WHERE action_id = %s", (action_id,)).fetchone() is not None


def forget_phone(conn: psycopg.Connection, action_id: str) -> None:
    conn.execute("DELETE FROM enforcement_contacts WHERE action_id = %s", (action_id,))


def forget_expired(conn: psycopg.Connection, now: datetime) -> int:
    """Delete the numbers whose requests can no longer be answered; how many."""
    return conn.execute("DELETE FROM enforcement_contacts WHERE expires_at <= %s", (now,)).rowcount
