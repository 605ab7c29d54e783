"""Inspections (明察暗访): the office plans a visit to target units with a team and dates, announced
(明察) or unannounced (暗访); each problem the team finds becomes a case on channel `inspection`.
One stream per inspection (`inspection-<uuid>`). Pure: decisions return events, state changes only by
applying them.

Shared with monitoring points (monitoring.py): a `Lead` — a problem seen at a unit, with its evidence —
and how it becomes the command that puts a case on the ledger.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .case import InvalidCommand, NewEvent, ReceiveComplaint, TransitionRefused
from .directory import Directory

PREFIX = "cn.zhengfeng.inspection."
PLANNED = PREFIX + "planned.v1"
FINDING_RECORDED = PREFIX + "finding_recorded.v1"
COMPLETED = PREFIX + "completed.v1"
CANCELLED = PREFIX + "cancelled.v1"
STREAM_PREFIX = "inspection-"
MODES = ("announced", "unannounced")
PHASES = {"planned": "已计划", "under_way": "进行中", "completed": "已完成", "cancelled": "已取消", "new": "新建"}


class StateRefused(TransitionRefused):
    """409 naming the state of an inspection or monitoring point (mapped like a case's refusal)."""
    code = "source.transition_refused"

    def __init__(self, state: str, command: str, allowed: list[str], why: str):
        Exception.__init__(self, why)
        self.state, self.command, self.allowed = state, command, allowed


def _date(value: str | date | None) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


@dataclass(frozen=True)
class Lead:
    """A problem seen at a unit by an inspection team or a monitoring point. `evidence` items are
    {name, url, sha256?, taken_at?}; they travel on the case as its attachments."""
    unit: str
    category: str
    description: str
    priority: str = "normal"
    location: dict[str, Any] | None = None
    evidence: tuple[dict[str, Any], ...] = ()
    observed_on: date | None = None

    def case_command(self, channel: str, ref: str, parent: str, campaign_id: str | None = None) -> ReceiveComplaint:
        """The lead as a case received on `channel`, pointing back to where it was recorded (and in the
        campaign its source serves, if any)."""
        return ReceiveComplaint(channel=channel, category=self.category, description=self.description,
                                subject_unit=self.unit, priority=self.priority, location=self.location,
                                origin={"system": channel, "ref": ref, "parent": parent},
                                attachments=[dict(e) for e in self.evidence], campaign_id=campaign_id)

    def data(self) -> dict[str, Any]:
        """The lead as recorded on the finding or submission event (which adds its own id and the case's)."""
        return {"unit": self.unit, "category": self.category,
                "description": self.description, "priority": self.priority, "location": self.location,
                "evidence": [dict(e) for e in self.evidence],
                "observed_on": self.observed_on.isoformat() if self.observed_on else None}


@dataclass(frozen=True)
class PlanInspection:
    title: str
    mode: str
    target_units: tuple[str, ...]
    team: tuple[dict[str, Any], ...]
    starts_on: date
    ends_on: date
    focus: tuple[str, ...] = ()           # categories the team looks for (may be empty: anything)
    note: str | None = None
    campaign_id: str | None = None        # the campaign it serves (checked by the service layer)


class Folded:
    """An aggregate rebuilt from its stream: (type, data, time) per event, in order."""

    @classmethod
    def replay(cls, stream_id: str, history: list[tuple[str, dict[str, Any], datetime | None]]):
        aggregate = cls(stream_id)
        for event_type, data, at in history:
            aggregate.apply(event_type, data, at)
        return aggregate

    def apply(self, event_type: str, data: dict[str, Any], at: datetime | None = None) -> None:
        raise NotImplementedError


@dataclass
class Inspection(Folded):
    inspection_id: str
    version: int = 0
    status: str | None = None             # planned | completed | cancelled (as stored)
    facts: dict[str, Any] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    planned_at: datetime | None = None
    closed_at: datetime | None = None

    def apply(self, event_type: str, data: dict[str, Any], at: datetime | None = None) -> None:
        self.version += 1
        if event_type == PLANNED:
            self.status, self.facts, self.planned_at = "planned", dict(data), at
        elif event_type == FINDING_RECORDED:
            self.findings.append({**data, "recorded_at": at})
        elif event_type == COMPLETED:
            self.status, self.closed_at = "completed", at
            self.facts["summary"] = data["summary"]
        elif event_type == CANCELLED:
            self.status, self.closed_at = "cancelled", at
            self.facts["cancel_reason"] = data["reason"]

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def starts_on(self) -> date:
        return _date(self.facts["starts_on"])

    @property
    def ends_on(self) -> date:
        return _date(self.facts["ends_on"])

    def phase(self, today: date) -> str:
        """planned (not started yet), under_way, completed or cancelled."""
        if self.status == "planned" and today >= self.starts_on:
            return "under_way"
        return self.status or "new"

    def visible_to_unit(self, unit: str | None) -> bool:
        """Secrecy of 暗访: a target unit sees an announced inspection from the moment it is planned,
        an unannounced one only once it is completed — before, the plan would warn every target still
        to be visited. Units never see inspections that do not target them, nor cancelled 暗访."""
        if unit is None or unit not in self.facts.get("target_units", ()):
            return False
        return self.facts["mode"] == "announced" or self.status == "completed"

    def allowed_commands(self, today: date) -> list[str]:
        phase = self.phase(today)
        allowed = {"planned": ["cancel"], "under_way": ["record_finding", "complete"]}.get(phase, [])
        return allowed + (["cancel"] if phase == "under_way" and not self.findings else [])

    def _refuse(self, command: str, today: date, why: str) -> StateRefused:
        return StateRefused(self.phase(today), command, self.allowed_commands(today), why)


def plan(cmd: PlanInspection, directory: Directory) -> list[NewEvent]:
    """Targets must be active units of the directory and focus categories in the taxonomy. Dates may
    lie in the past: an inspection carried out before it was entered is recorded as it happened."""
    errors = directory.check_units("target_units", list(cmd.target_units))
    if len(set(cmd.target_units)) != len(cmd.target_units):
        errors.setdefault("target_units", []).append("有单位重复列出")
    if cmd.mode not in MODES:
        errors["mode"] = [f"须为以下之一：{', '.join(MODES)}"]
    if cmd.ends_on < cmd.starts_on:
        errors["ends_on"] = [f"早于开始日期 starts_on（{cmd.starts_on.isoformat()}）"]
    unknown = [c for c in cmd.focus if c not in directory.categories]
    if unknown:
        errors["focus"] = [f"不在正风办的问题类别中：{'、'.join(unknown)}"]
    if errors:
        raise InvalidCommand(errors)
    return [NewEvent(PLANNED, {
        "title": cmd.title, "mode": cmd.mode, "target_units": list(cmd.target_units),
        "team": [dict(m) for m in cmd.team], "starts_on": cmd.starts_on.isoformat(),
        "ends_on": cmd.ends_on.isoformat(), "focus": list(cmd.focus), "note": cmd.note,
        **({"campaign_id": cmd.campaign_id} if cmd.campaign_id else {})})]


def check_finding(inspection: Inspection, lead: Lead, today: date) -> None:
    """State first (409), then content (422). The category is checked where the case is received."""
    if inspection.phase(today) != "under_way":
        why = (f"检查开始（{inspection.starts_on.isoformat()}）后才能记录发现的问题"
               if inspection.status == "planned" else f"此次检查{PHASES[inspection.status]}，不能再记录问题")
        raise inspection._refuse("record_finding", today, why)
    if lead.unit not in inspection.facts["target_units"]:
        raise InvalidCommand({"unit": [f"不是此次检查的对象单位：{lead.unit}"]}, code="inspection.unit_not_targeted")
    if lead.observed_on and not inspection.starts_on <= lead.observed_on <= min(inspection.ends_on, today):
        raise InvalidCommand({"observed_on": [
            f"不在检查日期范围内（{inspection.starts_on.isoformat()} 至 "
            f"{min(inspection.ends_on, today).isoformat()}）"]}, code="inspection.date_outside")


def finding_recorded(finding_id: str, lead: Lead, case_id: str, case_number: str) -> list[NewEvent]:
    return [NewEvent(FINDING_RECORDED, {"finding_id": finding_id, "case_id": case_id, "case_number": case_number,
                                        **lead.data()})]


def complete(inspection: Inspection, summary: str | None, today: date) -> list[NewEvent]:
    if inspection.phase(today) != "under_way":
        raise inspection._refuse("complete", today, f"只有进行中的检查才能完成；此次检查"
                                                    f"{PHASES[inspection.phase(today)]}")
    return [NewEvent(COMPLETED, {"summary": summary, "finding_count": len(inspection.findings)})]


def cancel(inspection: Inspection, reason: str, today: date) -> list[NewEvent]:
    """An inspection with findings has put cases on the ledger: it is completed, never cancelled."""
    if "cancel" not in inspection.allowed_commands(today):
        why = ("此次检查已有问题记入台账，不能取消，请改为完成检查" if inspection.findings
               else f"此次检查{PHASES[inspection.phase(today)]}，不能取消")
        raise inspection._refuse("cancel", today, why)
    return [NewEvent(CANCELLED, {"reason": reason})]
