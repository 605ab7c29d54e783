"""Efficiency monitoring points (效能监测点): standing sources the office appoints — service windows,
enterprises, key projects, villages — that keep reporting what they see of the units they watch
(seed 003 monitors 43 windows and key positions; seed 001 calls it "invisible" supervision). Each
submission becomes a case on channel `monitoring_point`. One stream per point (`monitoring-point-<uuid>`).
Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .case import InvalidCommand, NewEvent
from .directory import Directory
from .inspection import Folded, Lead, StateRefused

PREFIX = "cn.zhengfeng.monitoring_point."
REGISTERED = PREFIX + "registered.v1"
SUBMISSION_RECORDED = PREFIX + "submission_recorded.v1"
DEACTIVATED = PREFIX + "deactivated.v1"
STREAM_PREFIX = "monitoring-point-"


@dataclass(frozen=True)
class RegisterPoint:
    name: str
    kind: str
    watched_units: tuple[str, ...] = ()     # empty: the point may report on any unit
    organisation: str | None = None
    location: dict[str, Any] | None = None
    note: str | None = None


@dataclass
class MonitoringPoint(Folded):
    point_id: str
    version: int = 0
    active: bool = False
    facts: dict[str, Any] = field(default_factory=dict)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    registered_at: datetime | None = None
    deactivated_at: datetime | None = None

    def apply(self, event_type: str, data: dict[str, Any], at: datetime | None = None) -> None:
        self.version += 1
        if event_type == REGISTERED:
            self.active, self.facts, self.registered_at = True, dict(data), at
        elif event_type == SUBMISSION_RECORDED:
            self.submissions.append({**data, "recorded_at": at})
        elif event_type == DEACTIVATED:
            self.active, self.deactivated_at = False, at
            self.facts["deactivation_reason"] = data["reason"]

    @property
    def exists(self) -> bool:
        return self.version > 0

    @property
    def status(self) -> str:
        return "active" if self.active else "deactivated"

    def allowed_commands(self) -> list[str]:
        return ["record_submission", "deactivate"] if self.active else []


def register(cmd: RegisterPoint, directory: Directory) -> list[NewEvent]:
    errors = directory.check_units("watched_units", list(cmd.watched_units))
    if len(set(cmd.watched_units)) != len(cmd.watched_units):
        errors.setdefault("watched_units", []).append("有单位重复列出")
    if errors:
        raise InvalidCommand(errors)
    return [NewEvent(REGISTERED, {"name": cmd.name, "kind": cmd.kind, "organisation": cmd.organisation,
                                  "location": cmd.location, "watched_units": list(cmd.watched_units),
                                  "note": cmd.note})]


def check_submission(point: MonitoringPoint, lead: Lead, today: date) -> None:
    """State first (409), then content (422). The category is checked where the case is received."""
    if not point.active:
        raise StateRefused("deactivated", "record_submission", [], "此监测点已停用，不能再报送问题")
    watched = point.facts["watched_units"]
    if watched and lead.unit not in watched:
        raise InvalidCommand({"unit": [f"不在此监测点监测的单位之列：{lead.unit}"]},
                             code="monitoring_point.unit_not_watched")
    if lead.observed_on and lead.observed_on > today:
        raise InvalidCommand({"observed_on": [f"不能晚于今天（{today.isoformat()}）"]}, code="monitoring_point.date_future")


def submission_recorded(submission_id: str, lead: Lead, case_id: str, case_number: str) -> list[NewEvent]:
    return [NewEvent(SUBMISSION_RECORDED, {"submission_id": submission_id, "case_id": case_id,
                                           "case_number": case_number, **lead.data()})]


def deactivate(point: MonitoringPoint, reason: str) -> list[NewEvent]:
    if not point.active:
        raise StateRefused("deactivated", "deactivate", [], "此监测点已经停用")
    return [NewEvent(DEACTIVATED, {"reason": reason})]
