"""Quarterly work reports (季度工作情况报送, DOMAIN.md point 6, seed 001: 在每季度结束后的5个工作日内将本季度的
工作情况……报送). Pure: which quarters a unit reports for, what a filing records, which quarters it missed.
docs/REPORTS.md ("Quarterly work reports") has the rules and why.

A unit's stream (`quarterly-<unit>`) holds its filings and the quarters flagged as missed, decided
and appended at the version loaded, as the weekly stream (domain.reports, whose fold and correction
rules this reuses).
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterator, Mapping

from zfcommon.workdays import CalendarGap, WorkCalendar

from . import disclosure, reports
from .reports import History, Invalid, Week

FILED = "cn.zhengfeng.report.quarterly_filed.v1"
MISSED = "cn.zhengfeng.report.quarterly_missed.v1"
TYPES = (FILED, MISSED)
LABEL = "季度工作情况报告"


def parse(text: Any) -> str:
    """The quarter named ("2026-Q4"); ValueError in Chinese for anything else."""
    year, number = disclosure.parse(text)
    return f"{year}-Q{number}"


def of(day: date) -> str:
    return disclosure.quarter_of(day)


def first_quarter(first_week: Week) -> str:
    """The first quarter a unit reports for: the one its first reporting week counts in (its Thursday's,
    as a week counts in a month), so a unit owes a quarter's report exactly when it owes weekly reports
    in it."""
    return of(first_week.monday + timedelta(3))


def quarters(first: str, last: str) -> Iterator[str]:
    quarter = first
    while disclosure.parse(quarter) <= disclosure.parse(last):
        yield quarter
        quarter = disclosure.following(quarter)


def due_date(quarter: str, calendar: WorkCalendar) -> date:
    """The 5th working day after the quarter's last day (as the quarterly disclosure's). Raises
    CalendarGap when the calendar lacks a year it depends on."""
    return disclosure.due(quarter, calendar)


def flaggable_through(today: date, calendar: WorkCalendar) -> tuple[str | None, CalendarGap | None]:
    """The latest quarter whose flag day (the working day after its due date) has come by `today`, and
    the calendar gap that kept a later one from being judged. The last quarter's flag day falls at most
    some weeks into this one, so the last two quarters are tried."""
    gap, quarter = None, disclosure.previous(of(today))
    for _ in range(2):
        try:
            if calendar.next_working_day(due_date(quarter, calendar)) <= today:
                return quarter, gap
        except CalendarGap as exc:
            gap = exc
        quarter = disclosure.previous(quarter)
    return None, gap


def fold(events) -> History:
    return reports.fold(events, key="quarter", filed=FILED, missed=MISSED)


def check_filing(body: Mapping[str, Any], today: date) -> str:
    """The quarter filed for, after the checks no state can change: a quarter that has begun (a unit
    may file in the quarter's last days, before it ends), a summary, each case once. Raises Invalid."""
    errors: dict[str, list[str]] = {}
    try:
        quarter = parse(body.get("quarter"))
        if disclosure.period(quarter)[0] > today:
            errors["quarter"] = [f"{quarter} 还没有开始：只能报送本季度或以前各季度的工作情况"]
    except (TypeError, ValueError) as exc:
        quarter, errors["quarter"] = None, [str(exc)]
    if not str(body.get("summary") or "").strip():
        errors["summary"] = ["请填写本季度工作情况"]
    reports.each_case_once(body.get("progress") or [], errors)
    if errors:
        raise Invalid(errors)
    return quarter


def filing(history: History, unit: str, quarter: str, body: Mapping[str, Any], *, due: date | None,
           today: date) -> dict[str, Any]:
    """The quarterly_filed event's data (reports.revision has the rules of lateness and corrections)."""
    return {"unit": unit, "quarter": quarter, "summary": body["summary"], **reports.listed(body),
            "next_steps": body.get("next_steps"), "note": body.get("note"),
            **reports.revision(history, unit, quarter, LABEL, body.get("corrects"), due=due, today=today)}


def missed_quarters(history: History, unit: str, first: str, through: str,
                    calendar: WorkCalendar) -> list[tuple[str, dict[str, Any]]]:
    """The flags (quarterly_missed) for every quarter from `first` through `through` with neither a
    filing nor a flag, in order. Raises CalendarGap."""
    decided = []
    for quarter in quarters(first, through):
        if quarter in history.filed or quarter in history.missed:
            continue
        due = due_date(quarter, calendar)
        decided.append((MISSED, {"unit": unit, "quarter": quarter, "due": due.isoformat(),
                                 "flagged_on": calendar.next_working_day(due).isoformat()}))
    return decided


def required(first_week: Week | None, quarter: str) -> bool:
    """Whether a unit whose first reporting week is `first_week` (None: not reporting) owes `quarter`."""
    return first_week is not None and disclosure.parse(quarter) >= disclosure.parse(first_quarter(first_week))

