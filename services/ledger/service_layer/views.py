"""The ledger's read models: queries plus the facts computed at read time (overdue, working days).

Plain functions over a connection, a Scope and `today` (China's date), so tests can fix the day.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Iterator, Mapping

import psycopg

from zfcommon import caseview, outsiders
from zfcommon.workdays import WorkCalendar, local_date

from ..adapters import escalations, queries, repository
from . import plan_views
from ..adapters.cursor import encode_cursor
from ..adapters.filters import Scope, Where, case_filters, scoped
from ..domain import overdue, rates
from ..domain.campaign_figures import UNIT_FIELDS
from ..domain.figures import FIGURES, accumulate, figures, month_of

Row = dict[str, Any]
NO_FIGURES = dict.fromkeys(FIGURES, 0)
NO_PLAN_FIGURES = dict.fromkeys(UNIT_FIELDS, 0)


def present(row: Mapping[str, Any], today: date, calendar: WorkCalendar, scope: Scope) -> Row:
    """The row with its overdue facts for `today`, and its free text as the reader may read it."""
    shown = {**row, "summary": outsiders.summary_of(row)} if scope.full_text else outsiders.case_row(row)
    return {**shown, **overdue.assess(row, today, calendar)}


def due_until(calendar: WorkCalendar, today: date, due_within: int) -> date:
    """The last day a deadline may fall on to be due within `due_within` working days (today when 0);
    CalendarGap when the calendar cannot count that far."""
    return calendar.add_working_days(today, due_within)


def _filtered(filters: Mapping, scope: Scope, today: date, calendar: WorkCalendar):
    if filters.get("due_within") is not None:
        filters = {**filters, "due_until": due_until(calendar, today, filters["due_within"])}
    return case_filters(filters, scope, today)


def case_page(conn: psycopg.Connection, filters: Mapping, scope: Scope, today: date, *, limit: int,
              after: tuple[datetime, str] | None) -> tuple[list[Row], str | None]:
    calendar = repository.calendar(conn)
    rows = queries.fetch(conn, queries.cases(_filtered(filters, scope, today, calendar),
                                             statuses=filters.get("status", ()), after=after, limit=limit + 1))
    more, rows = len(rows) > limit, rows[:limit]
    return ([present(r, today, calendar, scope) for r in escalations.with_ladders(conn, rows)],
            (encode_cursor(rows[-1]) if more else None))


def all_cases(conn: psycopg.Connection, filters: Mapping, scope: Scope, today: date) -> Iterator[Row]:
    calendar = repository.calendar(conn)
    query = queries.cases(_filtered(filters, scope, today, calendar), statuses=filters.get("status", ()))
    for row in queries.stream(conn, query):
        yield present(row, today, calendar, scope)


def case_detail(conn: psycopg.Connection, case_id: str, scope: Scope, today: date) -> Row | None:
    row = repository.get_case(conn, case_id, scope)
    return None if row is None else present(escalations.detail(conn, row), today, repository.calendar(conn), scope)


def case_timeline(conn: psycopg.Connection, case_id: str, scope: Scope) -> tuple[str | None, list[Row]] | None:
    """The case's number and its events, or None when the reader may not see it; outsiders read each
    event's data masked (zfcommon.outsiders.event_data)."""
    case = repository.get_case(conn, case_id, scope)
    if case is None:
        return None
    entries = repository.timeline(conn, case_id)
    return case["case_number"], entries if scope.full_text else [
        {**e, "data": outsiders.event_data(e["type"], e["data"])} for e in entries]


def case_as_of(conn: psycopg.Connection, case_id: str, scope: Scope, at: datetime) -> Row | None:
    """The case as it stood at `at`: its stored events up to then, folded by the projection's own
    evolve; overdue is judged on China's date at that instant. Who may see it is decided by the case
    as it is now, like its timeline."""
    if repository.get_case(conn, case_id, scope) is None:
        return None
    row = caseview.replay(repository.recorded(case_id, repository.timeline(conn, case_id, until=at)))
    return None if row is None else present(escalations.detail(conn, row, at), local_date(at),
                                            repository.calendar(conn), scope)


