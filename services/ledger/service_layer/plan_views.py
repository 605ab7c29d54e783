"""The ledger's read models of the campaign machinery (docs/CAMPAIGNS.md): tasks, projects and their
timelines, with the facts computed at read time (overdue, working days, the campaign's phase) and the
escalation ladders notify climbed on them. Plain functions over a connection, a unit scope (None:
everything) and `today`."""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

import psycopg
from psycopg import sql

from zfcommon import escalationview, taskview
from zfcommon.campaigns import phase_on
from zfcommon.workdays import CalendarGap, WorkCalendar

from ..adapters import repository

Row = dict[str, Any]


def working_days_past(calendar: WorkCalendar, due: date, today: date) -> tuple[int | None, str | None]:
    """Working days d with due < d <= today, or None and the gap the calendar names."""
    try:
        return calendar.working_days_between(due, today), None
    except CalendarGap as gap:
        return None, str(gap)


def _ladders(conn: psycopg.Connection, ids: list[str]) -> dict[str, list[Row]]:
    return escalationview.ladders_of(conn, ids)


def present_task(row: Row, today: date, calendar: WorkCalendar, ladders: list[Row]) -> Row:
    late = taskview.overdue(row, today)
    days, gap = working_days_past(calendar, row["deadline"], today) if late else (0, None)
    return {**row, "overdue": late, "working_days_overdue": days, "calendar_gap": gap,
            "milestones_overdue": [m["name"] for m in taskview.milestones_overdue(row, today)],
            "escalation_step": escalationview.current_step(ladders), "escalation_ladders": ladders}


def _unit_clause(unit: str | None, lead: str = "lead_unit", cooperating: str = "cooperating_units") -> sql.Composable:
    if unit is None:
        return sql.SQL("true")
    return sql.SQL("({} = {} OR {} @> ARRAY[{}]::text[])").format(
        sql.Identifier(lead), sql.Literal(unit), sql.Identifier(cooperating), sql.Literal(unit))


def task_rows(conn: psycopg.Connection, filters: Mapping[str, Any], unit_scope: str | None, today: date,
              limit: int | None = None, offset: int = 0) -> list[Row]:
    """Tasks by deadline (then id), filtered: campaign, unit (lead or cooperating), lead_unit, status,
    phase, overdue."""
    clauses = [_unit_clause(unit_scope), _unit_clause(filters.get("unit"))]
    for name, column in (("campaign", "campaign_id"), ("lead_unit", "lead_unit"), ("status", "status"),
                         ("phase", "phase")):
        if filters.get(name) is not None:
            clauses.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Literal(filters[name])))
    if filters.get("overdue") is not None:
        late = sql.SQL("(status = 'in_progress' AND deadline < {})").format(sql.Literal(today))
        clauses.append(late if filters["overdue"] else sql.SQL("NOT ") + late)
    query = sql.SQL("SELECT * FROM tasks WHERE {} ORDER BY deadline, task_id").format(sql.SQL(" AND ").join(clauses))
    if limit is not None:
        query += sql.SQL(" LIMIT {} OFFSET {}").format(sql.Literal(limit), sql.Literal(offset))
    rows = conn.execute(query).fetchall()
    calendar, ladders = repository.calendar(conn), _ladders(conn, [r["task_id"] for r in rows])
    return [present_task(r, today, calendar, ladders.get(r["task_id"], [])) for r in rows]


def timeline(conn: psycopg.Connection, stream_id: str) -> list[Row]:
    return conn.execute("SELECT version, type, time, actor, data FROM plan_events WHERE stream_id = %s"
                        " ORDER BY version", (stream_id,)).fetchall()


def task_detail(conn: psycopg.Connection, task_id: str, unit_scope: str | None, today: date) -> Row | None:
    row = conn.execute(sql.SQL("SELECT * FROM tasks WHERE task_id = %s AND {}").format(_unit_clause(unit_scope)),
                       (task_id,)).fetchone()
    if row is None:
        return None
    ladders, history = escalationview.of_case(conn, task_id)
    return {**present_task(row, today, repository.calendar(conn), ladders), "escalation_history": history,
            "timeline": timeline(conn, task_id)}


def campaign_rows(conn: psycopg.Connection, today: date, campaign_id: str | None = None) -> list[Row]:
    where = sql.SQL("WHERE campaign_id = {}").format(sql.Literal(campaign_id)) if campaign_id else sql.SQL("")
    rows = conn.execute(sql.SQL("SELECT * FROM campaigns {} ORDER BY starts_on DESC, campaign_id").format(where))
    return [{**r, "phase": phase_on(r, today).as_dict()} for r in rows]
