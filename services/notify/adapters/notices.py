"""Notices, their delivery log and SMS replies in PostgreSQL (migration 0020)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

Row = dict[str, Any]
PUBLIC = ("id", "kind", "channel", "audience", "unit", "contact_name", "recipient", "masked_to", "case_id",
          "event_id", "event_type", "subject", "body", "segments", "status", "attempts", "next_attempt_at",
          "provider_message_id", "last_error", "created_at", "updated_at", "sent_at", "replied_at")
ATTEMPT = ("started_at", "finished_at", "result", "provider_message_id", "error", "duration_ms")
_SELECT = f"SELECT {', '.join(PUBLIC)}, context, context->>'case_number' AS case_number FROM notices"


_QUEUE = ("INSERT INTO notices (kind, channel, audience, unit, contact_name, recipient, masked_to, case_id, event_id,"
          " event_type, context, status, last_error, next_attempt_at, created_at, updated_at)"
          " VALUES (%(kind)s, %(channel)s, %(audience)s, %(unit)s, %(contact_name)s, %(recipient)s, %(masked_to)s,"
          " %(case_id)s, %(event_id)s, %(event_type)s, %(context)s, %(status)s, %(last_error)s,"
          " CASE WHEN %(status)s = 'queued' THEN %(now)s::timestamptz END, %(now)s, %(now)s)"
          " ON CONFLICT (event_id, recipient, kind) DO NOTHING")


def queue(conn: psycopg.Connection, row: Row) -> bool:
    """Queue one notice; False when the event already queued it for this recipient (UNIQUE)."""
    return conn.execute(_QUEUE + " RETURNING id", {**row, "context": Jsonb(row["context"])}).fetchone() is not None


def queue_many(conn: psycopg.Connection, rows: list[Row]) -> None:
    """queue for many, in their order, in one pipelined round trip."""
    if rows:
        with conn.cursor() as cur:
            cur.executemany(_QUEUE, [{**row, "context": Jsonb(row["context"])} for row in rows])


def skip_complainant(conn: psycopg.Connection, case_id: str, reason: str, now: datetime) -> int:
    """The complainant's data was erased: whatever is still queued for them is skipped."""
    return conn.execute("UPDATE notices SET status = 'skipped', last_error = %s, next_attempt_at = NULL,"
                        " updated_at = %s WHERE case_id = %s AND audience = 'complainant' AND status = 'queued'",
                        (reason, now, case_id)).rowcount


def unreachable(conn: psycopg.Connection, recipient: str, reasons: list[str], since: datetime) -> list[Row]:
    """A unit's recent notices that were skipped because nobody could be told, for these reasons."""
    return conn.execute("SELECT id, kind, case_id, event_id, event_type, context FROM notices WHERE recipient = %s"
                        " AND status = 'skipped' AND last_error = ANY(%s) AND created_at >= %s ORDER BY id",
                        (recipient, reasons, since)).fetchall()


# -- the sender ------------------------------------------------------------------------------------
# Why FOR NO KEY UPDATE SKIP LOCKED: several sender workers never take the same notice, and the lock
# lasts while it is being sent. NO KEY (not FOR UPDATE) lets the attempt row, committed on another
# connection, reference the locked notice: its foreign-key check takes a KEY SHARE lock.
# Why NOT EXISTS: one recipient hears of one case in the order the notices were queued (结案 before the
# request to rate it), however many workers send. A notice waits while an earlier one of its case to
# the same recipient is still queued — being sent by another worker (its row is locked, still 'queued'
# in this snapshot) or waiting for a retry.
_CLAIM = f"""
SELECT {', '.join(f'n.{c}' for c in PUBLIC)}, n.context FROM notices n
WHERE n.status = 'queued' AND n.next_attempt_at <= %s
  AND NOT EXISTS (SELECT 1 FROM notices e WHERE e.case_id = n.case_id AND e.recipient = n.recipient
                  AND e.id < n.id AND e.status = 'queued')
ORDER BY n.next_attempt_at, n.id
LIMIT 1
FOR NO KEY UPDATE OF n SKIP LOCKED
"""


