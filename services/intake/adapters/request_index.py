"""The Open311 request index (migration 0003): one row per case, folded with zfcommon.caseview — the
fold ledger and audit use — so the public status can never disagree with theirs."""
from __future__ import annotations

from itertools import groupby
from typing import Any, Iterable

import psycopg

from zfcommon import caseview, uow
from zfcommon.events import Event, parse_event
from zfcommon.eventstore import EventStore

from ..domain.open311_records import MAX_RESULTS, Query, index_row
from .case_numbers import CaseNumbers

CASE_EVENTS = "cn.zhengfeng.case."
COLUMNS = ("service_request_id", "status", "case_status", "merged_into", "category", "service_code", "lead_unit",
           "requested_at", "updated_at", "deadline", "address", "address_id", "lat", "lon", "media_url", "version",
           "case_number")
# The version guard makes a write idempotent and order-proof: a rebuild racing live commands never
# puts back an older state of a case than the one a command already wrote.
UPSERT = (f"INSERT INTO open311_requests ({', '.join(COLUMNS)}) VALUES ({', '.join('%s' for _ in COLUMNS)})"
          f" ON CONFLICT (service_request_id) DO UPDATE SET"
          f" {', '.join(f'{c} = EXCLUDED.{c}' for c in COLUMNS[1:])}"
          f" WHERE open311_requests.version < EXCLUDED.version")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM open311_requests"


def values(row: dict[str, Any]) -> tuple:
    return tuple(row[c] for c in COLUMNS)


class RequestIndex:
    def __init__(self, conn: psycopg.Connection, events: EventStore):
        self.conn, self.events = conn, events

    def apply(self, stream_id: str, appended: list[Event]) -> None:
        """Bring the case's row up to the events just appended to its stream, in the caller's
        transaction. A new case needs no read; a later command replays the case's stream (a handful
        of events, one indexed read) rather than trusting a stored partial fold."""
        if not appended or not appended[0].type.startswith(CASE_EVENTS):
            return
        history = appended if appended[0].streamversion == 1 else self.events.history(stream_id, appended)
        view = caseview.replay(history)
        if view is not None:
            uow.write(self.conn, UPSERT, values(index_row(view)))

    def find(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        return self.conn.execute(SELECT + " WHERE service_request_id = ANY(%s)"
                                          " ORDER BY requested_at DESC, service_request_id", (list(ids),)).fetchall()

    def search(self, q: Query) -> list[dict[str, Any]]:
        """Newest first, at most the spec's 1000."""
        return self.conn.execute(
            SELECT + " WHERE requested_at >= %(since)s AND requested_at < %(until)s AND status = ANY(%(statuses)s)"
                     " AND (cardinality(%(codes)s::text[]) = 0 OR service_code = ANY(%(codes)s))"
                     " ORDER BY requested_at DESC, service_request_id LIMIT %(limit)s",
            {"since": q.since, "until": q.until, "statuses": list(q.statuses), "codes": list(q.codes),
             "limit": MAX_RESULTS}).fetchall()


class IndexedEventStore(EventStore):
    """intake's event store: whatever appends case events — a handler, the ledger import, a channel
    adapter — records the case numbers they give in the statement that stores them, and updates the
    request index in the same transaction."""

    ALSO = CaseNumbers.RECORD

    def __init__(self, conn: psycopg.Connection, numbers: CaseNumbers):
        super().__init__(conn)
        self.numbers = numbers
        self.requests = RequestIndex(conn, self)
        self.loaded: dict[str, list[Event]] = {}     # the streams this unit of work read, as they are now

    def load(self, stream_id: str, after: int = 0) -> list[Event]:
        events = super().load(stream_id, after)
        if not after:
            self.loaded[stream_id] = events
        return events

    def history(self, stream_id: str, appended: list[Event]) -> list[Event]:
        """The stream up to the events just appended: what this unit of work read and appended, when
        that reaches them (a command loads its case before it decides), else read again — which, on a
        write-behind connection, would send the held append first."""
        known = self.loaded.get(stream_id)
        if known is None or len(known) != appended[0].streamversion - 1:
            known = self.load(stream_id)[:appended[0].streamversion - 1]
        return known + appended

    def check(self, stream_id: str, events: list[Event]) -> None:
        self.numbers.check(stream_id, events)

    def also_params(self) -> tuple:
        return (CaseNumbers.RECORD_TYPES,)

    def keep(self, stream_id: str, appended: list[Event]) -> None:
        self.requests.apply(stream_id, appended)
        if stream_id in self.loaded:
            self.loaded[stream_id] = self.loaded[stream_id] + appended


def rebuild(conn: psycopg.Connection, batch: int = 500) -> int:
    """Index every case in the store (a database older than the index, or a repair); returns how many.
    Streams are read in (stream_id, version) order — the store's unique index — through a server-side
    cursor, so memory holds one case at a time however large the store."""
    rows: list[dict[str, Any]] = []
    count = 0
    with conn.cursor(name="open311_reindex") as cur, conn.cursor() as out:
        cur.execute("SELECT stream_id, payload FROM events WHERE type LIKE %s ORDER BY stream_id, version",
                    (CASE_EVENTS + "%",))
        for _, stream in groupby(cur, key=lambda r: r["stream_id"]):
            view = caseview.replay([parse_event(r["payload"]) for r in stream])
            if view is not None:
                rows.append(index_row(view))
            if len(rows) >= batch:
                out.executemany(UPSERT, [values(r) for r in rows])
                count, rows = count + len(rows), []
        out.executemany(UPSERT, [values(r) for r in rows])
    return count + len(rows)
