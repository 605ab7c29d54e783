"""The trail table: append (from the consumer) and read (for the API)."""
from __future__ import annotations

import json
from typing import Any, Iterator

import psycopg

from zfcommon.events import Event

from ..domain import merkle
from ..domain.chain import GENESIS, canonical_bytes, link
from ..domain.chunks import chunked
from ..domain.units import units_of
from . import tree

APPEND_LOCK = 7_263_004


def apply_batch(conn: psycopg.Connection, events: list[Event]) -> None:
    """Append events to the trail and the Merkle tree in the caller's transaction, with a handful of
    statements whatever the number of events (the consumer hands over a whole poll's worth).

    The transaction-level advisory lock serialises appenders, so the chain and the tree never fork
    even if several audit consumers run; it is released at commit. Duplicates never get here: the
    consumer's tracking table filters them in the same transaction; the unique event_key is the
    safety net (a violation fails the batch, which is then retried one event at a time)."""
    if not events:
        return
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
    last = conn.execute("SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1").fetchone()
    first, prev = (last["seq"] + 1, bytes(last["hash"])) if last else (1, GENESIS)
    rows, leaves = [], []
    for seq, event in enumerate(events, first):
        canonical = canonical_bytes(event.to_dict())
        digest = link(prev, canonical)
        rows.append((seq, f"{event.source}#{event.id}", event.topic, event.subject, event.type, event.actor,
                     event.time, canonical.decode("utf-8"), prev, digest,
                     json.dumps(units_of(event.type, event.data))))
        leaves.append(merkle.leaf_hash(canonical))
        prev = digest
    columns = list(zip(*rows))
    # The arrays go in binary (%b): as array literals, psycopg escapes every quote of every event's
    # JSON and every hash's hex with a regular expression, ~40 % of the consumer's CPU per event.
    conn.execute(
        "INSERT INTO trail (seq, event_key, topic, subject, type, actor, event_time, event, prev_hash, hash, units)"
        " SELECT s, k, tp, sb, ty, a, et, ev, ph, h, ARRAY(SELECT jsonb_array_elements_text(u::jsonb))"
        " FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[],"
        " %b::timestamptz[], %b::text[], %b::bytea[], %b::bytea[], %b::text[]) AS r(s, k, tp, sb, ty, a, et, ev, ph, h, u)",
        [list(c) for c in columns])
    # Leaves seq-1 … of the RFC 9162 tree, in the same transaction: trail and tree commit together.
    tree.append_leaves(conn, first - 1, leaves)


def apply(conn: psycopg.Connection, event: Event) -> None:
    """One event (rebuilds and tests); the consumer uses apply_batch."""
    apply_batch(conn, [event])


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


# CSV with a delimiter and a quote character that canonical JSON never holds raw (it escapes every
# control character, and has no raw line break), so COPY neither quotes nor escapes anything: each
# row goes out as the stored bytes and a newline, with no per-row work in Python or in PostgreSQL's
# output functions beyond the text column's own.
_AS_LINES = "(FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x01')"
CHUNK = 256 * 1024


def event_lines(conn: psycopg.Connection, after: int, until: int) -> Iterator[bytes]:
    """The stored canonical events of seq (after, until], in order, one per line ("\\n"-terminated),
    as chunks of about CHUNK bytes: COPY (SELECT …) TO STDOUT, nothing parsed or encoded here."""
    with conn.cursor() as cur, cur.copy(
            f"COPY (SELECT event FROM trail WHERE seq > {int(after)} AND seq <= {int(until)} ORDER BY seq)"
            f" TO STDOUT {_AS_LINES}") as copy:
        yield from chunked(copy, CHUNK)
