"""Case numbers (案件编号) in intake's database (migration 0012): the next serial of a year, and the
record of every number given, kept by the event store in the statement that stores the event giving it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from zfcommon import uow
from zfcommon.events import Event
from zfcommon.workdays import local_date

from ..domain.case import NUMBERED, RECEIVED, case_number


class MissingCaseNumber(Exception):
    """A case.received event without its number reached the store: a channel bypassed receive_case (a bug)."""


class CaseNumbers:
    # Record the numbers the events give, in the statement that stores them (the event store's
    # ALSO): the table's unique keys refuse a number given twice, or a second number for one case.
    RECORD = ("INSERT INTO case_numbers (case_number, case_id)"
              " SELECT payload->'data'->>'case_number', stream_id FROM {stored} WHERE type = ANY(%s::text[])")
    RECORD_TYPES = [RECEIVED, NUMBERED]

    def __init__(self, conn: psycopg.Connection, prefix: str = "ZF"):
        self.conn, self.prefix = conn, prefix

    def issue(self, received_at: datetime) -> str:
        """The next number of the year `received_at` falls in, in China. It is taken from the year's
        sequence at once and never given back: a receipt that rolls back leaves a gap."""
        year = local_date(received_at).year
        serial = uow.read(self.conn, "SELECT next_case_serial(%s) AS serial", (year,)).fetchone()["serial"]
        return case_number(self.prefix, year, serial)

    def check(self, stream_id: str, appending: list[Event]) -> None:
        """Before a store appends: a case is never received without its number."""
        for event in appending:
            if event.type == RECEIVED and not event.data.get("case_number"):
                raise MissingCaseNumber(f"case {stream_id} was to be received without a case number")

    def of(self, case_ids: list[str]) -> dict[str, str]:
        """The numbers of these cases (those that have one)."""
        rows = self.conn.execute("SELECT case_id, case_number FROM case_numbers WHERE case_id = ANY(%s)",
                                 (list(case_ids),)).fetchall()
        return {r["case_id"]: r["case_number"] for r in rows}

    def unnumbered(self, limit: int = 500) -> list[dict[str, Any]]:
        """Cases received before numbers existed and not numbered yet, in the order they were received:
        {case_id, received_at}."""
        return self.conn.execute(
            "SELECT e.stream_id AS case_id, (e.payload->>'time')::timestamptz AS received_at FROM events e"
            " WHERE e.type = %s AND NOT EXISTS (SELECT 1 FROM case_numbers n WHERE n.case_id = e.stream_id)"
            " ORDER BY e.position LIMIT %s", (RECEIVED, limit)).fetchall()
