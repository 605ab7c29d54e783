"""Who may read what, and the request's day: shared by every ledger endpoint."""
from __future__ import annotations

from datetime import date
from typing import Callable, TypeVar

from flask import current_app
from psycopg_pool import ConnectionPool

from zfcommon.auth import Principal, own_source
from zfcommon.problem import Forbidden, Unprocessable
from zfcommon.workdays import CalendarGap
from zfcommon.web import principal

from ..adapters.filters import Scope

READERS = ("office", "auditor", "unit", "channel")
T = TypeVar("T")


def scope_for(who: Principal) -> Scope:
    """office and auditor see every case; a unit the cases it leads or cooperates on; a channel the
    cases it brought in. The public reads nothing here."""
    if who.role not in READERS:
        raise Forbidden(f"role {who.role!r} may not read the ledger; allowed: {', '.join(READERS)}")
    if who.role == "unit":
        return Scope(unit=who.unit)
    if who.role == "channel":
        return Scope(channel=who.channel, source=own_source(who))
    return Scope()


def reader_scope() -> Scope:
    return scope_for(principal())


def today() -> date:
    """China's date now, from the clock create_app was given (tests fix it)."""
    return current_app.extensions["ledger_today"]()


def pool() -> ConnectionPool:
    return current_app.extensions["zf_pool"]


def calendar_checked(answer: Callable[[], T]) -> T:
    """`answer()`, or a 422 naming due_within when the calendar cannot count that many working days ahead."""
    try:
        return answer()
    except CalendarGap as exc:
        raise Unprocessable(f"due_within: {exc}", errors={"due_within": [str(exc)]}) from None
