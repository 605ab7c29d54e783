"""Key projects (重点项目, seed 003: 全过程监测): a project goes through stages (立项, 用地, 规划许可,
施工许可, 开工, 竣工 … configured per project type), each the responsibility of an approving unit and
limited to so many working days from the day it is entered. Stages may run in parallel (并联审批,
seed 004). A stage past its limit climbs notify's escalation ladder; past the project's grace it
becomes a case on channel `project_monitoring` linked to the project. One stream per project
(`project-<uuid>`); the types on the stream `project-types`. Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from zfcommon.events.catalogue import PROJECT_TYPES_STREAM
from zfcommon.workdays import CalendarGap, WorkCalendar

from .campaign import Campaign, check_member
from .case import NewEvent, ReceiveComplaint
from .directory import Directory
from .inspection import Folded
from .refusals import Invalid, NotYours, Refused

PREFIX = "cn.zhengfeng.project."
TYPE_SET, REGISTERED, ENTERED, COMPLETED, CASE_OPENED = (PREFIX + n + ".v1" for n in (
    "type_set", "registered", "stage_entered", "stage_completed", "stage_case_opened"))
STREAM_PREFIX = "project-"
TYPES_STREAM = PROJECT_TYPES_STREAM
CHANNEL = "project_monitoring"
DEFAULT_GRACE_DAYS = 5
DEFAULT_CATEGORY = "办事效率低"       # seed 003: 超时限审批 is 办事效率低


def _d(value: str | date | None) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


def fold_types(history: list[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Each project type's stage templates as last set."""
    return {data["name"]: data["stages"] for event_type, data in history if event_type == TYPE_SET}


def set_type(name: str, stages: list[dict[str, Any]]) -> list[NewEvent]:
    keys = [s["key"] for s in stages]
    if len(set(keys)) != len(keys):
        raise Invalid("阶段代码重复", {"stages": ["阶段代码（key）须互不相同"]}, "project.duplicate_stage")
    return [NewEvent(TYPE_SET, {"name": name, "stages": [dict(s) for s in stages]}, TYPES_STREAM)]


@dataclass
class Project(Folded):
    project_id: str
    version: int = 0
    facts: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)     # key -> what happened to it
    registered_at: datetime | None = None

    def apply(self, event_type: str, data: dict[str, Any], at: datetime | None = None) -> None:
        self.version += 1
        if event_type == REGISTERED:
            self.facts, self.registered_at = dict(data), at
            self.stages = {s["key"]: {} for s in data["stages"]}
        elif event_type == ENTERED:
            self.stages[data["stage"]] = {"entered_on": data["entered_on"], "due": data["due"]}
        elif event_type == COMPLETED:
            self.stages[data["stage"]].update(completed_on=data["completed_on"], working_days=data["working_days"],
                                              on_time=data["on_time"])
        elif event_type == CASE_OPENED:
            self.stages[data["stage"]]["case_id"] = data["case_id"]

    @property
    def exists(self) -> bool:
        return bool(self.facts)

    def spec(self, key: str) -> dict[str, Any]:
        found = next((s for s in self.facts["stages"] if s["key"] == key), None)
        if found is None:
            raise Invalid(f"该项目没有“{key}”阶段", {"stage": [f"没有这个阶段：{key}"]}, "project.no_such_stage",
                          stages=[s["key"] for s in self.facts["stages"]])
        return found

    def units(self) -> list[str]:
        return list(dict.fromkeys(s["unit"] for s in self.facts.get("stages", [])))

    def stage_state(self, key: str) -> str:
        got = self.stages.get(key, {})
        return "completed" if "completed_on" in got else "entered" if "entered_on" in got else "not_entered"

    def allowed_commands(self) -> list[str]:
        states = {self.stage_state(s["key"]) for s in self.facts.get("stages", [])}
        return [c for c, wanted in (("enter_stage", "not_entered"), ("complete_stage", "entered")) if wanted in states]

    def stage_commands(self, key: str, role: str, unit: str | None) -> list[str]:
        """What this role (and unit) may record of one stage now: the office any stage, a unit its own."""
        spec = self.spec(key)
        try:
            _may_act(self, spec, role, unit)
        except NotYours:
            return []
        wanted = {"not_entered": "enter_stage", "entered": "complete_stage"}.get(self.stage_state(key))
        return [wanted] if wanted else []

    def view(self, role: str | None = None, unit: str | None = None) -> list[dict[str, Any]]:
        """Each stage with its state and dates; with a caller, the stage commands it may give now."""
        return [{**s, "state": self.stage_state(s["key"]), **self.stages.get(s["key"], {}),
                 **({"allowed_commands": self.stage_commands(s["key"], role, unit)} if role else {})}
                for s in self.facts.get("stages", [])]


