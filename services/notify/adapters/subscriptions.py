"""Subscriptions in PostgreSQL: a unit's endpoint, its secrets, and whether it is active."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

import psycopg

Row = dict[str, Any]
PUBLIC = ("id", "unit", "url", "event_types", "description", "active", "disabled_reason", "disabled_at",
          "owner_notice", "previous_secret_until", "created_at", "created_by")
_SELECT = f"SELECT {', '.join(PUBLIC)} FROM subscriptions"


def create(conn: psycopg.Connection, row: Row) -> Row:
    return conn.execute(
        "INSERT INTO subscriptions (id, unit, url, event_types, description, secret, created_at, created_by)"
        " VALUES (%(id)s, %(unit)s, %(url)s, %(event_types)s, %(description)s, %(secret)s, %(created_at)s,"
        f" %(created_by)s) RETURNING {', '.join(PUBLIC)}", row).fetchone()


def get(conn: psycopg.Connection, sub_id: str, *, lock: bool = False) -> Row | None:
    return conn.execute(f"{_SELECT} WHERE id = %s{' FOR UPDATE' if lock else ''}", (sub_id,)).fetchone()


def listed(conn: psycopg.Connection, unit: str | None) -> list[Row]:
    if unit is None:
        return conn.execute(f"{_SELECT} ORDER BY created_at, id").fetchall()
    return conn.execute(f"{_SELECT} WHERE unit = %s ORDER BY created_at, id", (unit,)).fetchall()


def matching(conn: psycopg.Connection, units: Iterable[str], event_type: str) -> list[str]:
    """Ids of the active subscriptions of `units` that want `event_type` (NULL filter: every type)."""
    return [r["id"] for r in conn.execute(
        "SELECT id FROM subscriptions WHERE active AND unit = ANY(%s)"
        " AND (event_types IS NULL OR %s = ANY(event_types)) ORDER BY id", (list(units), event_type))]


def signing_secrets(conn: psycopg.Connection, sub_id: str, now: datetime) -> list[str]:
    """The secrets a message is signed with now: the current one, and the previous one while its
    grace period lasts (Standard Webhooks' space-separated signatures, so receivers can switch)."""
    row = conn.execute("SELECT secret, previous_secret, previous_secret_until FROM subscriptions WHERE id = %s",
                       (sub_id,)).fetchone()
    keep_old = row["previous_secret"] and row["previous_secret_until"] and row["previous_secret_until"] > now
    return [row["secret"], row["previous_secret"]] if keep_old else [row["secret"]]


def rotate(conn: psycopg.Connection, sub_id: str, secret: str, grace: timedelta, now: datetime) -> Row:
    return conn.execute(
        "UPDATE subscriptions SET previous_secret = secret, previous_secret_until = %s, secret = %s"
        f" WHERE id = %s RETURNING {', '.join(PUBLIC)}", (now + grace, secret, sub_id)).fetchone()


def enable(conn: psycopg.Connection, sub_id: str, now: datetime) -> Row:
    """Active again; its messages held while it was disabled are due at once."""
    conn.execute("UPDATE deliveries SET next_attempt_at = %s WHERE subscription_id = %s AND status = 'pending'",
                 (now, sub_id))
    return conn.execute(
        "UPDATE subscriptions SET active = true, disabled_reason = NULL, disabled_at = NULL, owner_notice = NULL"
        f" WHERE id = %s RETURNING {', '.join(PUBLIC)}", (sub_id,)).fetchone()


def disable(conn: psycopg.Connection, sub_id: str, reason: str, now: datetime) -> Row:
    """Inactive: nothing new is queued for it and its pending messages wait. When deliveries disabled
    it (gone, failing), its owner is due a notice another way (service_layer.notices.webhook_disabled)."""
    return conn.execute(
        "UPDATE subscriptions SET active = false, disabled_reason = %s, disabled_at = %s,"
        " owner_notice = CASE WHEN %s = 'manual' THEN NULL ELSE 'due' END"
        f" WHERE id = %s RETURNING {', '.join(PUBLIC)}", (reason, now, reason, sub_id)).fetchone()


def notice_sent(conn: psycopg.Connection, sub_id: str) -> None:
    conn.execute("UPDATE subscriptions SET owner_notice = 'sent' WHERE id = %s AND owner_notice = 'due'", (sub_id,))
