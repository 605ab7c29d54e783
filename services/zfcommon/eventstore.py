"""PostgreSQL event store of a service that writes events (intake, notify): append with an expected
version, load a stream. Tables: zfcommon/migrations_eventstore."""
from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from datetime import datetime
from typing import Any, Iterable

from . import metrics
from .events import Event, new_event, parse_event


class ConcurrencyConflict(Exception):
    """Another command appended to the stream first; the caller should reload and retry."""

    def __init__(self, stream_id: str, expected_version: int):
        super().__init__(f"case {stream_id} changed after version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


def append_statement(also: str = "") -> str:
    """The append: the events go as one JSON array, not as parallel arrays (a jsonb[] parameter is sent
    as an array literal, and psycopg escapes every quote of every payload in it with a regular
    expression: most of the statement's client CPU). Id and type are the payload's own; versions follow
    on the expected version. Each event is queued for the relay in the same statement. `also` is one
    more statement on `stored` (the rows just inserted: position, stream_id, type, payload), for a
    store that records something with its events (IndexedEventStore: the case numbers they give)."""
    stored = ("WITH stored AS ("
              " INSERT INTO events (event_id, stream_id, version, type, payload)"
              " SELECT (e.payload->>'id')::uuid, %s, %s + e.n, e.payload->>'type', e.payload"
              " FROM jsonb_array_elements(%s) WITH ORDINALITY AS e (payload, n) ORDER BY e.n"
              " RETURNING position, stream_id, type, payload)")
    queue = " INSERT INTO outbox (position) SELECT position FROM stored"
    return f"{stored}, queued AS ({queue}) {also}" if also else stored + queue


APPEND = append_statement()


class EventStore:
    APPEND = APPEND

    def __init__(self, conn: psycopg.Connection, service: str = "intake"):
        self.conn = conn
        self.service = service          # the events' source: /zhengfeng/<service>

    def record(self, stream_id: str, expected_version: int, decided: Iterable[tuple[str, dict[str, Any]]], *,
               correlation_id: str, actor: str, time: datetime, subject: str | None = None) -> list[Event]:
        """Build events for what a command decided — (type, data) pairs — and append them."""
        events = [new_event(service=self.service, type=type_, subject=subject or stream_id, data=data,
                            streamversion=expected_version + i + 1, correlationid=correlation_id, actor=actor,
                            time=time)
                  for i, (type_, data) in enumerate(decided)]
        self.append(stream_id, expected_version, events)
        return events

    def load(self, stream_id: str, after: int = 0) -> list[Event]:
        rows = self.conn.execute(
            "SELECT payload FROM events WHERE stream_id = %s AND version > %s ORDER BY version",
            (stream_id, after)).fetchall()
        return [parse_event(r["payload"]) for r in rows]

    def version(self, stream_id: str) -> int:
        """The stream's latest version (0 when empty): one index lookup."""
        row = self.conn.execute("SELECT max(version) AS v FROM events WHERE stream_id = %s", (stream_id,)).fetchone()
        return row["v"] or 0

    def append(self, stream_id: str, expected_version: int, events: list[Event]) -> None:
        """Append events after `expected_version`, queueing each for the relay in the same statement
        (and whatever a subclass's APPEND records with them).

        The unique (stream_id, version) index makes a concurrent writer that read the same version
        fail here instead of forking the history. It runs in the caller's transaction (no commit and no
        `conn.transaction()` here: on an idle connection that would commit on its own), and after a
        conflict the caller rolls the whole transaction back. Then a subclass records what it keeps
        with the events (`keep`). (Pipeline mode for these few statements was measured: psycopg's
        pipeline costs more client and server CPU than the round trips it saves on a local server.)
        """
        if not events:
            return
        try:
            self.conn.execute(self.APPEND, (stream_id, expected_version, Jsonb([e.to_dict() for e in events]),
                                            *self.append_params(stream_id, events)))
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "events_stream_version":
                raise ConcurrencyConflict(stream_id, expected_version) from None
            raise
        self.keep(stream_id, events)
        for e in events:
            metrics.EVENTS_STORED.labels(e.type).inc()

    def append_params(self, stream_id: str, events: list[Event]) -> tuple:
        """The parameters of a subclass's `also` statement (APPEND = append_statement(also))."""
        return ()

    def keep(self, stream_id: str, appended: list[Event]) -> None:
        """What a subclass records with the events just appended, in the same transaction (nothing here)."""


def stream_digests(conn: psycopg.Connection, *, after: str, until: str, limit: int) -> list[dict]:
    """Per stream, in stream order after `after`: how many events with time < `until` it holds, and the
    SHA-256 of their ids joined by "," in version order (audit.service_layer.reconcile computes the same)."""
    return conn.execute(
        "SELECT stream_id, count(*) AS count,"
        " encode(sha256(convert_to(string_agg(event_id::text, ',' ORDER BY version), 'UTF8')), 'hex') AS digest"
        " FROM events WHERE stream_id > %s AND (payload->>'time')::timestamptz < %s::timestamptz"
        " GROUP BY stream_id ORDER BY stream_id LIMIT %s", (after, until, limit)).fetchall()


def restore(conn: psycopg.Connection, event: Event, service: str) -> bool:
    """Put an event `service` wrote back into its own store when the store lacks it (stream: the
    event's subject, as notify names its streams). Live, this is a no-op: the event came from there.
    After a rebuild into an empty database it gives the service back the history its decisions are
    made from, so nothing is decided twice. No outbox row: the event was published long ago. Events of
    other services are left alone. False when another event holds its place (store and trail diverged)."""
    if event.source != f"/zhengfeng/{service}":
        return True
    restored = conn.execute(
        "INSERT INTO events (event_id, stream_id, version, type, payload) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING position",
        (event.id, event.subject, event.streamversion, event.type, Jsonb(event.to_dict()))).fetchone()
    if restored is not None:
        return True
    stored = conn.execute("SELECT event_id FROM events WHERE stream_id = %s AND version = %s",
                          (event.subject, event.streamversion)).fetchone()
    return stored is None or str(stored["event_id"]) == event.id