@dataclass(frozen=True)
class RegisterProject:
    name: str
    owner: str
    project_type: str
    stage_units: dict[str, str]
    limits: dict[str, int] = field(default_factory=dict)
    campaign_id: str | None = None
    handling_mode: str = "immediate"
    case_grace_days: int = DEFAULT_GRACE_DAYS
    case_category: str = DEFAULT_CATEGORY
    note: str | None = None


def register(cmd: RegisterProject, types: dict[str, list[dict[str, Any]]], directory: Directory,
             campaign: Campaign | None) -> list[NewEvent]:
    """The project takes its type's stages, each given its approving unit (and, if the office says,
    another limit)."""
    template = types.get(cmd.project_type)
    if template is None:
        raise Invalid(f"尚未设置项目类型“{cmd.project_type}”的阶段和时限",
                      {"project_type": [f"未设置的项目类型：{cmd.project_type}"]}, "project.unknown_type",
                      known_types=sorted(types))
    keys = [s["key"] for s in template]
    errors: dict[str, list[str]] = {}
    missing = [k for k in keys if k not in cmd.stage_units]
    extra = [k for k in {*cmd.stage_units, *cmd.limits} if k not in keys]
    if missing:
        errors["stage_units"] = [f"以下阶段缺少审批责任单位：{'、'.join(missing)}"]
    if extra:
        errors.setdefault("stage_units", []).append(f"该项目类型没有以下阶段：{'、'.join(sorted(extra))}")
    errors.update(directory.check_units("stage_units", [u for k, u in cmd.stage_units.items() if k in keys]))
    if cmd.case_category not in directory.categories:
        errors["case_category"] = [f"不在问题类别目录中：{cmd.case_category}"]
    if errors:
        raise Invalid("重点项目的阶段设置有误：" + "；".join(m for ms in errors.values() for m in ms), errors,
                      "project.invalid")
    check_member(campaign, cmd.campaign_id)
    stages = [{"key": s["key"], "name": s["name"], "unit": cmd.stage_units[s["key"]],
               "limit_days": cmd.limits.get(s["key"], s["limit_days"])} for s in template]
    return [NewEvent(REGISTERED, {
        "name": cmd.name, "owner": cmd.owner, "project_type": cmd.project_type, "campaign_id": cmd.campaign_id,
        "stages": stages, "handling_mode": cmd.handling_mode, "case_grace_days": cmd.case_grace_days,
        "case_category": cmd.case_category, "note": cmd.note})]


def _may_act(project: Project, spec: dict[str, Any], role: str, unit: str | None) -> None:
    if role == "office" or (role == "unit" and unit == spec["unit"]):
        return
    raise NotYours(f"只有正风办或“{spec['name']}”阶段的审批责任单位可以记录该阶段", "project.not_your_stage")


def _refused(project: Project, key: str, command: str, detail: str) -> Refused:
    """409 naming the stage's state (not_entered, entered, completed) and the project's allowed commands."""
    return Refused(project.stage_state(key), command, project.allowed_commands(), detail,
                   "project.stage_transition_refused")


