"""Where a campaign (专项行动) stands on a day: its phase follows from the calendar, never from a hand
setting. Pure, shared by intake (its answers) and ledger (lists, figures, the bulletin's section)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

NUMERALS = "一二三四五六七八九十"
STATES = {"not_started": "未开始", "in_phase": "进行中", "between_phases": "阶段间隔", "ended": "已结束"}


def _d(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass(frozen=True)
class Phase:
    number: int
    name: str
    starts_on: date
    ends_on: date

    @property
    def label(self) -> str:
        """第一阶段, 第二阶段 … as plans number them."""
        return f"第{NUMERALS[self.number - 1] if self.number <= 10 else self.number}阶段"


@dataclass(frozen=True)
class PhaseOn:
    """`state` is not_started, in_phase, between_phases or ended; `phase` the phase under way, else None."""
    state: str
    phase: Phase | None = None

    def as_dict(self) -> dict[str, Any]:
        p = self.phase
        return {"state": self.state, "number": p and p.number, "name": p and p.name, "label": p and p.label,
                "starts_on": p and p.starts_on.isoformat(), "ends_on": p and p.ends_on.isoformat()}


def phases_of(data: Mapping[str, Any]) -> list[Phase]:
    return [Phase(i, p["name"], _d(p["starts_on"]), _d(p["ends_on"])) for i, p in enumerate(data["phases"], 1)]


def phase_on(data: Mapping[str, Any], day: date) -> PhaseOn:
    """The phase of the campaign its launched data describes, on `day`."""
    if day < _d(data["starts_on"]):
        return PhaseOn("not_started")
    if day > _d(data["ends_on"]):
        return PhaseOn("ended")
    for phase in phases_of(data):
        if phase.starts_on <= day <= phase.ends_on:
            return PhaseOn("in_phase", phase)
    return PhaseOn("between_phases")
