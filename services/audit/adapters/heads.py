"""Signed tree heads: signing the current tree, and reading heads and keys back."""
from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from zfcommon.settings import decode_key

from ..domain import checkpoint
from . import tree

log = logging.getLogger(__name__)
SIGN_LOCK = 7_263_005


def load_signing_key(encoded: str) -> Ed25519PrivateKey:
    """The Ed25519 private key from its 32-byte seed (ZF_AUDIT_SIGNING_KEY)."""
    return Ed25519PrivateKey.from_private_bytes(decode_key(encoded, "ZF_AUDIT_SIGNING_KEY"))


def register_key(conn: psycopg.Connection, origin: str, key: Ed25519PrivateKey) -> str:
    public = checkpoint.public_bytes(key.public_key())
    key_id = checkpoint.key_hash(origin, public).hex()
    conn.execute("INSERT INTO signing_keys (key_id, origin, public_key) VALUES (%s, %s, %s)"
                 " ON CONFLICT (key_id) DO NOTHING", (key_id, origin, public))
    return key_id


def sign_if_grown(conn: psycopg.Connection, origin: str, key: Ed25519PrivateKey, key_id: str) -> dict | None:
    """Sign the tree's current size if no head covers it yet; timestamps strictly increase."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (SIGN_LOCK,))
    last = latest(conn)
    size = tree.tree_size(conn)
    if last is not None and last["tree_size"] >= size:
        return None
    stamp = max(int(time.time() * 1000), (last["timestamp_ms"] + 1) if last else 0)
    head = checkpoint.TreeHead(origin, size, tree.root_at(conn, size), stamp)
    note, signature = checkpoint.sign(head, key)
    row = {"timestamp_ms": stamp, "tree_size": size, "root": head.root, "key_id": key_id,
           "signature": signature, "checkpoint": note}
    conn.execute("INSERT INTO tree_heads (timestamp_ms, tree_size, root, key_id, signature, checkpoint)"
                 " VALUES (%(timestamp_ms)s, %(tree_size)s, %(root)s, %(key_id)s, %(signature)s, %(checkpoint)s)",
                 row)
    return row


def latest(conn: psycopg.Connection) -> dict[str, Any] | None:
    return conn.execute("SELECT * FROM tree_heads ORDER BY timestamp_ms DESC LIMIT 1").fetchone()


def at_size(conn: psycopg.Connection, size: int) -> dict[str, Any] | None:
    return conn.execute("SELECT * FROM tree_heads WHERE tree_size = %s ORDER BY timestamp_ms LIMIT 1",
                        (size,)).fetchone()


def page(conn: psycopg.Connection, after: int, limit: int) -> list[dict[str, Any]]:
    """Signed heads by tree size, the sizes above `after` (one per size: the first signed)."""
    return conn.execute("SELECT DISTINCT ON (tree_size) * FROM tree_heads WHERE tree_size > %s"
                        " ORDER BY tree_size, timestamp_ms LIMIT %s", (after, limit)).fetchall()


def keys(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return conn.execute("SELECT key_id, origin, public_key, first_used FROM signing_keys ORDER BY first_used").fetchall()
