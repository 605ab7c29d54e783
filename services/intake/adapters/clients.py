"""API clients issued by the office: departments' systems and third-party apps (Open311 included).

A key is `zfk_<client_id>_<secret>`; only its SHA-256 is stored. A client is scoped like a token: to
a unit (its cases) or to a channel (leads it may submit), and carries its own rate limit. Every
function runs in the caller's transaction.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

KEY_PREFIX = "zfk_"
CLIENT_PREFIX = "client-"


@dataclass(frozen=True)
class ApiClient:
    client_id: str
    department: str
    role: str                    # "unit" or "channel"
    unit: str | None
    channel: str | None
    rate_per_minute: int
    key_issued_at: float | None = None   # epoch seconds: when the key it authenticated with was issued


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def new_client_id() -> str:
    return CLIENT_PREFIX + secrets.token_hex(6)


def new_key(client_id: str) -> str:
    return f"{KEY_PREFIX}{client_id}_{secrets.token_urlsafe(32)}"


def register(conn: psycopg.Connection, client: ApiClient, created_by: str, now: datetime | None = None) -> str:
    """Store a new client and return its first key (shown once, never stored)."""
    conn.execute("INSERT INTO api_clients (client_id, department, role, unit, channel, rate_per_minute,"
                 " created_by, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()))",
                 (client.client_id, client.department, client.role, client.unit, client.channel,
                  client.rate_per_minute, created_by, now))
    return add_key(conn, client.client_id, now)


def add_key(conn: psycopg.Connection, client_id: str, now: datetime | None = None) -> str:
    key = new_key(client_id)
    conn.execute("INSERT INTO api_keys (key_hash, client_id, created_at) VALUES (%s, %s, coalesce(%s, now()))",
                 (_hash(key), client_id, now))
    return key


def authenticate(conn: psycopg.Connection, key: str, now: datetime) -> ApiClient | None:
    """The live client a key belongs to, or None (unknown, expired or revoked key)."""
    if not key.startswith(KEY_PREFIX):
        return None
    row = conn.execute(
        "SELECT c.client_id, c.department, c.role, c.unit, c.channel, c.rate_per_minute,"
        " extract(epoch FROM k.created_at)::float8 AS key_issued_at"
        " FROM api_keys k JOIN api_clients c USING (client_id)"
        " WHERE k.key_hash = %s AND c.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > %s)",
        (_hash(key), now)).fetchone()
    return ApiClient(**row) if row else None


def lock(conn: psycopg.Connection, client_id: str) -> dict[str, Any] | None:
    """Lock the client's row until the transaction ends (rotations and revocations of one client take
    turns, so its event stream never sees two writers); None when there is no such client."""
    return conn.execute("SELECT client_id, revoked_at FROM api_clients WHERE client_id = %s FOR UPDATE",
                        (client_id,)).fetchone()


def expire_keys(conn: psycopg.Connection, client_id: str, at: datetime) -> None:
    """Keys issued so far stop working at `at`; one that already expires sooner keeps its earlier end."""
    conn.execute("UPDATE api_keys SET expires_at = LEAST(coalesce(expires_at, 'infinity'), %s)"
                 " WHERE client_id = %s", (at, client_id))


def mark_rotated(conn: psycopg.Connection, client_id: str, now: datetime) -> None:
    conn.execute("UPDATE api_clients SET rotated_at = %s WHERE client_id = %s", (now, client_id))


def revoke(conn: psycopg.Connection, client_id: str, now: datetime, by: str, reason: str | None) -> None:
    conn.execute("UPDATE api_clients SET revoked_at = %s, revoked_by = %s, revoke_reason = %s"
                 " WHERE client_id = %s", (now, by, reason, client_id))
    expire_keys(conn, client_id, now)


def touch(conn: psycopg.Connection, client_id: str, now: datetime) -> None:
    conn.execute("UPDATE api_clients SET last_used_at = %s WHERE client_id = %s", (now, client_id))


def is_live(conn: psycopg.Connection, client_id: str) -> bool:
    return conn.execute("SELECT 1 FROM api_clients WHERE client_id = %s AND revoked_at IS NULL",
                        (client_id,)).fetchone() is not None


def key_live(conn: psycopg.Connection, client_id: str, key_issued_at: float, now: datetime) -> bool:
    """Whether the client's key issued at `key_issued_at` (epoch seconds, as its tokens say) still works."""
    return conn.execute(
        "SELECT 1 FROM api_keys WHERE client_id = %s AND abs(extract(epoch FROM created_at)::float8 - %s) < 0.001"
        " AND (expires_at IS NULL OR expires_at > %s)", (client_id, key_issued_at, now)).fetchone() is not None


# What the office may see of a client: everything but its keys, plus how many keys work now and when
# the earliest of them stops (the end of a rotation's grace period).
_VIEW = (
    "SELECT c.client_id, c.department, c.role, c.unit, c.channel, c.rate_per_minute, c.created_by,"
    " c.created_at, c.rotated_at, c.revoked_at, c.revoked_by, c.revoke_reason, c.last_used_at,"
    " count(k.key_hash) FILTER (WHERE c.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > %(now)s))"
    "   AS live_keys,"
    " min(k.expires_at) FILTER (WHERE c.revoked_at IS NULL AND k.expires_at > %(now)s) AS next_key_expiry"
    " FROM api_clients c LEFT JOIN api_keys k USING (client_id) {where}"
    " GROUP BY c.client_id ORDER BY c.created_at, c.client_id")


def view(conn: psycopg.Connection, client_id: str, now: datetime) -> dict[str, Any] | None:
    return conn.execute(_VIEW.format(where="WHERE c.client_id = %(id)s"), {"now": now, "id": client_id}).fetchone()


def view_all(conn: psycopg.Connection, now: datetime) -> list[dict[str, Any]]:
    return conn.execute(_VIEW.format(where=""), {"now": now}).fetchall()
