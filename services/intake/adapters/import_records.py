"""Ledger import records (migration 0005): every function runs in the caller's transaction."""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

# One import at a time: two concurrent uploads of the same rows would each see the other's rows as
# new; holding this transaction-scoped lock while checking keys and writing makes the second one wait
# and then find them (the unique row key is the backstop, not the mechanism).
IMPORT_LOCK = 0x7A66_1D90


class ImportRecords:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def lock(self) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (IMPORT_LOCK,))

    def known(self, keys: list[str]) -> dict[str, str]:
        """The case each already-imported row key became."""
        rows = self.conn.execute("SELECT row_key, case_id FROM import_rows WHERE row_key = ANY(%s)",
                                 (keys,)).fetchall()
        return {r["row_key"]: r["case_id"] for r in rows}

    def add(self, record: dict[str, Any], created: list[tuple[str, int, str]]) -> None:
        """The import and its new (row key, row number, case or task id) rows."""
        self.conn.execute(
            "INSERT INTO imports (import_id, kind, actor, created_at, file_sha256, filename, format, sheet, header_row,"
            " skip_invalid, counts, rows) VALUES (%(import_id)s, %(kind)s, %(actor)s, %(created_at)s, %(file_sha256)s,"
            " %(filename)s, %(format)s, %(sheet)s, %(header_row)s, %(skip_invalid)s, %(counts)s, %(rows)s)",
            {**record, "counts": Jsonb(record["counts"]), "rows": Jsonb(record["rows"])})
        if created:
            self.conn.execute(
                "INSERT INTO import_rows (row_key, import_id, row_number, case_id)"
                " SELECT k, %s, n, c FROM unnest(%s::text[], %s::int[], %s::text[]) AS t(k, n, c)",
                (record["import_id"], [k for k, _, _ in created], [n for _, n, _ in created],
                 [c for _, _, c in created]))

    def get(self, import_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT import_id::text, kind, actor, created_at, file_sha256, filename, format, sheet, header_row,"
            " skip_invalid, counts, rows FROM imports WHERE import_id = %s", (import_id,)).fetchone()
        return dict(row) if row else None
