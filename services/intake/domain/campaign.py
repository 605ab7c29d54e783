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
REVISED = "cn.zhengfeng.campaign.revised.v1"
PLAN = ("name", "lead_office", "starts_on", "ends_on", "categories", "description", "phases")
STREAM_PREFIX = "campaign-"


@dataclass
class Campaign(Folded):
    campaign_id: str
    version: int = 0
    facts: dict[str, Any] = field(default_factory=dict)
    launched_at: datetime | None = None
    revisions: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, event_type: str, data: dict[str, Any], at: datetime | None = None) -> None:
        self.version += 1
        if event_type == LAUNCHED:
            self.facts, self.launched_at = dict(data), at
        elif event_type == REVISED:
            self.facts = {k: data[k] for k in PLAN}
            self.revisions.append({"version": self.version, "at": at, "reason": data["reason"]})

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
    _check_plan(cmd, directory, {})
    return [NewEvent(LAUNCHED, _plan(cmd))]


def revise(campaign: Campaign, cmd: LaunchCampaign, reason: str, directory: Directory, today: date) -> list[NewEvent]:
    """The office revises the plan (调整方案) — extends a phase, adds one, corrects a name — without
    rewriting what has happened: a phase already over keeps its dates, no phase is removed (tasks name
    phases by number), and a campaign that has begun keeps its start date."""
    errors: dict[str, list[str]] = {}
    old = campaign.facts
    if date.fromisoformat(old["starts_on"]) <= today and cmd.starts_on.isoformat() != old["starts_on"]:
        errors["starts_on"] = [f"专项行动已于{old['starts_on']}开始，开始日期不能再改"]
    if len(cmd.phases) < len(old["phases"]):
        errors["phases"] = [f"原方案有{len(old['phases'])}个阶段，调整时只能增加或改期，不能删除阶段"]
    for i, (before, after) in enumerate(zip(old["phases"], cmd.phases), 1):
        moved = (after["starts_on"].isoformat(), after["ends_on"].isoformat()) != (before["starts_on"],
                                                                                    before["ends_on"])
        if date.fromisoformat(before["ends_on"]) < today and moved:
            errors.setdefault(f"phases.{i - 1}", []).append(
                f"第{i}阶段已于{before['ends_on']}结束，起止日期不能再改")
    _check_plan(cmd, directory, errors, kept=tuple(old["categories"]))
    plan = _plan(cmd)
    if {k: plan[k] for k in PLAN} == {k: old.get(k) for k in PLAN}:
        raise Invalid("调整后的方案与现行方案相同，没有需要记录的调整", {"phases": ["方案没有变化"]},
                      "campaign.unchanged")
    return [NewEvent(REVISED, {**plan, "reason": reason})]


def _plan(cmd: LaunchCampaign) -> dict[str, Any]:
    return {"name": cmd.name, "lead_office": cmd.lead_office, "starts_on": cmd.starts_on.isoformat(),
            "ends_on": cmd.ends_on.isoformat(), "categories": list(cmd.categories), "description": cmd.description,
            "phases": [{"name": p["name"], "starts_on": p["starts_on"].isoformat(), "ends_on": p["ends_on"].isoformat()}
                       for p in cmd.phases]}


def _check_plan(cmd: LaunchCampaign, directory: Directory, errors: dict[str, list[str]],
                kept: tuple[str, ...] = ()) -> None:
    """`kept`: categories the plan already had (the directory may have retired one since)."""
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
    unknown = [c for c in cmd.categories if c not in directory.categories and c not in kept]
    if unknown:
        errors["categories"] = [f"不在问题类别目录中：{'、'.join(unknown)}"]
    if len(set(cmd.categories)) != len(cmd.categories):
        errors.setdefault("categories", []).append("问题类别重复")
    if errors:
        raise Invalid("专项行动的期限、阶段或问题类别有误：" + "；".join(m for ms in errors.values() for m in ms),
                      errors, "campaign.invalid")


def check_member(campaign: Campaign | None, campaign_id: str | None, field_name: str = "campaign_id") -> None:
    """A lead, task, inspection or project may name only a campaign that exists."""
    if campaign_id is not None and (campaign is None or not campaign.exists):
        raise Invalid(f"没有编号为 {campaign_id} 的专项行动", {field_name: [f"没有这个专项行动：{campaign_id}"]},
                      "campaign.not_found")
