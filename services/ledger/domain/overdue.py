"""Whether a case is overdue on a given day, and by how many working days. Pure: `today` is passed in.

Overdue: the deadline is running (DEADLINE_RUNNING) and today > deadline. Sign-for overdue: the case
waits to be signed for and today > sign_for_due. Working days overdue: working days d with
deadline < d <= today under the official calendar; working days left (a running case not yet overdue):
working days d with today < d <= deadline (0 on the deadline day itself). A year the calendar does not
know is named (`calendar_gap`), never guessed.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from zfcommon.workdays import CalendarGap, WorkCalendar

from .statuses import AWAITING_SIGN_FOR, DEADLINE_RUNNING


def is_overdue(row: Mapping[str, Any], today: date) -> bool:
    return row["status"] in DEADLINE_RUNNING and row["deadline"] is not None and today > row["deadline"]


def is_sign_for_overdue(row: Mapping[str, Any], today: date) -> bool:
    return row["status"] == AWAITING_SIGN_FOR and row["sign_for_due"] is not None and today > row["sign_for_due"]


def assess(row: Mapping[str, Any], today: date, calendar: WorkCalendar) -> dict[str, Any]:
    """The overdue facts of `row` as of `today`, to show beside it."""
    overdue, days, left, gap = is_overdue(row, today), 0, None, None
    try:
        if overdue:
            days = calendar.working_days_between(row["deadline"], today)
        elif row["status"] in DEADLINE_RUNNING and row["deadline"] is not None:
            left = calendar.working_days_between(today, row["deadline"])
    except CalendarGap as exc:
        days, gap = (None if overdue else 0), str(exc)
    return {"overdue": overdue, "working_days_overdue": days, "working_days_left": left,
            "sign_for_overdue": is_sign_for_overdue(row, today), "calendar_gap": gap}
