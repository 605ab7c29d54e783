"""When a project stage past its limit becomes a case (docs/CAMPAIGNS.md): on the day it is `grace`
working days past its due date (the day after it, for a grace of 0), while it is still open and no
case was opened for it. intake checks the same rule on its own calendar before it opens the case;
notify only decides when to ask. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from zfcommon.workdays import CalendarGap, WorkCalendar


@dataclass(frozen=True)
class Opening:
    now: bool = False              # ask intake for the case today
    day: date | None = None        # the day it will be due, when not yet


def opening(view: Mapping[str, Any] | None, calendar: WorkCalendar, today: date) -> Opening:
    if not view or view.get("kind") != "stage" or view["status"] != "in_progress" or not view.get("deadline"):
        return Opening()
    due = date.fromisoformat(view["deadline"])
    try:
        day = calendar.add_working_days(due, view["grace"]) if view["grace"] > 0 else due + timedelta(1)
    except CalendarGap:
        return Opening(day=today + timedelta(1))       # the ladder names the gap; look again tomorrow
    return Opening(now=True) if today >= day else Opening(day=day)
