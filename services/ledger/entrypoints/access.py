"""Who may read what, and the request's day: shared by every ledger endpoint."""
from __future__ import annotations

from datetime import date
from typing import Callable, TypeVar

from flask import current_app
from psycopg_pool import ConnectionPool

from zfcommon.auth import Principal, channel_reach, role_refused
from zfcommon.problem import Unprocessable
from zfcommon.workdays import CalendarGap
from zfcommon.web import principal

from ..adapters.filters import Scope

READERS = ("office", "auditor", "unit", "channel")
T = TypeVar("T")


def scope_for(who: Principal) -> Scope:
    """office and auditor see every case as written; a unit the cases it leads or cooperates on, a
    channel its own submissions (zfcommon.auth.channel_reach), both with free text masked. The public
    reads nothing here."""
    if who.role not in READERS:
        raise role_refused(who.role, READERS)
    if who.role == "unit":
        return Scope(unit=who.unit, full_text=False)
    reach = channel_reach(who)
    if reach is not None:
        return Scope(channel=reach.channel, source=reach.source, submitter=reach.submitter, full_text=False)
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
        raise Unprocessable(f"工作日历算不到这么远：{exc}", code="calendar.year_missing",
                            errors={"due_within": [str(exc)]}) from None
