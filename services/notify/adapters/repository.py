from __future__ import annotations

from typing import Any

import psycopg

from zfcommon.events import Event

from ..domain import watch
from . import directory


def apply(conn: psycopg.Connection, event: Event) -> None:
    directory.apply(conn, event)        # the office's units (weekly reports, notices)
    row = conn.execute("SELECT * FROM watched_cases WHERE case_id = %s FOR UPDATE", (event.subject,)).fetchone()
    new = watch.evolve(row, event)
    if new is None:
        return
    conn.execute(
        "INSERT INTO watched_cases (case_id, status, channel, subject_unit, priority, received_at, version)"
        " VALUES (%(case_id)s, %(status)s, %(channel)s, %(subject_unit)s, %(priority)s, %(received_at)s, %(version)s)"
        " ON CONFLICT (case_id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version", new)


def get(conn: psycopg.Connection, case_id: str) -> dict[str, Any] | None:
    return conn.execute("SELECT * FROM watched_cases WHERE case_id = %s", (case_id,)).fetchone()
