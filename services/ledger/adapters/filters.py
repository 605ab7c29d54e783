"""The WHERE clauses behind every ledger query: who may see what (Scope) and the list filters."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from psycopg import sql

from zfcommon.workdays import SHANGHAI

from ..domain.statuses import AWAITING_SIGN_FOR, DEADLINE_RUNNING


@dataclass(frozen=True)
class Scope:
    """The cases a principal may see: every case (no field set), a unit's (lead or cooperating unit),
    or those that came in through one channel (zfcommon.auth.channel_reach); and whether it reads what
    complainants wrote as written (the office, auditors) or masked (zfcommon.outsiders)."""
    unit: str | None = None
    channel: str | None = None
    source: str | None = None          # within the channel, only the cases this source submitted
    submitter: str | None = None       # within the channel, only the cases this actor submitted
    full_text: bool = True


def _in(column: str, values: tuple[str, ...]) -> sql.Composable:
    # Literals, not a parameter: the planner must see the list to match the partial indexes'
    # predicates, and a prepared statement's generic plan would not.
    return sql.SQL("{} IN ({})").format(sql.Identifier(column), sql.SQL(", ").join(map(sql.Literal, values)))


RUNNING = _in("status", DEADLINE_RUNNING)


@dataclass
class Where:
    clauses: list[sql.Composable] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str | sql.Composable, *params: Any) -> "Where":
        self.clauses.append(sql.SQL(clause) if isinstance(clause, str) else clause)
        self.params.extend(params)
        return self

    def copy(self) -> "Where":
        return Where(list(self.clauses), list(self.params))

    def sql(self) -> sql.Composable:
        if not self.clauses:
            return sql.SQL("")
        return sql.SQL("WHERE ") + sql.SQL(" AND ").join(self.clauses)


def involving(where: Where, unit: str) -> Where:
    return where.add("(lead_unit = %s OR cooperating_units @> ARRAY[%s]::text[])", unit, unit)


def scoped(scope: Scope) -> Where:
    where = Where()
    if scope.unit is not None:
        involving(where, scope.unit)
    if scope.channel is not None:
        where.add("channel = %s", scope.channel)
    if scope.source is not None:
        where.add("origin->>'parent' = %s", scope.source)
    if scope.submitter is not None:
        where.add("received_by = %s", scope.submitter)
    return where


def overdue_clause(today: date) -> sql.Composable:
    return sql.SQL("({} AND deadline < {})").format(RUNNING, sql.Literal(today))


def sign_for_overdue_clause(today: date) -> sql.Composable:
    return sql.SQL("(status = {} AND sign_for_due < {})").format(sql.Literal(AWAITING_SIGN_FOR), sql.Literal(today))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), SHANGHAI)


def _contains(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


EQUALS = ("case_number", "lead_unit", "subject_unit", "category", "channel", "handling_mode")


def case_filters(filters: Mapping[str, Any], scope: Scope, today: date) -> Where:
    """Scope plus the list filters (docs/LEDGER.md "Filters") but status, which queries.cases applies;
    dates are China's calendar days."""
    where = scoped(scope)
    for name in EQUALS:
        if filters.get(name) is not None:
            where.add(sql.SQL("{} = %s").format(sql.Identifier(name)), filters[name])
    if filters.get("unit") is not None:
        involving(where, filters["unit"])
    if filters.get("overdue") is True:
        where.add(overdue_clause(today))   # bare, so the planner can use the running-deadline index
    elif filters.get("overdue") is False:
        where.add(sql.SQL("NOT coalesce({}, false)").format(overdue_clause(today)))
    if filters.get("received_from"):
        where.add("received_at >= %s", _start_of(filters["received_from"]))
    if filters.get("received_to"):
        where.add("received_at < %s", _start_of(filters["received_to"] + timedelta(days=1)))
    if filters.get("deadline_from"):
        where.add("deadline >= %s", filters["deadline_from"])
    if filters.get("deadline_to"):
        where.add("deadline <= %s", filters["deadline_to"])
    if filters.get("q"):
        # Text in what the reader may read — outsiders only the summary: a match on the description would
        # tell them that a masked name is there (an oracle) — or the whole case number as people type it
        # (any case, spaces around) or by its serial (`numbers`: zfcommon.casenumbers.meant): each side has
        # its index (trigram, btree), so the planner ORs two scans.
        column = "description" if scope.full_text else "summary"
        where.add(sql.SQL("({} ILIKE %s OR case_number = ANY(%s))").format(sql.Identifier(column)),
                  _contains(filters["q"]), filters.get("numbers") or [filters["q"].strip().upper()])
    if filters.get("number_in"):
        where.add("case_number = ANY(%s)", list(filters["number_in"]))
    if filters.get("due_until"):
        where.add(due_soon_clause(today, filters["due_until"]))
    if filters.get("campaign"):
        where.add("campaign_id = %s", filters["campaign"])
    return where


def due_soon_clause(today: date, until: date) -> sql.Composable:
    """Deadline running, not passed, and on or before `until` (due_within working days from today)."""
    return sql.SQL("({} AND deadline >= {} AND deadline <= {})").format(RUNNING, sql.Literal(today), sql.Literal(until))