def _day(on: date | None, today: date, field_name: str) -> date:
    day = on or today
    if day > today:
        raise Invalid(f"日期不能晚于今天（{today.isoformat()}）", {field_name: ["不能晚于今天"]}, "project.future_date")
    return day


def _count(fn, field_name: str):
    try:
        return fn()
    except CalendarGap as gap:
        raise Invalid(f"无法计算工作日：{gap}", {field_name: [str(gap)]}, "calendar.gap") from None


def enter_stage(project: Project, key: str, on: date | None, role: str, unit: str | None, today: date,
                calendar: WorkCalendar) -> list[NewEvent]:
    spec = project.spec(key)
    _may_act(project, spec, role, unit)
    if project.stage_state(key) != "not_entered":
        raise _refused(project, key, "enter_stage", f"“{spec['name']}”阶段已进入，不能再次进入")
    day = _day(on, today, "on")
    due = _count(lambda: calendar.add_working_days(day, spec["limit_days"]), "on")
    return [NewEvent(ENTERED, {"stage": key, "unit": spec["unit"], "entered_on": day.isoformat(),
                               "limit_days": spec["limit_days"], "due": due.isoformat()})]


def complete_stage(project: Project, key: str, on: date | None, role: str, unit: str | None, today: date,
                   calendar: WorkCalendar) -> list[NewEvent]:
    spec = project.spec(key)
    _may_act(project, spec, role, unit)
    state = project.stage_state(key)
    if state != "entered":
        why = "尚未进入" if state == "not_entered" else "已办结"
        raise _refused(project, key, "complete_stage", f"“{spec['name']}”阶段{why}，不能办结")
    got = project.stages[key]
    entered = _d(got["entered_on"])
    day = _day(on, today, "on")
    if day < entered:
        raise Invalid(f"办结日期早于进入日期（{entered.isoformat()}）", {"on": ["早于进入日期"]}, "project.invalid")
    days = _count(lambda: calendar.working_days_between(entered, day), "on")
    return [NewEvent(COMPLETED, {"stage": key, "unit": spec["unit"], "completed_on": day.isoformat(),
                                 "working_days": days, "on_time": day <= _d(got["due"])})]


def overdue_case(project: Project, key: str, today: date, calendar: WorkCalendar) -> tuple[int, ReceiveComplaint]:
    """A stage past its limit by at least the grace: how far, and the case it becomes (409 otherwise)."""
    spec = project.spec(key)
    got = project.stages.get(key, {})
    if project.stage_state(key) != "entered" or got.get("case_id"):
        why = "已转为案件" if got.get("case_id") else "不在办理中"
        raise _refused(project, key, "open_case", f"“{spec['name']}”阶段{why}，不能转为案件")
    due = _d(got["due"])
    overdue = _count(lambda: calendar.working_days_between(due, today), "stage") if today > due else 0
    grace = project.facts["case_grace_days"]
    if today <= due or overdue < grace:
        raise Invalid(f"“{spec['name']}”阶段超期{overdue}个工作日，未超过宽限期{grace}个工作日",
                      {"stage": [f"超期{overdue}个工作日，宽限期{grace}个工作日"]}, "project.within_grace")
    f = project.facts
    text = (f"重点项目“{f['name']}”（业主：{f['owner']}）的“{spec['name']}”阶段自{got['entered_on']}进入，"
            f"时限{spec['limit_days']}个工作日（{due.isoformat()}），至{today.isoformat()}已超期{overdue}个工作日仍未办结。")
    return overdue, ReceiveComplaint(channel=CHANNEL, category=f["case_category"], description=text,
                                     subject_unit=spec["unit"], campaign_id=f.get("campaign_id"),
                                     origin={"system": CHANNEL, "ref": f"{project.project_id}/{key}",
                                             "parent": project.project_id})


def case_opened(key: str, unit: str, case_id: str, due: str, overdue: int) -> list[NewEvent]:
    return [NewEvent(CASE_OPENED, {"stage": key, "unit": unit, "case_id": case_id, "due": due,
                                   "working_days_overdue": overdue})]
