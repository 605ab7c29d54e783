"""The escalation ladders on the ledger: notify's steps and stops beside each case (zfcommon.escalationview
keeps the tables), and the ladder facts the case views show."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Iterator

import psycopg

from zfcommon import escalationview

Row = dict[str, Any]
apply = escalationview.apply      # the consumer's entry for notify.escalation.events


def _facts(ladders: list[Row]) -> Row:
    return {"escalation_step": escalationview.current_step(ladders), "escalation_ladders": ladders}


def with_ladders(conn: psycopg.Connection, rows: list[Row]) -> list[Row]:
    """A page of cases with each one's current escalation step and ladders (one query for the page)."""
    found = escalationview.ladders_of(conn, [r["case_id"] for r in rows])
    return [{**r, **_facts(found.get(r["case_id"], []))} for r in rows]


def stream_with_ladders(conn: psycopg.Connection, rows: Iterable[Row], chunk: int = 1000) -> Iterator[Row]:
    """The same for an export's stream of cases, a chunk at a time."""
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == chunk:
            yield from with_ladders(conn, batch)
            batch = []
    yield from with_ladders(conn, batch)


def detail(conn: psycopg.Connection, row: Row, at: datetime | None = None) -> Row:
    """One case with its ladders and every escalation step and stop in order (as they stood at `at`)."""
    ladders, history = escalationview.of_case(conn, row["case_id"])
    if at is not None:
        ladders, history = escalationview.as_of(history, at)
    return {**row, **_facts(ladders), "escalation_history": history}
