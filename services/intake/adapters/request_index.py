"""The Open311 request index (migration 0003): one row per case, folded with zfcommon.caseview — the
fold ledger and audit use — so the public status can never disagree with theirs."""
from __future__ import annotations

from itertools import groupby
from typing import Any, Iterable

import psycopg

from zfcommon import caseview
from zfcommon.events import Event, parse_event
from zfcommon.eventstore import EventStore, append_statement

from ..domain.open311_records import MAX_RESULTS, Query, index_row
from .case_numbers import CaseNumbers

CASE_EVENTS = "cn.zhengfeng.case."
COLUMNS = ("service_request_id", "status", "case_status", "merged_into", "category", "service_code", "lead_unit",
           "requested_at", "updated_at", "deadline", "address", "address_id", "lat", "lon", "media_url", "version",
           "case_number")
# The version guard makes a write idempotent and order-proof: a rebuild racing live commands never
# puts back an older state of a case than the one a command already wrote.
UPSERT = (f"INSERT INTO open311_requests ({', '.join(COLUMNS)}) VALUES ({', '.join(f'%({c})s' for c in COLUMNS)})"
          f" ON CONFLICT (service_request_id) DO UPDATE SET"
          f" {', '.join(f'{c} = EXCLUDED.{c}' for c in COLUMNS[1:])}"
          f" WHERE open311_requests.version < EXCLUDED.version")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM open311_requests"


class RequestIndex:
    def __init__(self, conn: psycopg.Connection, events: EventStore):
        self.conn, self.events = conn, events

    def apply(self, stream_id: str, appended: list[Event]) -> None:
        """Bring the case's row up to the events just appended to its stream, in the caller's
        transaction. A new case needs no read; a later command replays the case's stream (a handful
        of events, one indexed read) rather than trusting a stored partial fold."""
        if not appended or not appended[0].type.startswith(CASE_EVENTS):
            return
        history = appended if appended[0].streamversion == 1 else self.events.load(stream_id)
        view = caseview.replay(history)
        if view is not None:
            self.conn.execute(UPSERT, index_row(view))

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

    APPEND = append_statement(CaseNumbers.RECORD)

    def __init__(self, conn: psycopg.Connection, numbers: CaseNumbers):
        super().__init__(conn)
        self.numbers = numbers
        self.requests = RequestIndex(conn, self)

    def append_params(self, stream_id: str, events: list[Event]) -> tuple:
        self.numbers.check(stream_id, events)
        return (CaseNumbers.RECORD_TYPES,)

    def keep(self, stream_id: str, appended: list[Event]) -> None:
        self.requests.apply(stream_id, appended)


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
                out.executemany(UPSERT, rows)
                count, rows = count + len(rows), []
        out.executemany(UPSERT, rows)
    return count + len(rows)
