"""Tasks and project stages on the escalation ladder (docs/CAMPAIGNS.md, docs/ESCALATION.md): what
notify's ladder reads of them, in the shape it reads of a case (`ladder.Case.from_view`), so overdue
tasks, milestones and stages climb the same ladder with the same thresholds — there is no second one.

- A task is one subject, its id. Its deadline ladder counts from its *current due date*: the earliest
  milestone not reached, else the task's deadline; reaching a milestone moves the date, which ends
  the round (`new_deadline`) and starts the next from the next milestone. Reporting completion stops
  it (`completion_reported`), signing off (`closed`) and withdrawing (`cancelled`) too.
- A project stage is the subject `<project id>/<stage key>`, running from the day it is entered to its
  limit, addressed to its approving unit; completing it stops the ladder (`stage_completed`), so does
  its becoming a case (`case_opened`): from then on the case climbs its own ladders.
Pure."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from . import taskview

Row = dict[str, Any]
TASK_STOPS = {"completion_reported": "completion_reported", "signed_off": "closed", "cancelled": "cancelled"}
REGISTERED = "cn.zhengfeng.project.registered.v1"
STAGE_EVENTS = {"cn.zhengfeng.project.stage_entered.v1": "in_progress",
                "cn.zhengfeng.project.stage_completed.v1": "stage_completed",
                "cn.zhengfeng.project.stage_case_opened.v1": "case_opened"}


def _midnight(day: str) -> str:
    """The start of a China day, as the ladder's `since` reads an assignment time."""
    return f"{day}T00:00:00+08:00"


def _current_due(row: Mapping[str, Any]) -> date:
    pending = [date.fromisoformat(m["due"]) for m in row["milestones"] if m["reached_at"] is None]
    return min([*pending, row["deadline"]])


def task_view(row: Mapping[str, Any]) -> Row:
    """A task row (zfcommon.taskview) as the ladder reads it."""
    return {"kind": "task", "title": row["title"], "campaign_id": row["campaign_id"],
            "status": TASK_STOPS.get(row["status"], row["status"]), "lead_unit": row["lead_unit"],
            "handling_mode": row["handling_mode"], "deadline": _current_due(row).isoformat(), "sign_for_due": None,
            "accepted_at": None, "extension_pending": False, "assigned_at": row["issued_at"].isoformat()}


def _stored(row: Mapping[str, Any]) -> Row:
    """A task row as JSON keeps it (dates and times as ISO text)."""
    return {k: v.isoformat() if isinstance(v, (date, datetime)) else v for k, v in row.items()}


def _loaded(row: Mapping[str, Any]) -> Row:
    times = {"issued_at", "last_progress_at", "completion_reported_at", "signed_off_at", "updated_at"}
    return {k: (date.fromisoformat(v) if k == "deadline" else datetime.fromisoformat(v) if k in times and v else v)
            for k, v in row.items()}


def after_task(state: Mapping[str, Any] | None, event) -> tuple[Row, Row] | None:
    """The task's stored state and its view after a task event, or None when the event changes nothing
    (`state` as returned before: JSON-ready)."""
    new = taskview.evolve(None if state is None else _loaded(state), event)
    return None if new is None else (_stored(new), task_view(new))


def stage_views(stored: Mapping[str, Row], event) -> dict[str, Row]:
    """subject -> view after a project event, given the stored views of its stages (subject -> view)."""
    d = event.data
    if event.type == REGISTERED:
        return {f"{event.subject}/{s['key']}": {
            "kind": "stage", "project_id": event.subject, "stage": s["key"], "title": f"{d['name']}·{s['name']}",
            "project": d["name"], "stage_name": s["name"], "campaign_id": d["campaign_id"], "status": "not_entered",
            "lead_unit": s["unit"], "handling_mode": d["handling_mode"], "grace": d["case_grace_days"],
            "limit_days": s["limit_days"], "deadline": None, "sign_for_due": None, "accepted_at": None,
            "extension_pending": False, "assigned_at": None} for s in d["stages"]}
    status = STAGE_EVENTS.get(event.type)
    subject = f"{event.subject}/{d.get('stage')}"
    if status is None or subject not in stored:
        return {}
    view = {**stored[subject], "status": status}
    if event.type == "cn.zhengfeng.project.stage_entered.v1":
        view.update(deadline=d["due"], assigned_at=_midnight(d["entered_on"]))
    return {subject: view}
