"""Subscriptions in PostgreSQL: a unit's endpoint, its secrets, and whether it is active.

Secrets are kept sealed (zfcommon.sealing, notify's master key; migration 0050), bound to the
subscription's id, and opened only to sign a delivery. They never leave this module in clear except
as the signing keys of `signing_secrets` and the one answer that shows a new secret."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

import psycopg

from zfcommon.sealing import Envelope

Row = dict[str, Any]
PUBLIC = ("id", "unit", "url", "event_types", "description", "active", "disabled_reason", "disabled_at",
          "owner_notice", "previous_secret_until", "created_at", "created_by")
_SELECT = f"SELECT {', '.join(PUBLIC)} FROM subscriptions"


def _place(sub_id: str) -> str:
    """The associated data of a subscription's sealed secrets: a sealed value copied into another
    subscription's row does not open there."""
    return f"subscription:{sub_id}"


def create(conn: psycopg.Connection, row: Row, envelope: Envelope) -> Row:
    """Insert a subscription; `row["secret"]` is stored sealed only."""
    sealed = envelope.seal_text(row["secret"], _place(row["id"]))
    return conn.execute(
        "INSERT INTO subscriptions (id, unit, url, event_types, description, secret_sealed, created_at, created_by)"
        " VALUES (%(id)s, %(unit)s, %(url)s, %(event_types)s, %(description)s, %(sealed)s, %(created_at)s,"
        f" %(created_by)s) RETURNING {', '.join(PUBLIC)}", {**row, "sealed": sealed}).fetchone()


def get(conn: psycopg.Connection, sub_id: str, *, lock: bool = False) -> Row | None:
    return conn.execute(f"{_SELECT} WHERE id = %s{' FOR UPDATE' if lock else ''}", (sub_id,)).fetchone()


def listed(conn: psycopg.Connection, unit: str | None) -> list[Row]:
    if unit is None:
        return conn.execute(f"{_SELECT} ORDER BY created_at, id").fetchall()
    return conn.execute(f"{_SELECT} WHERE unit = %s ORDER BY created_at, id", (unit,)).fetchall()


def active_of(conn: psycopg.Connection, units: Iterable[str]) -> list[Row]:
    """The active subscriptions of `units` (id, unit, event_types) in id order, in one statement
    (domain.webhooks.matching picks an event's from them)."""
    return conn.execute("SELECT id, unit, event_types FROM subscriptions WHERE active AND unit = ANY(%s) ORDER BY id",
                        (sorted(units),)).fetchall()


def signing_secrets(conn: psycopg.Connection, sub_id: str, now: datetime, envelope: Envelope) -> list[str]:
    """The secrets a message is signed with now: the current one, and the previous one while its
    grace period lasts (Standard Webhooks' space-separated signatures, so receivers can switch)."""
    row = conn.execute("SELECT secret_sealed, previous_secret_sealed, previous_secret_until FROM subscriptions"
                       " WHERE id = %s", (sub_id,)).fetchone()
    keep_old = row["previous_secret_sealed"] and row["previous_secret_until"] and row["previous_secret_until"] > now
    sealed = [row["secret_sealed"], row["previous_secret_sealed"]] if keep_old else [row["secret_sealed"]]
    return [envelope.open_text(s, _place(sub_id)) for s in sealed]


def rotate(conn: psycopg.Connection, sub_id: str, secret: str, grace: timedelta, now: datetime,
           envelope: Envelope) -> Row:
    """The new secret signs from now on; the current one moves to previous and signs beside it until
    `now + grace`. The caller holds the row's lock (and sealed it, seal_clear, were it from before 0050)."""
    return conn.execute(
        "UPDATE subscriptions SET previous_secret_sealed = secret_sealed, previous_secret_until = %s,"
        f" secret_sealed = %s WHERE id = %s RETURNING {', '.join(PUBLIC)}",
        (now + grace, envelope.seal_text(secret, _place(sub_id)), sub_id)).fetchone()


def seal_clear(conn: psycopg.Connection, envelope: Envelope, sub_id: str | None = None) -> int:
    """Seal the secrets still kept in clear by rows made before migration 0050 (all, or one) and empty
    their clear columns; returns how many rows it sealed. Safe while others run it too: FOR UPDATE makes
    a second sealer wait, and it then finds the row sealed (the WHERE is checked again) and skips it."""
    rows = conn.execute(
        "SELECT id, secret, previous_secret FROM subscriptions WHERE (secret IS NOT NULL OR previous_secret IS NOT NULL)"
        + (" AND id = %s" if sub_id else "") + " ORDER BY id FOR UPDATE", (sub_id,) if sub_id else ()).fetchall()
    for r in rows:
        seal = [envelope.seal_text(r[c], _place(r["id"])) if r[c] else None for c in ("secret", "previous_secret")]
        conn.execute("UPDATE subscriptions SET secret_sealed = COALESCE(%s, secret_sealed),"
                     " previous_secret_sealed = COALESCE(%s, previous_secret_sealed),"
                     " secret = NULL, previous_secret = NULL WHERE id = %s", (*seal, r["id"]))
    return len(rows)


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
