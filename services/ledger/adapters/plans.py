"""The ledger's tables of the campaign machinery (migration 0040, docs/CAMPAIGNS.md): what the consumer
applies from intake.campaign.events, intake.task.events and intake.project.events, each in the
consumer's transaction. Every event also goes on its stream's timeline (plan_events)."""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from zfcommon import taskview
from zfcommon.events import Event
from zfcommon.events.catalogue import CAMPAIGN_TOPIC, PROJECT_TOPIC, TASK_TOPIC

Row = dict[str, Any]
JSON = ("phases", "milestones", "origin", "filters")


def _insert(conn: psycopg.Connection, table: str, row: Row, conflict: str) -> None:
    conn.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, row)),
        sql.SQL(", ").join(sql.Placeholder() * len(row)), sql.SQL(conflict)),
        [Jsonb(v) if k in JSON and v is not None else v for k, v in row.items()])


def _timeline(conn: psycopg.Connection, event: Event) -> None:
    _insert(conn, "plan_events", {"stream_id": event.subject, "version": event.streamversion, "event_id": event.id,
                                  "type": event.type, "time": event.time, "actor": event.actor,
                                  "data": Jsonb(event.data)}, "stream_id, version")


def _newer(conn: psycopg.Connection, table: str, key: str, event: Event) -> bool:
    """The row exists and is older than the event (locked: read-decide-write is one step)."""
    row = conn.execute(sql.SQL("SELECT version FROM {} WHERE {} = %s FOR UPDATE").format(
        sql.Identifier(table), sql.Identifier(key)), (event.subject,)).fetchone()
    return row is not None and row["version"] < event.streamversion


def _bump(conn: psycopg.Connection, table: str, key: str, event: Event) -> None:
    conn.execute(sql.SQL("UPDATE {} SET version = %s WHERE {} = %s").format(sql.Identifier(table), sql.Identifier(key)),
                 (event.streamversion, event.subject))


def _campaign(conn: psycopg.Connection, event: Event) -> None:
    d = event.data
    if event.type == "cn.zhengfeng.campaign.launched.v1":
        _insert(conn, "campaigns", {"campaign_id": event.subject, **{k: d[k] for k in (
            "name", "lead_office", "starts_on", "ends_on", "phases", "categories", "description")},
            "launched_at": event.time, "version": event.streamversion}, "campaign_id")
    elif event.type == "cn.zhengfeng.campaign.revised.v1" and _newer(conn, "campaigns", "campaign_id", event):
        conn.execute("UPDATE campaigns SET name = %s, lead_office = %s, starts_on = %s, ends_on = %s, phases = %s,"
                     " categories = %s, description = %s WHERE campaign_id = %s",
                     (d["name"], d["lead_office"], d["starts_on"], d["ends_on"], Jsonb(d["phases"]), d["categories"],
                      d["description"], event.subject))
        _bump(conn, "campaigns", "campaign_id", event)
    elif event.type == "cn.zhengfeng.lookback.drawn.v1":
        _insert(conn, "lookbacks", {"lookback_id": event.subject, **{k: d[k] for k in (
            "title", "filters", "ratio", "nonce", "seed")}, "drawn_at": event.time, "version": event.streamversion},
            "lookback_id")
        selected = set(d["selected"])
        for c in d["candidates"]:
            _insert(conn, "lookback_items", {"lookback_id": event.subject, "kind": c["kind"], "item_id": c["id"],
                                             "unit": c["unit"], "campaign_id": c["campaign_id"],
                                             "category": c["category"], "closed_on": c["closed_on"],
                                             "draw": c["draw"], "selected": c["id"] in selected},
                    "lookback_id, item_id")
    elif event.type == "cn.zhengfeng.lookback.finding_recorded.v1" and _newer(conn, "lookbacks", "lookback_id", event):
        conn.execute("UPDATE lookback_items SET outcome = %s, note = %s, case_id = %s, found_at = %s"
                     " WHERE lookback_id = %s AND item_id = %s",
                     (d["outcome"], d["note"], d["case_id"], event.time, event.subject, d["id"]))
        _bump(conn, "lookbacks", "lookback_id", event)


def _task(conn: psycopg.Connection, event: Event) -> None:
    row = conn.execute("SELECT * FROM tasks WHERE task_id = %s FOR UPDATE", (event.subject,)).fetchone()
    new = taskview.evolve(row, event)
    if new is None:
        return
    columns = [c for c in taskview.COLUMNS if c != "task_id"]
    conn.execute(sql.SQL("INSERT INTO tasks ({}) VALUES ({}) ON CONFLICT (task_id) DO UPDATE SET {}"
                         " WHERE tasks.version < EXCLUDED.version").format(
        sql.SQL(", ").join(map(sql.Identifier, taskview.COLUMNS)),
        sql.SQL(", ").join(sql.Placeholder() * len(taskview.COLUMNS)),
        sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in columns)),
        [Jsonb(new[c]) if c in JSON and new[c] is not None else new[c] for c in taskview.COLUMNS])


STAGE_CHANGES = {
    "cn.zhengfeng.project.stage_entered.v1": ("entered_on = %(entered_on)s, due = %(due)s", ("entered_on", "due")),
    "cn.zhengfeng.project.stage_completed.v1": ("completed_on = %(completed_on)s, working_days = %(working_days)s,"
                                                " on_time = %(on_time)s", ("completed_on", "working_days", "on_time")),
    "cn.zhengfeng.project.stage_case_opened.v1": ("case_id = %(case_id)s", ("case_id",)),
}


def _project(conn: psycopg.Connection, event: Event) -> None:
    d = event.data
    if event.type == "cn.zhengfeng.project.registered.v1":
        _insert(conn, "projects", {"project_id": event.subject, **{k: d[k] for k in (
            "name", "owner", "project_type", "campaign_id", "handling_mode", "case_grace_days", "case_category",
            "note")}, "units": list(dict.fromkeys(s["unit"] for s in d["stages"])), "registered_at": event.time,
            "updated_at": event.time, "version": event.streamversion}, "project_id")
        for position, s in enumerate(d["stages"], 1):
            _insert(conn, "project_stages", {"project_id": event.subject, "position": position, "stage": s["key"],
                                             "name": s["name"], "unit": s["unit"], "limit_days": s["limit_days"]},
                    "project_id, stage")
    elif event.type in STAGE_CHANGES and _newer(conn, "projects", "project_id", event):
        assignments, keys = STAGE_CHANGES[event.type]
        conn.execute(sql.SQL("UPDATE project_stages SET " + assignments +
                             " WHERE project_id = %(project_id)s AND stage = %(stage)s"),
                     {**{k: d[k] for k in keys}, "project_id": event.subject, "stage": d["stage"]})
        conn.execute("UPDATE projects SET version = %s, updated_at = %s WHERE project_id = %s",
                     (event.streamversion, event.time, event.subject))


def apply(conn: psycopg.Connection, event: Event) -> None:
    """Project one event of the three topics (project types are intake's configuration: timeline only)."""
    {CAMPAIGN_TOPIC: _campaign, TASK_TOPIC: _task, PROJECT_TOPIC: _project}[event.topic](conn, event)
    _timeline(conn, event)


TOPICS = (CAMPAIGN_TOPIC, TASK_TOPIC, PROJECT_TOPIC)
