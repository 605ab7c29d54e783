"""Evidence files of cases and tasks (migrations/0020_case_files.sql): `case_id` holds the case, or the task
(`task-<uuid>`, never a case id) whose report names the file."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

META = "file_id::text AS file_id, case_id, name, content_type, size, sha256, uploaded_by, uploaded_at"


def store(conn: psycopg.Connection, file_id: str, case_id: str, name: str, content_type: str, data: bytes,
          sha256: str, uploaded_by: str, at: datetime) -> dict[str, Any]:
    return conn.execute(f"INSERT INTO case_files (file_id, case_id, name, content_type, size, sha256, data, "
                        f"uploaded_by, uploaded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {META}",
                        (file_id, case_id, name, content_type, len(data), sha256, data, uploaded_by, at)).fetchone()


def load(conn: psycopg.Connection, case_id: str, file_id: str) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {META}, data FROM case_files WHERE case_id = %s AND file_id::text = %s",
                        (case_id, file_id)).fetchone()
