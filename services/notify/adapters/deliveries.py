"""Deliveries and their log in PostgreSQL: the queue the dispatcher works through.

A delivery row is written in the consumer's transaction with the event's tracking row, so each event
is queued exactly once however often Kafka redelivers it. `subscription_id` NULL means the hotline.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

Row = dict[str, Any]
PUBLIC = ("id", "subscription_id", "case_id", "event_id", "event_type", "status", "attempts", "next_attempt_at",
          "last_status", "last_error", "created_at", "delivered_at")
ATTEMPT = ("attempted_at", "status_code", "duration_ms", "error", "response", "next_attempt_at")


_ENQUEUE = ("INSERT INTO deliveries (id, subscription_id, case_id, event_id, event_type, content_type, body,"
            " next_attempt_at, created_at) VALUES (%(id)s, %(subscription_id)s, %(case_id)s, %(event_id)s,"
            " %(event_type)s, %(content_type)s, %(body)s, %(created_at)s, %(created_at)s)"
            " ON CONFLICT (id) DO NOTHING")


def enqueue(conn: psycopg.Connection, row: Row) -> None:
    conn.execute(_ENQUEUE, row)


def enqueue_many(conn: psycopg.Connection, rows: list[Row]) -> None:
    """Queue messages in their order (each takes the next `seq`, the order the dispatcher keeps per case
    and endpoint), in one pipelined round trip; one already queued (same id) is left as it is."""
    if rows:
        with conn.cursor() as cur:
            cur.executemany(_ENQUEUE, rows)


# Why the NOT EXISTS: an endpoint gets a case's events in order. While an earlier message of the same
# case to the same endpoint is pending (waiting for a retry, or being sent by another worker, which
# holds its row lock but has not changed its status yet), a later one is not taken. A dead-lettered
# message no longer holds the others back.
# Why FOR UPDATE SKIP LOCKED: several dispatcher workers (threads or processes) never take the same
# message; the row stays locked while it is being sent, and a worker that dies releases it unchanged,
# so it is simply tried again (at least once; the receiver dedupes by webhook-id).
_CLAIM = """
SELECT d.id, d.subscription_id, d.case_id, d.event_type, d.content_type, d.body, d.attempts, s.url
FROM deliveries d LEFT JOIN subscriptions s ON s.id = d.subscription_id
WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s
  AND (s.active OR (d.subscription_id IS NULL AND %(hotline)s))
  AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.status = 'pending' AND e.case_id = d.case_id
                  AND e.subscription_id IS NOT DISTINCT FROM d.subscription_id AND e.seq < d.seq)
ORDER BY d.next_attempt_at, d.seq
LIMIT 1
FOR UPDATE OF d SKIP LOCKED
"""


def claim(conn: psycopg.Connection, now: datetime, *, hotline: bool) -> Row | None:
    """The next due message, locked until the caller's transaction ends; hotline ones only when
    callbacks are configured."""
    return conn.execute(_CLAIM, {"now": now, "hotline": hotline}).fetchone()


def record(conn: psycopg.Connection, delivery_id: str, attempt: Row, *, status: str, attempts: int) -> None:
    """Log one attempt and move the delivery on: delivered, pending until `next_attempt_at`, or dead."""
    conn.execute(f"INSERT INTO delivery_attempts (delivery_id, {', '.join(ATTEMPT)})"
                 f" VALUES (%(delivery_id)s, {', '.join(f'%({c})s' for c in ATTEMPT)})",
                 {**attempt, "delivery_id": delivery_id})
    conn.execute(
        "UPDATE deliveries SET status = %(status)s, attempts = %(attempts)s, next_attempt_at = %(next_attempt_at)s,"
        " last_status = %(status_code)s, last_error = %(error)s,"
        " delivered_at = CASE WHEN %(status)s = 'delivered' THEN %(attempted_at)s END WHERE id = %(id)s",
        {**attempt, "status": status, "attempts": attempts, "id": delivery_id})


def get(conn: psycopg.Connection, delivery_id: str) -> Row | None:
    return conn.execute(f"SELECT {', '.join(PUBLIC)} FROM deliveries WHERE id = %s", (delivery_id,)).fetchone()


def listed(conn: psycopg.Connection, subscription_id: str | None, *, status: str | None, limit: int) -> list[Row]:
    """An endpoint's deliveries (the hotline's when `subscription_id` is None), newest first, each with
    its attempts in order."""
    rows = conn.execute(
        f"SELECT {', '.join(PUBLIC)} FROM deliveries WHERE subscription_id IS NOT DISTINCT FROM %s"
        " AND (%s::text IS NULL OR status = %s) ORDER BY seq DESC LIMIT %s",
        (subscription_id, status, status, limit)).fetchall()
    attempts: dict[str, list[Row]] = {r["id"]: [] for r in rows}
    for a in conn.execute(f"SELECT delivery_id, {', '.join(ATTEMPT)} FROM delivery_attempts"
                          " WHERE delivery_id = ANY(%s) ORDER BY id", (list(attempts),)):
        attempts[a.pop("delivery_id")].append(a)
    return [{**r, "attempts_log": attempts[r["id"]]} for r in rows]


def redeliver(conn: psycopg.Connection, delivery_id: str, now: datetime) -> Row:
    """Send again from the start of the schedule, under the same webhook-id."""
    return conn.execute(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = %s WHERE id = %s"
        f" RETURNING {', '.join(PUBLIC)}", (now, delivery_id)).fetchone()
