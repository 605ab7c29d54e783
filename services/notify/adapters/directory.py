"""The office's units in notify, kept from the directory events (migrations 0015, 0016): the units that
must file weekly reports, and their contacts for notices. The calendar and limits are kept beside them
by zfcommon.officecalendar (adapters/escalations.py)."""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from zfcommon.events import Event
from zfcommon.events.catalogue import ROBOT_KINDS

Row = dict[str, Any]
UNIT_TYPES = ("cn.zhengfeng.directory.unit_registered.v1", "cn.zhengfeng.directory.unit_updated.v1")
ROBOTS_SET = "cn.zhengfeng.directory.unit_robots_set.v1"


def apply(conn: psycopg.Connection, event: Event) -> None:
    """Upsert the unit of a unit event (other events are ignored). `registered_at` is set once, by the
    first event seen for the unit; `active_since` when it becomes active (joins, or is reactivated),
    NULL while inactive. The version guard keeps a replayed older change from winning. A robots change
    (migration 0051) records which kinds of group robot the unit has, under a version guard of its own."""
    if event.type == ROBOTS_SET:
        d = event.data
        conn.execute("UPDATE units SET robots = %s, robots_version = %s WHERE name = %s AND robots_version < %s",
                     ([k for k in ROBOT_KINDS if d.get(k)], event.streamversion, d["unit"], event.streamversion))
        return
    if event.type not in UNIT_TYPES:
        return
    d = event.data
    conn.execute(
        "INSERT INTO units (name, kind, supervising_channel, contacts, active, registered_at, active_since, version)"
        " VALUES (%(name)s, %(kind)s, %(channel)s, %(contacts)s, %(active)s, %(time)s,"
        " CASE WHEN %(active)s THEN %(time)s::timestamptz END, %(version)s) ON CONFLICT (name) DO UPDATE"
        " SET kind = EXCLUDED.kind, supervising_channel = EXCLUDED.supervising_channel,"
        " contacts = EXCLUDED.contacts, active = EXCLUDED.active, version = EXCLUDED.version,"
        " active_since = CASE WHEN NOT EXCLUDED.active THEN NULL WHEN units.active THEN units.active_since"
        " ELSE EXCLUDED.active_since END WHERE units.version < EXCLUDED.version",
        {"name": d["name"], "kind": d["kind"], "channel": d["supervising_channel"], "contacts": Jsonb(d["contacts"]),
         "active": d["active"], "time": event.time, "version": event.streamversion})


def unit(conn: psycopg.Connection, name: str) -> Row | None:
    return conn.execute("SELECT * FROM units WHERE name = %s", (name,)).fetchone()


def units(conn: psycopg.Connection, names: set[str]) -> dict[str, Row]:
    """The directory entries of `names` that exist, by name, in one statement."""
    if not names:
        return {}
    return {r["name"]: r for r in conn.execute("SELECT * FROM units WHERE name = ANY(%s)", (sorted(names),))}


def active_units(conn: psycopg.Connection) -> list[Row]:
    """Active units by name."""
    return conn.execute("SELECT * FROM units WHERE active ORDER BY name").fetchall()
