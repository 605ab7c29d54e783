"""The office's directory: units, the category taxonomy, time limits and the calendar years it has
entered. One stream ("directory"); every change is an event. Pure."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from zfcommon.events.catalogue import ROBOT_KINDS
from zfcommon.workdays import WorkCalendar, YearSchedule

from .case import InvalidCommand, NewEvent

PREFIX = "cn.zhengfeng.directory."

# Seed values (DOMAIN.md): seed 003's eight prominent problems, seed 002's inaction areas, seed 001's
# "four winds". The office edits them; `python -m intake.entrypoints.seed` records them as events.
DEFAULT_CATEGORIES = {
    "八类突出问题": ["执行力弱", "权力运用不当", "形式主义", "推诿扯皮", "办事效率低", "吃拿卡要", "态度冷漠", "纪律松懈"],
    "不作为慢作为乱作为": ["不作为", "慢作为", "乱作为", "信息公开", "安全监管", "环境保护", "假冒伪劣及食品药品安全",
                         "政务服务审批", "涉企检查扰企", "就学就医欠薪等公共服务", "信访办理", "社会治安"],
    "四风问题": ["公款吃喝", "收送红包礼金", "公车私用", "公款旅游", "违规操办婚丧喜庆"],
}
# Working days per handling mode and priority (normal / urgent / critical).
DEFAULT_LIMITS = {
    "immediate": {"normal": 3, "urgent": 2, "critical": 1},
    "deadline": {"normal": 15, "urgent": 10, "critical": 5},
    "long_term": {"normal": 60, "urgent": 45, "critical": 30},
}
DEFAULT_SIGN_FOR_DAYS = 1
DEFAULT_RECHECK_RATIO = 0.2


@dataclass
class Directory:
    version: int = 0
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    robots: dict[str, dict[str, str]] = field(default_factory=dict)   # unit -> {wecom|dingtalk: sealed row's ref}
    categories: dict[str, str] = field(default_factory=lambda: {
        c: g for g, names in DEFAULT_CATEGORIES.items() for c in names})
    limits: dict[str, dict[str, int]] = field(default_factory=lambda: {m: dict(p) for m, p in DEFAULT_LIMITS.items()})
    sign_for_days: int = DEFAULT_SIGN_FOR_DAYS
    recheck_ratio: float = DEFAULT_RECHECK_RATIO
    calendar_fallback: str | None = None
    years: dict[int, YearSchedule] = field(default_factory=dict)

    @classmethod
    def replay(cls, history: list[tuple[str, dict[str, Any]]]) -> "Directory":
        directory = cls()
        if history:
            directory.categories = {}     # the recorded taxonomy replaces the defaults
        for event_type, data in history:
            directory.apply(event_type, data)
        return directory

    def extended(self, history: list[tuple[str, dict[str, Any]]]) -> "Directory":
        """A copy with later events applied (the original stays as it was)."""
        newer = copy.deepcopy(self)
        for event_type, data in history:
            newer.apply(event_type, data)
        return newer

    def apply(self, event_type: str, d: dict[str, Any]) -> None:
        self.version += 1
        name = event_type.removeprefix(PREFIX).rsplit(".", 1)[0]
        if name in ("unit_registered", "unit_updated"):
            self.units[d["name"]] = dict(d)
        elif name == "unit_robots_set":
            self.robots[d["unit"]] = {k: d[k] for k in ROBOT_KINDS if d.get(k)}
        elif name == "category_added":
            self.categories[d["name"]] = d["group"]
        elif name == "category_removed":
            self.categories.pop(d["name"], None)
        elif name == "limits_set":
            self.limits, self.sign_for_days = d["limits"], d["sign_for_days"]
            self.recheck_ratio, self.calendar_fallback = d["recheck_ratio"], d["calendar_fallback"]
        elif name == "calendar_year_set":
            self.years[d["year"]] = YearSchedule.from_dict(d)

    def calendar(self) -> WorkCalendar:
        return WorkCalendar(self.years.values(), fallback=self.calendar_fallback)

    def active_unit(self, name: str) -> bool:
        return name in self.units and self.units[name]["active"]

    def check_units(self, field_name: str, names: list[str]) -> dict[str, list[str]]:
        unknown = [n for n in names if not self.active_unit(n)]
        return {field_name: [f"不是名录中的在用单位：{'、'.join(unknown)}"]} if unknown else {}


def seed_events() -> list[NewEvent]:
    """What a new office starts from: the seed taxonomy and the default limits."""
    events = [NewEvent(PREFIX + "category_added.v1", {"name": c, "group": g})
              for g, names in DEFAULT_CATEGORIES.items() for c in names]
    events.append(NewEvent(PREFIX + "limits_set.v1", {
        "limits": {m: dict(p) for m, p in DEFAULT_LIMITS.items()}, "sign_for_days": DEFAULT_SIGN_FOR_DAYS,
        "recheck_ratio": DEFAULT_RECHECK_RATIO, "calendar_fallback": None}))
    return events


def register_unit(directory: Directory, unit: dict[str, Any]) -> list[NewEvent]:
    exists = unit["name"] in directory.units
    return [NewEvent(PREFIX + ("unit_updated" if exists else "unit_registered") + ".v1",
                     {"contacts": [], "active": True, **unit})]


def set_unit_robots(directory: Directory, unit: str, refs: dict[str, str]) -> list[NewEvent]:
    """Point a unit's notices at the robots whose sealed addresses `refs` names (a kind left out: none)."""
    if unit not in directory.units:
        raise InvalidCommand({"unit": [f"名录中没有单位“{unit}”"]}, code="directory.unit_unknown")
    return [NewEvent(PREFIX + "unit_robots_set.v1", {"unit": unit, **{k: refs.get(k) for k in ROBOT_KINDS}})]


def add_category(directory: Directory, name: str, group: str) -> list[NewEvent]:
    if name in directory.categories:
        raise InvalidCommand({"name": [f"问题类别“{name}”已存在"]}, code="directory.category_exists")
    return [NewEvent(PREFIX + "category_added.v1", {"name": name, "group": group})]


def remove_category(directory: Directory, name: str) -> list[NewEvent]:
    if name not in directory.categories:
        raise InvalidCommand({"name": [f"没有问题类别“{name}”"]}, code="directory.category_unknown")
    return [NewEvent(PREFIX + "category_removed.v1", {"name": name, "group": directory.categories[name]})]


def set_limits(directory: Directory, limits: dict[str, Any]) -> list[NewEvent]:
    return [NewEvent(PREFIX + "limits_set.v1", limits)]


def set_calendar_year(directory: Directory, schedule: YearSchedule) -> list[NewEvent]:
    """Every official year has holidays (New Year's Day, the Spring Festival, National Day …): a year
    entered without any is a mistake, and it would count every weekday of that year as a working day."""
    if not schedule.holidays:
        raise InvalidCommand({"holidays": [
            f"{schedule.year}年的官方安排不会没有节假日：请按国务院办公厅放假通知录入全部放假日期"]})
    return [NewEvent(PREFIX + "calendar_year_set.v1", schedule.to_dict())]
