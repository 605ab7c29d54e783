from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from zfcommon import db
from zfcommon.events import Event
from zfcommon.events.catalogue import CASE_TOPIC

from ..domain import watch
from . import bulletin_projection, directory, enforcement, escalations, exposures, reports

Row = dict[str, Any]
COLUMNS = ("case_id", "status", "channel", "subject_unit", "priority", "received_at", "version", "lead_unit",
           "cooperating_units", "origin", "last_report", "view")
# Any number of rows given as one JSON array (zfcommon.db.json_rows), in one statement.
_UPSERT = (f"INSERT INTO watched_cases ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)}"
           f" FROM {db.rows_from_json('watched_cases')} ON CONFLICT (case_id) DO UPDATE SET "
           + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c not in ("case_id", "received_at")))


@dataclass
class Poll:
    """What a batch of events shares: its watched cases (None: not watched), read and locked at once and
    folded in memory (domain.watch.evolve), and the escalation checks. `flush` writes each changed case
    once and the checks; it runs before any event that may read watched cases from the database (every
    one not on the case topic) and at the end of the batch."""
    watched: dict[str, Row | None]
    checks: dict[str, int] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    def fold(self, event: Event) -> tuple[Row | None, Row] | None:
        """The watched case before and after `event`, kept in memory; None if it changes nothing."""
        row = self.watched.get(event.subject)
        new = watch.evolve(row, event)
        if new is None:
            return None
        self.watched[event.subject] = new
        self.changed.add(event.subject)
        return row, new

    def case(self, conn: psycopg.Connection, case_id: str) -> Row | None:
        """A watched case as it is now: the batch's own as folded so far, any other from the database."""
        return self.watched[case_id] if case_id in self.watched else get(conn, case_id)

    def flush(self, conn: psycopg.Connection) -> None:
        if self.changed:
            conn.execute(_UPSERT, (db.json_rows({c: self.watched[case_id][c] for c in COLUMNS}
                                                for case_id in sorted(self.changed)),))
            self.changed = set()
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
    `poll`: the batch's (from `lock`; the caller flushes it), instead of this event's own."""
    own = poll is None
    if own:
        poll = lock(conn, {event.subject})
    change = _apply(conn, event, poll)
    if own:
        poll.flush(conn)
    return change


def _apply(conn: psycopg.Connection, event: Event, poll: Poll) -> tuple[Row | None, Row] | None:
    if event.topic != CASE_TOPIC:
        poll.flush(conn)                # what follows may read watched cases
    escalations.apply(conn, event, poll.checks)     # escalation ladders, the calendar, cases to look at again
    directory.apply(conn, event)        # the office's units (weekly reports, notices)
    reports.apply(conn, event)          # weekly reports, missed weeks, spot checks
    bulletin_projection.apply(conn, event)  # bulletins, disclosures, scoring rules, criticism and missed reports
    exposures.apply(conn, event)        # exposures of typical cases; publications the public page lists
    enforcement.apply(conn, event)      # enforcement and supervision actions and their SMS ratings
    return poll.fold(event)


def get(conn: psycopg.Connection, case_id: str) -> Row | None:
    return conn.execute("SELECT * FROM watched_cases WHERE case_id = %s", (case_id,)).fetchone()


def apply_batch(conn: psycopg.Connection, events: list[Event]) -> None:
    """apply for a batch of fresh events in order (the rebuild's), set-wise: the watched cases locked at
    once, folded in memory, each changed one written once."""
    poll = lock(conn, {e.subject for e in events})
    for event in events:
        _apply(conn, event, poll)
    poll.flush(conn)