def claim(conn: psycopg.Connection, now: datetime) -> Row | None:
    return conn.execute(_CLAIM, (now,)).fetchone()


def unfinished_attempt(conn: psycopg.Connection, notice_id: int) -> Row | None:
    return conn.execute("SELECT id FROM notice_attempts WHERE notice_id = %s AND finished_at IS NULL",
                        (notice_id,)).fetchone()


def start_attempt(log_conn: psycopg.Connection, notice_id: int, now: datetime) -> int:
    """On the autocommit log connection: the attempt is on record before anything leaves."""
    return log_conn.execute("INSERT INTO notice_attempts (notice_id, started_at) VALUES (%s, %s) RETURNING id",
                            (notice_id, now)).fetchone()["id"]


def finish_attempt(conn: psycopg.Connection, attempt_id: int | None, notice_id: int, attempt: Row) -> None:
    """Record how an attempt ended (a new row when it never started: nothing was sent)."""
    values = {**attempt, "id": attempt_id, "notice_id": notice_id}
    if attempt_id is None:
        conn.execute(f"INSERT INTO notice_attempts (notice_id, {', '.join(ATTEMPT)}) VALUES (%(notice_id)s, "
                     + ", ".join(f"%({c})s" for c in ATTEMPT) + ")", values)
    else:
        conn.execute("UPDATE notice_attempts SET " + ", ".join(f"{c} = %({c})s" for c in ATTEMPT[1:])
                     + " WHERE id = %(id)s", values)


def update(conn: psycopg.Connection, notice_id: int, **changes: Any) -> None:
    conn.execute(sql.SQL("UPDATE notices SET {} WHERE id = %(id)s").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes)),
        {**changes, "id": notice_id})


# -- the API ---------------------------------------------------------------------------------------
FILTERS = ("case_id", "unit", "kind", "status", "channel", "audience")


def listed(conn: psycopg.Connection, filters: dict[str, Any], *, limit: int, offset: int) -> list[Row]:
    """Newest first, filtered on any of FILTERS."""
    given = [(k, v) for k, v in filters.items() if k in FILTERS and v is not None]
    where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k, _ in given) \
        if given else sql.SQL("true")
    return conn.execute(sql.SQL(_SELECT + " WHERE {} ORDER BY id DESC LIMIT %s OFFSET %s").format(where),
                        [v for _, v in given] + [limit, offset]).fetchall()


def get(conn: psycopg.Connection, notice_id: int, *, lock: bool = False) -> Row | None:
    return conn.execute(_SELECT + " WHERE id = %s" + (" FOR NO KEY UPDATE" if lock else ""), (notice_id,)).fetchone()


def attempts(conn: psycopg.Connection, notice_id: int) -> list[Row]:
    return conn.execute(f"SELECT {', '.join(ATTEMPT)} FROM notice_attempts WHERE notice_id = %s ORDER BY id",
                        (notice_id,)).fetchall()


# -- SMS replies -------------------------------------------------------------------------------------
def reply(conn: psycopg.Connection, webhook_id: str) -> Row | None:
    return conn.execute("SELECT * FROM sms_replies WHERE webhook_id = %s", (webhook_id,)).fetchone()


def record_reply(conn: psycopg.Connection, row: Row) -> Row:
    """The first answer to a webhook-id stays its answer (a concurrent retry finds it)."""
    conn.execute("INSERT INTO sms_replies (webhook_id, received_at, notice_id, case_id, satisfaction, outcome)"
                 " VALUES (%(webhook_id)s, %(received_at)s, %(notice_id)s, %(case_id)s, %(satisfaction)s,"
                 " %(outcome)s) ON CONFLICT (webhook_id) DO NOTHING", row)
    return reply(conn, row["webhook_id"])
