from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Poll:
    """What a batch of events shares: its watched cases (None: not watched), read and locked at once
    and kept current by apply, and the escalation checks written once by `finish`."""
    watched: dict[str, Row | None]
    checks: dict[str, int] = field(default_factory=dict)

    def finish(self, conn: psycopg.Connection) -> None:
        escalations.look_again(conn, self.checks)
        self.checks = {}


def lock(conn: psycopg.Connection, case_ids: set[str]) -> Poll:
    """The watched cases of a batch's subjects, read and locked in one statement (in case_id order, so
    two consumers lock in the same order)."""
    found = {r["case_id"]: r for r in conn.execute(
        "SELECT * FROM watched_cases WHERE case_id = ANY(%s) ORDER BY case_id FOR UPDATE", (sorted(case_ids),))}
    return Poll({case_id: found.get(case_id) for case_id in case_ids})


def apply(conn: psycopg.Connection, event: Event, poll: Poll | None = None) -> tuple[Row | None, Row] | None:
    """Fold `event` into the watched case; returns the case before and after, or None if unchanged.
    `poll`: the batch's (from `lock`; the caller finishes it), instead of this event's own."""
    own = poll is None
    if own:
        poll = lock(conn, {event.subject})
    change = _apply(conn, event, poll)
    if own:
        poll.finish(conn)
    return change


def _apply(conn: psycopg.Connection, event: Event, poll: Poll) -> tuple[Row | None, Row] | None:
    escalations.apply(conn, event, poll.checks)     # escalation ladders, the calendar, cases to look at again
    directory.apply(conn, event)        # the office's units (weekly reports, notices)
    reports.apply(conn, event)          # weekly reports, missed weeks, spot checks
    bulletin_projection.apply(conn, event)  # bulletins, disclosures, scoring rules, criticism and missed reports
    exposures.apply(conn, event)        # exposures of typical cases; publications the public page lists
    row = poll.watched[event.subject]
    new = watch.evolve(row, event)
    if new is None:
        return None
    conn.execute(_UPSERT, {**new, "origin": new["origin"] and Jsonb(new["origin"]), "view": Jsonb(new["view"])})
    poll.watched[event.subject] = new
    return row, new


def get(conn: psycopg.Connection, case_id: str) -> Row | None:
    return conn.execute("SELECT * FROM watched_cases WHERE case_id = %s", (case_id,)).fetchone()


def apply_batch(conn: psycopg.Connection, events: list[Event]) -> None:
    """apply for a batch of fresh events in order (the rebuild's), the watched cases locked at once."""
    poll = lock(conn, {e.subject for e in events})
    for event in events:
        apply(conn, event, poll)
    poll.finish(conn)
