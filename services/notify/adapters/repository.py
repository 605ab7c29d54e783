from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from zfcommon.events import Event

from ..domain import watch
from . import bulletin_projection, directory, escalations, exposures, reports

Row = dict[str, Any]
COLUMNS = ("case_id", "status", "channel", "subject_unit", "priority", "received_at", "version", "lead_unit",
           "cooperating_units", "origin", "last_report", "view")
_UPSERT = (f"INSERT INTO watched_cases ({', '.join(COLUMNS)}) VALUES ({', '.join(f'%({c})s' for c in COLUMNS)})"
           " ON CONFLICT (case_id) DO UPDATE SET "
           + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c not in ("case_id", "received_at")))


def lock(conn: psycopg.Connection, case_ids: set[str]) -> dict[str, Row | None]:
    """The watched cases of a batch's subjects, read and locked in one statement (in case_id order, so
    two consumers lock in the same order); None for a subject notify does not watch. apply keeps the
    answer current as it writes."""
    found = {r["case_id"]: r for r in conn.execute(
        "SELECT * FROM watched_cases WHERE case_id = ANY(%s) ORDER BY case_id FOR UPDATE", (sorted(case_ids),))}
    return {case_id: found.get(case_id) for case_id in case_ids}


def apply(conn: psycopg.Connection, event: Event,
          locked: dict[str, Row | None] | None = None) -> tuple[Row | None, Row] | None:
    """Fold `event` into the watched case; returns the case before and after, or None if unchanged.
    `locked`: the batch's watched cases from `lock`, instead of reading this one."""
    escalations.apply(conn, event)      # escalation ladders: their events, the calendar, cases to look at again
    directory.apply(conn, event)        # the office's units (weekly reports, notices)
    reports.apply(conn, event)          # weekly reports, missed weeks, spot checks
    bulletin_projection.apply(conn, event)  # bulletins, disclosures, scoring rules, criticism and missed reports
    exposures.apply(conn, event)        # exposures of typical cases; publications the public page lists
    if locked is None:
        locked = lock(conn, {event.subject})
    row = locked[event.subject]
    new = watch.evolve(row, event)
    if new is None:
        return None
    conn.execute(_UPSERT, {**new, "origin": new["origin"] and Jsonb(new["origin"]), "view": Jsonb(new["view"])})
    locked[event.subject] = new
    return row, new


def get(conn: psycopg.Connection, case_id: str) -> Row | None:
    return conn.execute("SELECT * FROM watched_cases WHERE case_id = %s", (case_id,)).fetchone()


def apply_batch(conn: psycopg.Connection, events: list[Event]) -> None:
    """apply for a batch of fresh events in order (the rebuild's), the watched cases locked at once."""
    locked = lock(conn, {e.subject for e in events})
    for event in events:
        apply(conn, event, locked)
