"""The ledger's read models of the campaign machinery (docs/CAMPAIGNS.md): tasks, projects and their
timelines, with the facts computed at read time (overdue, working days, the campaign's phase) and the
escalation ladders notify climbed on them. Plain functions over a connection, a unit scope (None:
everything) and `today`."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Mapping

import psycopg
from psycopg import sql

from zfcommon import escalationview, taskview
from zfcommon.campaigns import phase_on
from zfcommon.workdays import CalendarGap, WorkCalendar

from ..adapters import plan_queries, repository
from ..domain import campaign_figures as figures
from ..domain import similarity

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


def campaign_figures(conn: psycopg.Connection, today: date, first: date | None = None, last: date | None = None,
                     unit: str | None = None) -> dict[str, Row]:
    """campaign_id -> {totals, units}: its cases received in the period, its tasks issued by its end,
    look-backs drawn and findings recorded in it (docs/CAMPAIGNS.md "Figures"); a unit sees its own."""
    return figures.by_campaign(
        plan_queries.campaign_case_figures(conn, today=today, first=first, last=last, unit=unit),
        plan_queries.task_figures(conn, today=today, last=last, unit=unit),
        [] if unit else plan_queries.lookbacks_drawn(conn, first=first, last=last),
        plan_queries.lookback_figures(conn, first=first, last=last, unit=unit))


def _with_figures(c: Row, found: dict[str, Row], units: bool) -> Row:
    entry = found.get(c["campaign_id"], {"totals": dict.fromkeys(figures.FIELDS, 0), "units": {}})
    return {**c, "figures": entry["totals"],
            **({"units": [{"unit": u, **v} for u, v in sorted(entry["units"].items())]} if units else {})}


def campaigns(conn: psycopg.Connection, today: date, unit: str | None) -> list[Row]:
    found = campaign_figures(conn, today, unit=unit)
    return [_with_figures(c, found, False) for c in campaign_rows(conn, today)]


def campaign_detail(conn: psycopg.Connection, campaign_id: str, today: date, unit: str | None) -> Row | None:
    rows = campaign_rows(conn, today, campaign_id)
    return _with_figures(rows[0], campaign_figures(conn, today, unit=unit), True) if rows else None


def campaign_report(conn: psycopg.Connection, first: date, last: date, today: date) -> list[Row]:
    """The campaigns that ran in the period, each with its phase on the period's last day and its figures
    over the period: what the bulletin's per-campaign section shows."""
    found = campaign_figures(conn, today, first, last)
    ran = [c for c in campaign_rows(conn, last) if c["starts_on"] <= last and c["ends_on"] >= first]
    return [_with_figures(c, found, True) for c in sorted(ran, key=lambda c: (c["starts_on"], c["campaign_id"]))]


def unit_plan_figures(conn: psycopg.Connection, today: date, first: date | None, last: date | None,
                      unit: str | None) -> dict[str, Row]:
    """unit -> the tasks it leads (issued by the period's end) and the look-back findings of the period
    against it: the campaign machinery's columns of /v1/units/stats."""
    return figures.by_unit(plan_queries.task_figures(conn, today=today, last=last, unit=unit),
                           plan_queries.lookback_figures(conn, first=first, last=last, unit=unit))


def _project_clause(unit: str | None) -> sql.Composable:
    return sql.SQL("true") if unit is None else sql.SQL("units @> ARRAY[{}]::text[]").format(sql.Literal(unit))


def _stages(conn: psycopg.Connection, project_ids: list[str], today: date, calendar: WorkCalendar) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    for s in conn.execute("SELECT * FROM project_stages WHERE project_id = ANY(%s) ORDER BY project_id, position",
                          (project_ids,)):
        state = "completed" if s["completed_on"] else "entered" if s["entered_on"] else "not_entered"
        late = state == "entered" and today > s["due"]
        days, gap = working_days_past(calendar, s["due"], today) if late else (0, None)
        found.setdefault(s["project_id"], []).append({**s, "state": state, "overdue": late,
                                                      "working_days_overdue": days, "calendar_gap": gap})
    return found


def projects(conn: psycopg.Connection, filters: Mapping[str, Any], unit: str | None, today: date) -> list[Row]:
    clauses = [_project_clause(unit), _project_clause(filters.get("unit"))]
    if filters.get("campaign"):
        clauses.append(sql.SQL("campaign_id = {}").format(sql.Literal(filters["campaign"])))
    rows = conn.execute(sql.SQL("SELECT * FROM projects WHERE {} ORDER BY registered_at DESC, project_id").format(
        sql.SQL(" AND ").join(clauses))).fetchall()
    stages = _stages(conn, [r["project_id"] for r in rows], today, repository.calendar(conn))
    return [{**r, "stages": stages.get(r["project_id"], [])} for r in rows]


