"""SQL behind the ledger's campaign figures (docs/CAMPAIGNS.md "Figures"): tasks, look-back findings,
campaign cases, approval times and look-back candidates, each restricted to a period of China's days
where one is given (`first`/`last` inclusive; None: unbounded)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg

from zfcommon.workdays import SHANGHAI

Row = dict[str, Any]


def _start(day: date | None, default: datetime) -> datetime:
    return datetime.combine(day, time(), SHANGHAI) if day else default


def bounds(first: date | None, last: date | None) -> dict[str, datetime]:
    """The instants that hold the days from `first` to `last` (China time)."""
    return {"start": _start(first, datetime(1970, 1, 1, tzinfo=SHANGHAI)),
            "end": _start(last + timedelta(days=1) if last else None, datetime(9999, 1, 1, tzinfo=SHANGHAI))}


def task_figures(conn: psycopg.Connection, *, today: date, last: date | None, unit: str | None = None) -> list[Row]:
    """Per campaign (null: none) and lead unit: the tasks issued by `last` — open, overdue today, signed
    off (on time), cancelled, and their overdue milestones."""
    return conn.execute("""
        SELECT campaign_id, lead_unit AS unit, count(*) AS tasks,
               count(*) FILTER (WHERE status IN ('in_progress', 'completion_reported')) AS tasks_open,
               count(*) FILTER (WHERE status = 'in_progress' AND deadline < %(today)s) AS tasks_overdue,
               count(*) FILTER (WHERE status = 'signed_off') AS tasks_signed_off,
               count(*) FILTER (WHERE status = 'signed_off' AND signed_off_on_time) AS tasks_signed_off_on_time,
               count(*) FILTER (WHERE status = 'cancelled') AS tasks_cancelled,
               coalesce(sum((SELECT count(*) FROM jsonb_array_elements(milestones) m
                             WHERE status = 'in_progress' AND m->>'reached_at' IS NULL
                               AND (m->>'due')::date < %(today)s)), 0)::int AS milestones_overdue
        FROM tasks WHERE issued_at < %(end)s AND (%(unit)s::text IS NULL OR lead_unit = %(unit)s)
        GROUP BY campaign_id, lead_unit""", {"today": today, "unit": unit, **bounds(None, last)}).fetchall()


def lookback_figures(conn: psycopg.Connection, *, first: date | None, last: date | None,
                     unit: str | None = None) -> list[Row]:
    """Per campaign (null: none) and unit: look-back findings recorded in the period, held and rebounded."""
    return conn.execute("""
        SELECT campaign_id, unit, count(*) FILTER (WHERE outcome = 'held') AS lookback_held,
               count(*) FILTER (WHERE outcome = 'rebounded') AS lookback_rebounds
        FROM lookback_items WHERE outcome IS NOT NULL AND found_at >= %(start)s AND found_at < %(end)s
          AND (%(unit)s::text IS NULL OR unit = %(unit)s)
        GROUP BY campaign_id, unit""", {"unit": unit, **bounds(first, last)}).fetchall()


def lookbacks_drawn(conn: psycopg.Connection, *, first: date | None, last: date | None) -> list[Row]:
    """Per campaign and unit: items drawn for a look-back in the period."""
    return conn.execute("""
        SELECT i.campaign_id, i.unit, count(*) AS lookback_drawn
        FROM lookback_items i JOIN lookbacks l USING (lookback_id)
        WHERE i.selected AND l.drawn_at >= %(start)s AND l.drawn_at < %(end)s
        GROUP BY i.campaign_id, i.unit""", bounds(first, last)).fetchall()


def campaign_case_figures(conn: psycopg.Connection, *, today: date, first: date | None, last: date | None,
                          unit: str | None = None) -> list[Row]:
    """Per campaign and lead unit (null: not assigned yet): the campaign's cases received in the period —
    open, closed, overdue today. A unit scope counts the cases it leads or cooperates on."""
    return conn.execute("""
        SELECT campaign_id, lead_unit AS unit, count(*) AS cases_received,
               count(*) FILTER (WHERE status NOT IN ('closed', 'dismissed', 'merged')) AS cases_open,
               count(*) FILTER (WHERE status = 'closed') AS cases_closed,
               count(*) FILTER (WHERE status IN ('assigned', 'in_progress', 'rectification_reported',
                                                 'dismissal_reported') AND deadline < %(today)s) AS cases_overdue
        FROM cases WHERE campaign_id IS NOT NULL AND received_at >= %(start)s AND received_at < %(end)s
          AND (%(unit)s::text IS NULL OR lead_unit = %(unit)s OR cooperating_units @> ARRAY[%(unit)s]::text[])
        GROUP BY campaign_id, lead_unit""", {"today": today, "unit": unit, **bounds(first, last)}).fetchall()


def approval_times(conn: psycopg.Connection, *, first: date | None, last: date | None, unit: str | None,
                   stage: str | None, today: date) -> list[Row]:
    """Per approving unit and stage name: the stages completed in the period with their working days
    (median and worst computed by the caller), and the stages open now, overdue or not."""
    return conn.execute("""
        SELECT unit, name AS stage,
               coalesce(array_agg(working_days ORDER BY working_days) FILTER (
                   WHERE completed_on BETWEEN %(first)s AND %(last)s), '{}') AS days,
               count(*) FILTER (WHERE completed_on BETWEEN %(first)s AND %(last)s AND on_time) AS on_time,
               count(*) FILTER (WHERE entered_on IS NOT NULL AND completed_on IS NULL) AS open,
               count(*) FILTER (WHERE entered_on IS NOT NULL AND completed_on IS NULL AND due < %(today)s) AS open_overdue
        FROM project_stages WHERE (%(unit)s::text IS NULL OR unit = %(unit)s)
          AND (%(stage)s::text IS NULL OR name = %(stage)s OR stage = %(stage)s) AND entered_on IS NOT NULL
        GROUP BY unit, name ORDER BY unit, name""",
                        {"first": first or date.min, "last": last or date.max, "unit": unit, "stage": stage,
                         "today": today}).fetchall()


def lookback_candidates(conn: psycopg.Connection, filters: dict[str, Any]) -> list[Row]:
    """Closed cases (销号) and signed-off tasks matching the look-back's filters: closed in the period,
    of a campaign, a lead unit, a category (tasks have none: a category filter leaves them out)."""
    kinds, args = filters.get("kinds") or ("case", "task"), {
        "campaign": filters.get("campaign_id"), "unit": filters.get("unit"), "category": filters.get("category"),
        **bounds(filters.get("closed_from"), filters.get("closed_to"))}
    found: list[Row] = []
    if "case" in kinds:
        found += conn.execute("""
            SELECT 'case' AS kind, case_id AS id, lead_unit AS unit, campaign_id, category,
                   (closed_at AT TIME ZONE 'Asia/Shanghai')::date AS closed_on
            FROM cases WHERE status = 'closed' AND lead_unit IS NOT NULL
              AND closed_at >= %(start)s AND closed_at < %(end)s
              AND (%(campaign)s::text IS NULL OR campaign_id = %(campaign)s)
              AND (%(unit)s::text IS NULL OR lead_unit = %(unit)s)
              AND (%(category)s::text IS NULL OR category = %(category)s)""", args).fetchall()
    if "task" in kinds and filters.get("category") is None:
        found += conn.execute("""
            SELECT 'task' AS kind, task_id AS id, lead_unit AS unit, campaign_id, NULL AS category,
                   (signed_off_at AT TIME ZONE 'Asia/Shanghai')::date AS closed_on
            FROM tasks WHERE status = 'signed_off' AND signed_off_at >= %(start)s AND signed_off_at < %(end)s
              AND (%(campaign)s::text IS NULL OR campaign_id = %(campaign)s)
              AND (%(unit)s::text IS NULL OR lead_unit = %(unit)s)""", args).fetchall()
    return sorted(found, key=lambda r: (r["kind"], r["id"]))
