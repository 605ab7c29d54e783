"""PostgreSQL event store of a service that writes events (intake, notify): append with an expected
version, load a stream. Tables: zfcommon/migrations_eventstore."""
from __future__ import annotations

import re

import psycopg
from psycopg.types.json import Jsonb

from datetime import datetime
from typing import Any, Iterable

from . import metrics, uow
from .events import Event, new_event, parse_event


class ConcurrencyConflict(Exception):
    """Another command appended to the stream first; the caller should reload and retry."""

    def __init__(self, stream_id: str, expected_version: int):
        super().__init__(f"case {stream_id} changed after version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


STORED = ("INSERT INTO events (event_id, stream_id, version, type, payload)"
          " SELECT (e.payload->>'id')::uuid, (%s::text[])[e.n], (%s::int[])[e.n], e.payload->>'type', e.payload"
          " FROM jsonb_array_elements(%s) WITH ORDINALITY AS e (payload, n) ORDER BY e.n"
          " RETURNING position, stream_id, type, payload")
QUEUED = "INSERT INTO outbox (position) SELECT position FROM {stored}"
STREAM_VERSION = "events_stream_version"
VERSION = "SELECT coalesce(max(version), 0) AS v FROM events WHERE stream_id = %s"   # a stream's latest, 0 if empty


class Appends:
    """The events a unit of work appends, to one or more streams, stored by one statement in the
    order they were appended: the events go as one JSON array, not as parallel arrays of payloads (a
    jsonb[] parameter is sent as an array literal, and psycopg escapes every quote of every payload
    in it with a regular expression: most of the statement's client CPU). Id and type are the
    payload's own. Each event is queued for the relay in the same statement, and the store's `ALSO`
    (one more statement on `{stored}`, the rows just inserted: position, stream_id, type, payload)
    records what the store keeps with its events (IndexedEventStore: the case numbers they give).
    Held back on a write-behind connection (zfcommon.uow), sent at once on any other."""

    def __init__(self, store: "EventStore"):
        self.store = store
        self.batches: list[tuple[str, int, list[Event]]] = []

    def parts(self, prefix: str) -> tuple[list[tuple[str, str]], list[Any]]:
        stored = f"{prefix}stored"
        parts = [(stored, STORED), (f"{prefix}queued", QUEUED.replace("{stored}", stored))]
        if self.store.ALSO:
            parts.append((f"{prefix}also", self.store.ALSO.replace("{stored}", stored)))
        streams, versions, payloads = [], [], []
        for stream_id, expected, events in self.batches:
            for i, e in enumerate(events):
                streams.append(stream_id)
                versions.append(expected + i + 1)
                payloads.append(e.to_dict())
        return parts, [streams, versions, Jsonb(payloads), *self.store.also_params()]

    def sent(self) -> None:
        for _, _, events in self.batches:
            for e in events:
                metrics.EVENTS_STORED.labels(e.type).inc()

    def failed(self, exc: psycopg.Error) -> None:
        """A stream's version taken meanwhile is a ConcurrencyConflict (the unique (stream_id, version)
        index refused the append): of the stream the error names, else the first appended."""
        if isinstance(exc, psycopg.errors.UniqueViolation) and exc.diag.constraint_name == STREAM_VERSION:
            expected = {s: v for s, v, _ in reversed(self.batches)}
            named = re.search(r"\(stream_id, version\)=\((.*), \d+\)", exc.diag.message_detail or "")
            stream_id = named.group(1) if named and named.group(1) in expected else self.batches[0][0]
            raise ConcurrencyConflict(stream_id, expected[stream_id]) from None


class EventStore:
    ALSO = ""

    def __init__(self, conn: psycopg.Connection, service: str = "intake"):
        self.conn = conn
        self.service = service          # the events' source: /zhengfeng/<service>
        self.held: Appends | None = None

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
        rows = uow.read(self.conn, "SELECT payload FROM events WHERE stream_id = %s AND version > %s ORDER BY version",
                        (stream_id, after)).fetchall()
        return [parse_event(r["payload"]) for r in rows]

    def load_many(self, stream_ids: list[str]) -> dict[str, list[Event]]:
        """Several streams' events, each stream's in order, by one statement (streams without events
        are left out)."""
        streams: dict[str, list[Event]] = {}
        if stream_ids:
            for r in uow.read(self.conn, "SELECT stream_id, payload FROM events WHERE stream_id = ANY(%s)"
                                         " ORDER BY stream_id, version", (list(stream_ids),)):
                streams.setdefault(r["stream_id"], []).append(parse_event(r["payload"]))
        return streams

    def version(self, stream_id: str) -> int:
        """The stream's latest version (0 when empty): one index lookup."""
        return uow.read(self.conn, VERSION, (stream_id,)).fetchone()["v"]

    def append(self, stream_id: str, expected_version: int, events: list[Event]) -> None:
        """Append events after `expected_version`, queueing each for the relay in the same statement
        (and whatever the store's ALSO records with them).

        The unique (stream_id, version) index makes a concurrent writer that read the same version
        fail (ConcurrencyConflict) instead of forking the history: here, or — on a write-behind
        connection, which holds the append back — when the unit of work sends it, at the latest on
        commit. It runs in the caller's transaction (no commit and no `conn.transaction()` here: on an
        idle connection that would commit on its own), and after a conflict the caller rolls the
        whole transaction back. Then the store records what it keeps with the events (`keep`).
        (Pipeline mode for these few statements was measured: psycopg's pipeline costs more client
        and server CPU than the round trips it saves on a local server.)
        """
        if not events:
            return
        self.check(stream_id, events)
        if isinstance(self.conn, uow.WriteBehind):
            if self.held is None or not self.conn.holds(self.held):
                self.held = Appends(self)
                self.conn.hold(self.held)
            self.held.batches.append((stream_id, expected_version, events))
        else:
            appends = Appends(self)
            appends.batches.append((stream_id, expected_version, events))
            uow.send(self.conn, [appends])
        self.keep(stream_id, events)

    def check(self, stream_id: str, events: list[Event]) -> None:
        """What a store refuses to append (a subclass's rule; nothing here)."""

    def also_params(self) -> tuple:
        """The parameters of the store's ALSO statement."""
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
