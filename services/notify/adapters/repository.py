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


def apply(conn: psycopg.Connection, event: Event) -> tuple[Row | None, Row] | None:
    """Fold `event` into the watched case; returns the case before and after, or None if unchanged."""
    escalations.apply(conn, event)      # escalation ladders: their events, the calendar, cases to look at again
    directory.apply(conn, event)        # the office's units (weekly reports, notices)
    reports.apply(conn, event)          # weekly reports, missed weeks, spot checks
    bulletin_projection.apply(conn, event)  # bulletins, disclosures, scoring rules, criticism and missed reports
    exposures.apply(conn, event)        # exposures of typical cases; publications the public page lists
    row = conn.execute("SELECT * FROM watched_cases WHERE case_id = %s FOR UPDATE", (event.subject,)).fetchone()
    new = watch.evolve(row, event)
    if new is None:
        return None
    conn.execute(_UPSERT, {**new, "origin": new["origin"] and Jsonb(new["origin"]), "view": Jsonb(new["view"])})
    return row, new


def get(conn: psycopg.Connection, case_id: str) -> Row | None:
    return conn.execute("SELECT * FROM watched_cases WHERE case_id = %s", (case_id,)).fetchone()