def project_detail(conn: psycopg.Connection, project_id: str, unit: str | None, today: date) -> Row | None:
    row = conn.execute(sql.SQL("SELECT * FROM projects WHERE project_id = %s AND {}").format(_project_clause(unit)),
                       (project_id,)).fetchone()
    if row is None:
        return None
    stages = _stages(conn, [project_id], today, repository.calendar(conn)).get(project_id, [])
    ladders = _ladders(conn, [f"{project_id}/{s['stage']}" for s in stages])
    return {**row, "stages": [{**s, "escalation_ladders": ladders.get(f"{project_id}/{s['stage']}", [])}
                              for s in stages], "timeline": timeline(conn, project_id)}


def approval_times(conn: psycopg.Connection, query: Mapping[str, Any], unit: str | None, today: date) -> list[Row]:
    """Per approving unit and stage: stages completed in the period, the median and worst working days
    they took, how many on time; stages open now and how many of them past their limit."""
    rows = plan_queries.approval_times(conn, first=query.get("start"), last=query.get("end"),
                                       unit=unit or query.get("unit"), stage=query.get("stage"), today=today)
    return [{"unit": r["unit"], "stage": r["stage"], "completed": len(r["days"]),
             "median_working_days": figures.median(list(r["days"])),
             "worst_working_days": max(r["days"], default=None), "on_time": r["on_time"], "open": r["open"],
             "open_overdue": r["open_overdue"]} for r in rows]


def lookbacks(conn: psycopg.Connection, lookback_id: str | None = None) -> list[Row]:
    where = sql.SQL("WHERE lookback_id = {}").format(sql.Literal(lookback_id)) if lookback_id else sql.SQL("")
    rows = conn.execute(sql.SQL("SELECT * FROM lookbacks {} ORDER BY drawn_at DESC, lookback_id").format(where))
    out = []
    for lb in rows:
        items = conn.execute("SELECT kind, item_id AS id, unit, campaign_id, category, closed_on, draw, selected,"
                             " outcome, note, case_id, found_at FROM lookback_items WHERE lookback_id = %s"
                             " ORDER BY draw, item_id", (lb["lookback_id"],)).fetchall()
        drawn = [i for i in items if i["selected"]]
        out.append({**lb, "candidates": len(items), "drawn": len(drawn),
                    "held": sum(i["outcome"] == "held" for i in drawn),
                    "rebounded": sum(i["outcome"] == "rebounded" for i in drawn),
                    **({"items": drawn} if lookback_id else {})})
    return out


OPEN_STATUSES = ("received", "assigned", "returned", "in_progress", "rectification_reported", "dismissal_reported")
POOL = 1000         # candidates on each side in time, and of the same unit (so at most 3 × POOL are scored)
CANDIDATE = ("SELECT case_id, case_number, description, subject_unit, location, received_at, status, lead_unit,"
             " channel FROM cases WHERE status = ANY(%(open)s) AND case_id <> %(case_id)s"
             " AND received_at BETWEEN %(first)s AND %(last)s AND NOT (case_id = ANY(%(known)s))"
             " AND NOT (dismissed_duplicates @> ARRAY[%(case_id)s]::text[])")
# A busy window holds more open cases than are worth scoring: then the nearest in time on either side
# of the case, and those naming the same unit (where a second caller's duplicate nearly always is),
# each by its own index scan.
NEWEST_FIRST = "ORDER BY received_at DESC, case_id DESC LIMIT %(pool)s"
CANDIDATES = (f"({CANDIDATE} AND received_at >= %(at)s ORDER BY received_at, case_id LIMIT %(pool)s)"
              f" UNION ALL ({CANDIDATE} AND received_at < %(at)s {NEWEST_FIRST})"
              f" UNION ALL ({CANDIDATE} AND subject_unit = %(unit)s {NEWEST_FIRST})")


def _lead(row: Row) -> similarity.Lead:
    return similarity.Lead(row["case_id"], row["description"], row["subject_unit"],
                           (row["location"] or {}).get("address"), row["received_at"])


def duplicate_suggestions(conn: psycopg.Connection, case_id: str, window_days: int,
                          threshold: float) -> list[Row] | None:
    """Up to five open cases received within `window_days` of the case that look like the same matter,
    with score and why (ledger/domain/similarity.py); never the case itself, one merged into it, or one
    the office dismissed as a different matter (either way round). None: no such case."""
    case = conn.execute("SELECT * FROM cases WHERE case_id = %s", (case_id,)).fetchone()
    if case is None:
        return None
    window = timedelta(days=window_days)
    rows = conn.execute(CANDIDATES, {
        "open": list(OPEN_STATUSES), "case_id": case_id, "at": case["received_at"],
        "first": case["received_at"] - window, "last": case["received_at"] + window,
        "known": [*case["dismissed_duplicates"], *case["duplicates"]], "unit": case["subject_unit"],
        "pool": POOL}).fetchall()
    rows = sorted({r["case_id"]: r for r in rows}.values(),        # a case may come by two scans
                  key=lambda r: (r["received_at"], r["case_id"]), reverse=True)
    found = similarity.suggest(_lead(case), [_lead(r) for r in rows], threshold)
    by_id = {r["case_id"]: r for r in rows}
    return [{**f, **{k: by_id[f["case_id"]][k] for k in ("case_number", "status", "subject_unit", "lead_unit",
                                                         "channel", "received_at")}} for f in found]
