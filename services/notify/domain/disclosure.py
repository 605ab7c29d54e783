"""The quarterly public disclosure of the 12345 hotline's handling figures (seed 001: 每季度公布1次上线
单位受理群众问题的处理情况; quarterly reports due 在每季度结束后的5个工作日内). Pure.

The figures are the ledger's unit statistics over the hotline's cases received in the quarter; the
due date is the 5th working day after the quarter's last day on the office's calendar.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Mapping

from zfcommon import periods
from zfcommon.workdays import WorkCalendar

from .bulletin import RATES, totals

quarter_of = periods.quarter_of     # the quarter a day is in ("2026-Q4")

CHANNEL = "hotline"
DUE_WORKING_DAYS = 5
FIGURES = ("received", "open", "closed", "overdue", "unsatisfied")


def parse(quarter: str) -> tuple[int, int]:
    """(year, quarter); ValueError in Chinese for anything else (zfcommon.periods)."""
    return periods.quarter(quarter)


def period(quarter: str) -> tuple[date, date]:
    """The quarter's first and last day."""
    year, q = parse(quarter)
    first = date(year, 3 * q - 2, 1)
    following = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, following - timedelta(days=1)


def previous(quarter: str) -> str:
    year, q = parse(quarter)
    return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"


def following(quarter: str) -> str:
    year, q = parse(quarter)
    return f"{year + 1}-Q1" if q == 4 else f"{year}-Q{q + 1}"


def due(quarter: str, calendar: WorkCalendar) -> date:
    """The 5th working day after the quarter ends (raises CalendarGap when the year is not known)."""
    return calendar.add_working_days(period(quarter)[1], DUE_WORKING_DAYS)


def ended(quarter: str, today: date) -> bool:
    return period(quarter)[1] < today


def figures(stats: list[Mapping[str, Any]], min_base: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The totals and the per-unit rows (catalogue.PublishedFigures) from the ledger's rows."""
    rows = [{"unit": r["unit"], **{k: r[k] for k in (*FIGURES, *RATES)}}
            for r in sorted(stats, key=lambda r: r["unit"])]
    return totals(rows, min_base, FIGURES), rows


def timeliness(due_day: date | None, published_on: date | None, today: date) -> dict[str, Any]:
    """Whether a quarter's disclosure was (or still can be) on time: `overdue` flags one past its due
    day and still unpublished; `on_time` is known once it is published."""
    return {"on_time": None if published_on is None or due_day is None else published_on <= due_day,
            "overdue": published_on is None and due_day is not None and today > due_day}
