"""The office's units in notify, kept from the directory events (migration 0015): the units that must
file weekly reports, and their contacts for notices. The calendar and limits are kept beside them by
zfcommon.officecalendar (adapters/escalations.py)."""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from zfcommon.events import Event

Row = dict[str, Any]
UNIT_TYPES = ("cn.zhengfeng.directory.unit_registered.v1", "cn.zhengfeng.directory.unit_updated.v1")


def apply(conn: psycopg.Connection, event: Event) -> None:
    """Upsert the unit of a unit event (other events are ignored). `registered_at` is set once, by the
    first event seen for the unit; the version guard keeps a replayed older change from winning."""
    if event.type not in UNIT_TYPES:
        return
    d = event.data
    conn.execute(
        "INSERT INTO units (name, kind, supervising_channel, contacts, active, registered_at, version)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind,"
        " supervising_channel = EXCLUDED.supervising_channel, contacts = EXCLUDED.contacts,"
        " active = EXCLUDED.active, version = EXCLUDED.version WHERE units.version < EXCLUDED.version",
        (d["name"], d["kind"], d["supervising_channel"], Jsonb(d["contacts"]), d["active"], event.time,
         event.streamversion))


def unit(conn: psycopg.Connection, name: str) -> Row | None:
    return conn.execute("SELECT * FROM units WHERE name = %s", (name,)).fetchone()


def active_units(conn: psycopg.Connection) -> list[Row]:
    """Active units by name."""
    return conn.execute("SELECT * FROM units WHERE active ORDER BY name").fetchall()
