"""The trail table: append (from the consumer) and read (for the API)."""
from __future__ import annotations

from typing import Any

import psycopg

from zfcommon.events import Event

from ..domain import merkle
from ..domain.chain import GENESIS, canonical_bytes, link
from ..domain.units import units_of
from . import tree

APPEND_LOCK = 7_263_004


def apply(conn: psycopg.Connection, event: Event) -> None:
    """Consumer callback. The transaction-level advisory lock serialises appenders, so the chain
    never forks even if several audit consumers run; it is released at commit."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
    last = conn.execute("SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last["seq"] + 1, bytes(last["hash"])) if last else (1, GENESIS)
    canonical = canonical_bytes(event.to_dict())
    inserted = conn.execute(
        "INSERT INTO trail (seq, event_key, topic, subject, type, actor, event_time, event, prev_hash, hash, units)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_key) DO NOTHING",
        (seq, f"{event.source}#{event.id}", event.topic, event.subject, event.type, event.actor, event.time,
         canonical.decode("utf-8"), prev, link(prev, canonical), units_of(event.type, event.data))).rowcount
    if inserted:
        # Leaf seq-1 of the RFC 9162 tree, in the same transaction: trail and tree commit together.
        tree.append_leaves(conn, seq - 1, [merkle.leaf_hash(canonical)])


FILTERS = {
    "subject": "subject = %s", "type": "type = %s", "actor": "actor = %s", "unit": "units @> ARRAY[%s]::text[]",
    "since": "event_time >= %s", "until": "event_time < %s",
}


def page(conn: psycopg.Connection, *, after: int, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """Trail entries after seq `after`, in order, matching every given filter (FILTERS)."""
    given = {k: v for k, v in filters.items() if v is not None}
    where = " AND ".join(["seq > %s", *(FILTERS[k] for k in given)])
    return conn.execute(f"SELECT * FROM trail WHERE {where} ORDER BY seq LIMIT %s",
                        [after, *given.values(), limit]).fetchall()
