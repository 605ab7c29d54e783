"""Finding a watched case by its complainant's receipt number (migrations/0035_tracking.sql)."""
from __future__ import annotations

from typing import Any

import psycopg

FIND = """
SELECT * FROM watched_cases WHERE case_id = %(r)s
UNION SELECT * FROM watched_cases WHERE origin IS NOT NULL AND origin->>'ref' = %(r)s AND origin->>'system' = 'hotline'
UNION SELECT * FROM watched_cases WHERE view ? 'case_number' AND view->>'case_number' = upper(%(r)s)
LIMIT 2
"""


def find(conn: psycopg.Connection, receipt: str) -> dict[str, Any] | None:
    """The one case this receipt names; None when none does, or (never expected) more than one."""
    rows = conn.execute(FIND, {"r": receipt}).fetchall()
    return rows[0] if len(rows) == 1 else None
