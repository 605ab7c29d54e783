"""What an event counts against a unit in a monthly bulletin, beyond the ledger's case figures. Pure.

- a bulletin criticism (通报批评) the escalation ladder issued on a case: counted in the month its
  threshold was crossed;
- an accountability record (问责): counted in the month it was decided (China time); only the unit,
  the measure and the basis cases are kept — never the person it names;
- a missed weekly report (周报告, seed 002): counted on the ISO week's Thursday, so in the month
  holding it (the ISO rule for which year a week belongs to, applied to months): a week counts once.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from zfcommon.workdays import local_date

STEP_ISSUED = "cn.zhengfeng.escalation.step_issued.v1"
ACCOUNTABILITY = "cn.zhengfeng.accountability.recorded.v1"
WEEKLY_MISSED = "cn.zhengfeng.report.weekly_missed.v1"
TYPES = (STEP_ISSUED, ACCOUNTABILITY, WEEKLY_MISSED)


def week_thursday(week: str, fallback: date) -> date:
    """The Thursday of ISO week `week` ("2026-W48"): the day a missed week counts on."""
    try:
        year, number = week.split("-W")
        return date.fromisocalendar(int(year), int(number), 4)
    except ValueError:
        return fallback


def mark(event_type: str, subject: str, data: Mapping[str, Any], time: datetime) -> dict[str, Any] | None:
    """{kind, unit, day, month, entry} for an event that counts against a unit, else None: `day` is the
    day it counts on (a report over any period counts the marks of its days), `month` that day's month."""
    found = _mark(event_type, subject, data, time)
    return found and {**found, "month": found["day"].replace(day=1)}


def _mark(event_type: str, subject: str, data: Mapping[str, Any], time: datetime) -> dict[str, Any] | None:
    if event_type == STEP_ISSUED and data["step"] == "bulletin_criticism":
        day = date.fromisoformat(str(data["crossed_on"]))
        return {"kind": "criticism", "unit": data["unit"], "day": day, "entry": {
            "unit": data["unit"], "source": "escalation", "kind": "bulletin_criticism", "day": day.isoformat(),
            "case_ids": [subject], "working_days_overdue": data["working_days_overdue"]}}
    if event_type == ACCOUNTABILITY:
        day = local_date(time)
        return {"kind": "accountability", "unit": data["unit"], "day": day, "entry": {
            "unit": data["unit"], "source": "accountability", "kind": data["measure"], "day": day.isoformat(),
            "case_ids": sorted(data["basis_cases"]), "working_days_overdue": None}}
    if event_type == WEEKLY_MISSED:
        flagged = date.fromisoformat(str(data.get("flagged_on") or local_date(time)))
        return {"kind": "weekly_missed", "unit": data["unit"], "day": week_thursday(data["week"], flagged),
                "entry": {"week": data["week"], "flagged_on": flagged.isoformat()}}
    return None
