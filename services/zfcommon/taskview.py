"""A task as its events say (docs/CAMPAIGNS.md), and what is overdue about it on a day. Pure, one fold
for every reader like zfcommon.caseview: ledger projects it, notify climbs its escalation ladder from it."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable, Mapping

from .caseview import follow

Row = dict[str, Any]
PREFIX = "cn.zhengfeng.task."
ISSUED = PREFIX + "issued.v1"
RUNNING = "in_progress"
COLUMNS = ("task_id", "campaign_id", "phase", "number", "title", "target", "lead_unit", "cooperating_units",
           "responsible_leader", "measures", "monitor", "deadline", "handling_mode", "milestones", "status",
           "issued_at", "last_progress_at", "completion_reported_at", "completion_on_time", "signed_off_at",
           "signed_off_on_time", "sent_back_count", "origin", "updated_at", "version")


def _issued(subject: str, d: Mapping, at: datetime, version: int) -> Row:
    return {"task_id": subject, **{k: d[k] for k in ("campaign_id", "phase", "number", "title", "target", "lead_unit",
                                                   "responsible_leader", "measures", "monitor", "handling_mode")},
            "cooperating_units": list(d["cooperating_units"]), "deadline": date.fromisoformat(d["deadline"]),
            "milestones": [{"name": m["name"], "due": m["due"], "reached_at": None, "on_time": None}
                           for m in d["milestones"]],
            "status": RUNNING, "issued_at": at, "last_progress_at": None, "completion_reported_at": None,
            "completion_on_time": None, "signed_off_at": None, "signed_off_on_time": None, "sent_back_count": 0,
            "origin": d.get("origin"), "updated_at": at, "version": version}


def _milestone(row: Row, d: Mapping, at: datetime) -> Row:
    milestones = [dict(m) for m in row["milestones"]]
    milestones[d["milestone"] - 1].update(reached_at=at.isoformat(), on_time=d["on_time"])
    return {"milestones": milestones, "last_progress_at": at}


RULES: dict[str, Callable[[Row, Mapping, datetime], Row]] = {
    PREFIX + "progress_reported.v1": lambda row, d, at: {"last_progress_at": at},
    PREFIX + "milestone_reached.v1": _milestone,
    PREFIX + "completion_reported.v1": lambda row, d, at: {"status": "completion_reported", "last_progress_at": at,
                                                           "completion_reported_at": at,
                                                           "completion_on_time": d["on_time"]},
    PREFIX + "signed_off.v1": lambda row, d, at: {"status": "signed_off", "signed_off_at": at,
                                                  "signed_off_on_time": d["on_time"]},
    PREFIX + "sent_back.v1": lambda row, d, at: {"status": RUNNING, "sent_back_count": d["sent_back_count"],
                                                 "completion_reported_at": None, "completion_on_time": None,
                                                 **({"deadline": date.fromisoformat(d["new_deadline"])}
                                                    if d["new_deadline"] else {})},
    PREFIX + "cancelled.v1": lambda row, d, at: {"status": "cancelled"},
}
TYPES = (ISSUED, *RULES)


def evolve(row: Row | None, change) -> Row | None:
    """The task after `change`, or None when it changes nothing (a second issue, an event for a task
    never issued, or one not newer than the row)."""
    if change.type == ISSUED:
        return _issued(change.subject, change.data, change.time, change.streamversion) if row is None else None
    return follow(RULES, row, change)


def overdue(row: Mapping[str, Any], today: date) -> bool:
    """Running and past its deadline (a reported completion is the unit's part done, as for cases)."""
    return row["status"] == RUNNING and today > row["deadline"]


def milestones_overdue(row: Mapping[str, Any], today: date) -> list[dict[str, Any]]:
    """Milestones not reached whose date has passed, while the task runs."""
    if row["status"] != RUNNING:
        return []
    return [m for m in row["milestones"] if m["reached_at"] is None and today > date.fromisoformat(m["due"])]
