"""API clients issued by the office: departments' systems and third-party apps (Open311 included).

A key is `zfk_<client_id>_<secret>`; only its SHA-256 is stored. A client is scoped like a token: to
a unit (its cases) or to a channel (leads it may submit), and carries its own rate limit.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg

KEY_PREFIX = "zfk_"


@dataclass(frozen=True)
class ApiClient:
    client_id: str
    department: str
    role: str                    # "unit" or "channel"
    unit: str | None
    channel: str | None
    rate_per_minute: int


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def new_key(client_id: str) -> str:
    return f"{KEY_PREFIX}{client_id}_{secrets.token_urlsafe(32)}"


def register(conn: psycopg.Connection, client: ApiClient, created_by: str) -> str:
    """Store a new client and return its first key (shown once, never stored)."""
    conn.execute("INSERT INTO api_clients (client_id, department, role, unit, channel, rate_per_minute,"
                 " created_by) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                 (client.client_id, client.department, client.role, client.unit, client.channel,
                  client.rate_per_minute, created_by))
    return add_key(conn, client.client_id)


def add_key(conn: psycopg.Connection, client_id: str) -> str:
    key = new_key(client_id)
    conn.execute("INSERT INTO api_keys (key_hash, client_id) VALUES (%s, %s)", (_hash(key), client_id))
    return key


def authenticate(conn: psycopg.Connection, key: str, now: datetime) -> ApiClient | None:
    """The live client a key belongs to, or None (unknown, expired or revoked key)."""
    if not key.startswith(KEY_PREFIX):
        return None
    row = conn.execute(
        "SELECT c.client_id, c.department, c.role, c.unit, c.channel, c.rate_per_minute"
        " FROM api_keys k JOIN api_clients c USING (client_id)"
        " WHERE k.key_hash = %s AND c.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > %s)",
        (_hash(key), now)).fetchone()
    return ApiClient(**row) if row else None