def summary(conn: psycopg.Connection, scope: Scope, today: date, due_within: int) -> Row:
    """Today's counts for a dashboard: new leads, due soon, overdue, waiting past the sign-for day,
    awaiting the office's verification (docs/LEDGER.md "Summary")."""
    until = due_until(repository.calendar(conn), today, due_within)
    counts = queries.fetch(conn, queries.summary(scoped(scope), today, until))[0]
    return {"today": today, "due_within": due_within, "due_until": until, **counts}


def _overdue_filters(filters: Mapping, scope: Scope, today: date):
    return case_filters({k: filters.get(k) for k in ("unit", "channel", "handling_mode")}, scope, today)


def overdue_page(conn: psycopg.Connection, filters: Mapping, scope: Scope, today: date, *, limit: int,
                 offset: int) -> list[Row]:
    rows = queries.fetch(conn, queries.overdue(_overdue_filters(filters, scope, today), today,
                                               limit=limit, offset=offset))
    calendar = repository.calendar(conn)
    return [present(r, today, calendar, scope) for r in escalations.with_ladders(conn, rows)]


def all_overdue(conn: psycopg.Connection, filters: Mapping, scope: Scope, today: date) -> Iterator[Row]:
    calendar = repository.calendar(conn)
    rows = queries.stream(conn, queries.overdue(_overdue_filters(filters, scope, today), today))
    for row in escalations.stream_with_ladders(conn, rows):
        yield present(row, today, calendar, scope)


def _whole_months(first: date | None, last: date | None) -> bool:
    return (first is None or first.day == 1) and (last is None or (last + timedelta(days=1)).day == 1)


def _counted(conn: psycopg.Connection, cases: Where) -> dict[str, Row]:
    """Per lead unit, the monthly sums' figures counted from the cases themselves (domain/figures.py):
    for a period that is not whole months, which those sums cannot give."""
    totals: dict[Any, dict[str, int]] = {}
    for row in queries.stream(conn, queries.case_figures(cases)):
        key, values = figures(row)
        accumulate(totals, (key[0], values))
    return {unit: {"unit": unit, **values} for unit, values in totals.items()}


def unit_stats(conn: psycopg.Connection, period: Mapping, scope: Scope, today: date,
               min_base: int = rates.MIN_RATE_BASE) -> list[Row]:
    """Per lead unit, over the cases received in `period` (any days, optionally one `channel`): a unit
    sees only its own row, a channel reading its whole channel figures over its channel's cases. Whole
    months read the monthly sums; another period counts its cases (a few seconds for a hundred thousand)."""
    first, last = period.get("received_from"), period.get("received_to")
    channel = scope.channel or period.get("channel")
    if channel != period.get("channel", channel):
        return []       # a channel asking for another channel's cases: there are none it may see
    cases = case_filters({"received_from": first, "received_to": last, "lead_unit": scope.unit},
                         Scope(channel=channel), today)
    if _whole_months(first, last):
        sums = {r["unit"]: r for r in queries.fetch(conn, queries.month_sums(
            unit=scope.unit, channel=channel, first=first and month_of(first), last=last and month_of(last)))}
    else:
        sums = _counted(conn, cases)
    late: dict[str, dict[str, int]] = {}
    for r in queries.fetch(conn, queries.late_counts(cases, today)):
        late.setdefault(r["unit"], {})[r["kind"]] = r["n"]
    # The campaign machinery's part (docs/CAMPAIGNS.md): tasks the unit leads, look-back findings against
    # it. A channel's figures are over its own cases only: it sees no task.
    plans = {} if channel else plan_views.unit_plan_figures(conn, today, first, last, scope.unit)
    return [{**rates.unit_figures(unit, sums.get(unit, NO_FIGURES), late.get(unit, {}), min_base),
             **plans.get(unit, NO_PLAN_FIGURES)} for unit in sorted({*sums, *late, *plans})]
