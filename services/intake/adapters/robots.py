"""Units' group robot addresses, sealed (migration 0050): stored by the change that sets them, opened
only for the office's `GET /v1/directory/units/{name}/robots/addresses` (notify's sender, at send time),
deleted when replaced. Events carry the refs only (docs/NOTICES.md "Group robots")."""
from __future__ import annotations

import json
import uuid
from typing import Any, Iterable

import psycopg

from zfcommon.sealing import Envelope


def _place(ref: str) -> str:
    return f"robot:{ref}"


class RobotVault:
    def __init__(self, conn: psycopg.Connection, master: Envelope):
        self.conn = conn
        self.master = master

    def store(self, unit: str, kind: str, config: dict[str, Any]) -> str:
        """Seal one robot's address (and DingTalk secret); its new ref."""
        ref = f"rb_{uuid.uuid4().hex}"
        sealed = self.master.seal_text(json.dumps(config, ensure_ascii=False, sort_keys=True), _place(ref))
        self.conn.execute("INSERT INTO unit_robots (ref, unit, kind, sealed) VALUES (%s, %s, %s, %s)",
                          (ref, unit, kind, sealed))
        return ref

    def forget(self, unit: str, keep: Iterable[str]) -> int:
        """Delete the unit's robots other than `keep` (replaced or removed): their addresses are gone."""
        return self.conn.execute("DELETE FROM unit_robots WHERE unit = %s AND NOT (ref = ANY(%s))",
                                 (unit, list(keep))).rowcount

    def addresses(self, refs: dict[str, str]) -> dict[str, dict[str, Any] | None]:
        """kind -> the opened address of the robot `refs` names (None: none, or its row is gone)."""
        rows = {r["ref"]: r["sealed"] for r in self.conn.execute(
            "SELECT ref, sealed FROM unit_robots WHERE ref = ANY(%s)", (list(refs.values()),))}
        return {kind: json.loads(self.master.open_text(rows[ref], _place(ref))) if ref in rows else None
                for kind, ref in refs.items()}
