"""Campaigns (专项行动): a name, a period, the office that leads it, its dated phases and its problem
categories. Leads, inspections, tasks and projects may belong to one. Which phase a campaign is in is
never set by hand: it follows from the calendar (`phase_on`). One stream per campaign
(`campaign-<uuid>`). Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from zfcommon.campaigns import Phase, phases_of

from .case import NewEvent
from .directory import Directory
from .inspection import Folded
from .refusals import Invalid

LAUNCHED = "cn.zhengfeng.campaign.launched.v1"
STREAM_PREFIX = "campaign-"


@dataclass
class Campaign(Folded):
    campaign_id: str
    version: int = 0
    facts: dict[str, Any] = field(default_factory=dict)
    launched_at: datetime | None = None

    def apply(self, event_type: str, data: dict[str, Any], at: datetime | None = None) -> None:
        self.version += 1
        if event_type == LAUNCHED:
            self.facts, self.launched_at = dict(data), at

    @property
    def exists(self) -> bool:
        return bool(self.facts)

    def phase(self, number: int) -> Phase | None:
        return next((p for p in phases_of(self.facts) if p.number == number), None)


@dataclass(frozen=True)
class LaunchCampaign:
    name: str
    lead_office: str
    starts_on: date
    ends_on: date
    phases: tuple[dict[str, Any], ...]
    categories: tuple[str, ...] = ()
    description: str | None = None


def launch(cmd: LaunchCampaign, directory: Directory) -> list[NewEvent]:
    """Phases lie inside the period, in order, without overlapping; categories are the office's."""
    errors: dict[str, list[str]] = {}
    if cmd.ends_on < cmd.starts_on:
        errors["ends_on"] = [f"结束日期早于开始日期（{cmd.starts_on.isoformat()}）"]
    previous: date | None = None
    for i, p in enumerate(cmd.phases, 1):
        where = f"phases.{i - 1}"
        if p["ends_on"] < p["starts_on"]:
            errors.setdefault(where, []).append(f"第{i}阶段的结束日期早于开始日期")
        if p["starts_on"] < cmd.starts_on or p["ends_on"] > cmd.ends_on:
            errors.setdefault(where, []).append(
                f"第{i}阶段（{p['starts_on'].isoformat()}至{p['ends_on'].isoformat()}）超出活动期限")
        if previous is not None and p["starts_on"] <= previous:
            errors.setdefault(where, []).append(f"第{i}阶段与上一阶段重叠或顺序颠倒")
        previous = p["ends_on"]
    unknown = [c for c in cmd.categories if c not in directory.categories]
    if unknown:
        errors["categories"] = [f"不在问题类别目录中：{'、'.join(unknown)}"]
    if len(set(cmd.categories)) != len(cmd.categories):
        errors.setdefault("categories", []).append("问题类别重复")
    if errors:
        raise Invalid("专项行动的期限、阶段或问题类别有误：" + "；".join(m for ms in errors.values() for m in ms),
                      errors, "campaign.invalid")
    return [NewEvent(LAUNCHED, {
        "name": cmd.name, "lead_office": cmd.lead_office, "starts_on": cmd.starts_on.isoformat(),
        "ends_on": cmd.ends_on.isoformat(), "categories": list(cmd.categories), "description": cmd.description,
        "phases": [{"name": p["name"], "starts_on": p["starts_on"].isoformat(), "ends_on": p["ends_on"].isoformat()}
                   for p in cmd.phases]})]


def check_member(campaign: Campaign | None, campaign_id: str | None, field_name: str = "campaign_id") -> None:
    """A lead, task, inspection or project may name only a campaign that exists."""
    if campaign_id is not None and (campaign is None or not campaign.exists):
        raise Invalid(f"没有编号为 {campaign_id} 的专项行动", {field_name: [f"没有这个专项行动：{campaign_id}"]},
                      "campaign.not_found")
