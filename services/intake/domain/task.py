"""Tasks (任务分解 / 责任清单): what a campaign plan assigns to a lead unit, with the five haves (五有,
seed 000) — a target, a responsible party (lead unit, cooperating units, a responsible leader),
measures, monitoring (who supervises and evaluates), a deadline — and milestones with their own dates.
A task missing any of the five is never issued. Units report progress and milestones, the lead unit
reports completion with evidence, the office signs it off (销号) or sends it back. One stream per task
(`task-<uuid>`). Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from zfcommon.events.plans import FIVE_HAVE_NAMES, FIVE_HAVES, TASK_COMMANDS, TASK_FIELDS, TASK_STATUSES

from .campaign import Campaign, check_member
from .case import NewEvent
from .directory import Directory
from .inspection import Folded
from .refusals import Invalid, NotYours, Refused

PREFIX = "cn.zhengfeng.task."
ISSUED, PROGRESS, MILESTONE, COMPLETION = (PREFIX + n + ".v1" for n in (
    "issued", "progress_reported", "milestone_reached", "completion_reported"))
SIGNED_OFF, SENT_BACK, CANCELLED = (PREFIX + n + ".v1" for n in ("signed_off", "sent_back", "cancelled"))
STREAM_PREFIX = "task-"
STATUS_NAMES = TASK_STATUSES
# command -> (states it is allowed in, who: office | lead | unit)
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "report_progress": (("in_progress",), "unit"),
    "reach_milestone": (("in_progress",), "lead"),
    "report_completion": (("in_progress",), "lead"),
    "sign_off": (("completion_reported",), "office"),
    "send_back": (("completion_reported",), "office"),
    "cancel": (("in_progress", "completion_reported"), "office"),
}
COMMAND_NAMES = TASK_COMMANDS


def _d(value: str | date | None) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


@dataclass
class Task(Folded):
    task_id: str
    version: int = 0
    status: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    deadline: date | None = None
    reached: dict[int, dict[str, Any]] = field(default_factory=dict)   # milestone number -> when, on time
    progress: list[dict[str, Any]] = field(default_factory=list)
    completion: dict[str, Any] | None = None
    sent_back_count: int = 0
    issued_at: datetime | None = None

    def apply(self, event_type: str, data: dict[str, Any], at: datetime | None = None) -> None:
        self.version += 1
        if event_type == ISSUED:
            self.status, self.facts, self.issued_at = "in_progress", dict(data), at
            self.deadline = _d(data["deadline"])
        elif event_type == PROGRESS:
            self.progress.append({**data, "at": at})
        elif event_type == MILESTONE:
            self.reached[data["milestone"]] = {**data, "at": at}
        elif event_type == COMPLETION:
            self.status, self.completion = "completion_reported", {**data, "at": at}
        elif event_type == SIGNED_OFF:
            self.status = "signed_off"
        elif event_type == SENT_BACK:
            self.status, self.sent_back_count = "in_progress", data["sent_back_count"]
            self.deadline = _d(data["new_deadline"]) or self.deadline
        elif event_type == CANCELLED:
            self.status = "cancelled"

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def lead_unit(self) -> str:
        return self.facts["lead_unit"]

    def is_unit_of(self, unit: str | None) -> bool:
        return unit is not None and (unit == self.facts.get("lead_unit") or unit in self.facts.get("cooperating_units", ()))

    def milestones(self) -> list[dict[str, Any]]:
        return [{"number": i, "name": m["name"], "due": m["due"], "reached": i in self.reached,
                 "reached_on_time": self.reached.get(i, {}).get("on_time")}
                for i, m in enumerate(self.facts.get("milestones", []), 1)]

    def allowed_commands(self) -> list[str]:
        """The commands the state admits now; reaching a milestone only while one is left to reach."""
        left = len(self.reached) < len(self.facts.get("milestones", []))
        return [name for name, (states, _) in RULES.items() if self.status in states
                and (name != "reach_milestone" or left)]

    def check(self, command: str, role: str, unit: str | None) -> None:
        """Who first (403), then the state (409)."""
        states, who = RULES[command]
        if role != "office":
            if who == "office" or role != "unit":
                raise NotYours(f"只有正风办可以{COMMAND_NAMES[command]}", "task.office_only")
            mine = unit == self.lead_unit if who == "lead" else self.is_unit_of(unit)
            if not mine:
                raise NotYours(f"{unit}不是该任务的{'牵头' if who == 'lead' else '责任'}单位", "task.not_your_task")
        if self.status not in states:
            name = STATUS_NAMES.get(self.status or "", "不存在")
            raise Refused(self.status or "new", command, self.allowed_commands(),
                          f"任务当前状态为“{name}”，不能{COMMAND_NAMES[command]}", "task.transition_refused")


@dataclass(frozen=True)
class IssueTask:
    title: str
    target: str | None
    lead_unit: str | None
    responsible_leader: str | None
    measures: str | None
    monitor: str | None
    deadline: date | None
    cooperating_units: tuple[str, ...] = ()
    milestones: tuple[dict[str, Any], ...] = ()
    campaign_id: str | None = None
    phase: int | None = None
    number: str | None = None
    handling_mode: str = "deadline"
    origin: dict[str, Any] | None = None     # set by a task table import


def missing_haves(cmd: IssueTask) -> tuple[list[str], dict[str, list[str]]]:
    """Which of the five haves a task lacks, and the empty fields that make each missing."""
    missing, errors = [], {}
    for have, names in FIVE_HAVES.items():
        empty = [n for n in names if getattr(cmd, n) in (None, "") or (isinstance(getattr(cmd, n), str)
                                                                         and not getattr(cmd, n).strip())]
        if empty:
            missing.append(have)
            for n in empty:
                errors[n] = [f"缺少{TASK_FIELDS[n]}（{FIVE_HAVE_NAMES[have]}）"]
    return missing, errors


def issue(cmd: IssueTask, directory: Directory, campaign: Campaign | None, today: date) -> list[NewEvent]:
    """The five haves first (a task without them cannot be issued), then units, dates and the campaign.
    An imported task keeps the deadline its table recorded, even one already passed."""
    missing, errors = missing_haves(cmd)
    if missing:
        names = "、".join(FIVE_HAVE_NAMES[m] for m in missing)
        raise Invalid(f"任务缺少“五有”中的：{names}，不能下达", errors, "task.five_haves_missing", missing=missing)
    errors = {**directory.check_units("lead_unit", [cmd.lead_unit]),
              **directory.check_units("cooperating_units", list(cmd.cooperating_units))}
    if cmd.lead_unit in cmd.cooperating_units:
        errors.setdefault("cooperating_units", []).append("牵头单位不能同时是配合单位")
    if cmd.deadline < today and cmd.origin is None:
        errors.setdefault("deadline", []).append(f"完成时限不能早于今天（{today.isoformat()}）")
    dues = [m["due"] for m in cmd.milestones]
    if dues != sorted(dues):
        errors.setdefault("milestones", []).append("节点须按日期先后排列")
    if any(d > cmd.deadline for d in dues):
        errors.setdefault("milestones", []).append("节点日期不能晚于完成时限")
    if len({m["name"] for m in cmd.milestones}) != len(cmd.milestones):
        errors.setdefault("milestones", []).append("节点名称重复")
    if errors:
        raise Invalid("任务内容有误：" + "；".join(m for ms in errors.values() for m in ms), errors, "task.invalid")
    check_member(campaign, cmd.campaign_id)
    if cmd.phase is not None and (campaign is None or campaign.phase(cmd.phase) is None):
        raise Invalid(f"专项行动没有第{cmd.phase}阶段", {"phase": [f"没有第{cmd.phase}阶段"]}, "task.no_such_phase")
    return [NewEvent(ISSUED, {
        "campaign_id": cmd.campaign_id, "phase": cmd.phase, "number": cmd.number, "title": cmd.title,
        "target": cmd.target, "lead_unit": cmd.lead_unit, "cooperating_units": list(cmd.cooperating_units),
        "responsible_leader": cmd.responsible_leader, "measures": cmd.measures, "monitor": cmd.monitor,
        "deadline": cmd.deadline.isoformat(), "handling_mode": cmd.handling_mode,
        "milestones": [{"name": m["name"], "due": m["due"].isoformat()} for m in cmd.milestones],
        **({"origin": cmd.origin} if cmd.origin else {})})]


def decide(task: Task, command: str, args: dict[str, Any], role: str, unit: str | None,
           today: date) -> list[NewEvent]:
    """The events `command` produces on `task`, checked in order: who (403), state (409), content (422)."""
    task.check(command, role, unit)
    acting = {"unit": unit if role == "unit" else task.lead_unit}
    evidence = [dict(e) for e in args.get("evidence", [])]
    if command == "report_progress":
        return [NewEvent(PROGRESS, {**acting, "note": args["note"], "evidence": evidence})]
    if command == "reach_milestone":
        number = args["milestone"]
        milestones = task.facts["milestones"]
        if not 1 <= number <= len(milestones):
            raise Invalid(f"任务没有第{number}个节点", {"milestone": [f"没有第{number}个节点"]}, "task.no_such_milestone")
        if number in task.reached:
            raise Invalid(f"第{number}个节点已报告完成", {"milestone": ["已报告完成"]}, "task.milestone_already_reached")
        return [NewEvent(MILESTONE, {**acting, "milestone": number, "note": args["note"], "evidence": evidence,
                                     "on_time": today <= _d(milestones[number - 1]["due"])})]
    if command == "report_completion":
        return [NewEvent(COMPLETION, {**acting, "note": args["note"], "evidence": evidence,
                                      "on_time": today <= task.deadline})]
    if command == "sign_off":
        return [NewEvent(SIGNED_OFF, {"comment": args.get("comment"), "on_time": task.completion["on_time"]})]
    if command == "send_back":
        new = args.get("new_deadline")
        if new is not None and new < today:
            raise Invalid(f"新的完成时限不能早于今天（{today.isoformat()}）",
                          {"new_deadline": [f"不能早于今天（{today.isoformat()}）"]}, "task.invalid")
        return [NewEvent(SENT_BACK, {"reason": args["reason"], "new_deadline": new and new.isoformat(),
                                     "sent_back_count": task.sent_back_count + 1})]
    if command == "cancel":
        return [NewEvent(CANCELLED, {"reason": args["reason"]})]
    raise KeyError(command)
