"""The escalation ladder (督办升级, DOMAIN.md point 5): which steps a late case has earned.

Pure: a decision is made from the case as notify projects it, the steps notify already issued on it
(its own events, folded into one `Round` per ladder), the office's thresholds, the working-day
calendar and today's date; nothing here reads a clock or a database. docs/ESCALATION.md has the rules.

Two ladders run on a case. The *deadline* ladder counts from the deadline while the case is assigned
or in progress; the *sign-for* ladder counts from sign_for_due while the lead unit has not signed.
Each climbs reminder → supervision letter → admonishment talk → bulletin criticism → accountability
proposal, one threshold each, in working days relative to its date.

A step is the fact that its threshold was crossed: every crossed step not yet issued in the current
round is issued, in order, however late notify looks (after an outage they come all at once, each
with its own threshold and the day it was crossed). A step is never issued twice: the caller appends
the decision at the stream version it decided on, so a second decider's append fails and it decides
again on the new history.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from zfcommon.events.catalogue import ESCALATION_STEPS, LADDERS
from zfcommon.workdays import CalendarGap, WorkCalendar, local_date

STEPS = tuple(ESCALATION_STEPS)
STEP_ISSUED = "cn.zhengfeng.escalation.step_issued.v1"
STOPPED = "cn.zhengfeng.escalation.stopped.v1"
CONFIG_SET = "cn.zhengfeng.escalation.config_set.v1"


def _rungs(reminder: int, letter: int, talk: int, criticism: int, proposal: int) -> dict[str, int]:
    return dict(zip(STEPS, (reminder, letter, talk, criticism, proposal)))


# Working days: the reminder's lead time before the date, then working days overdue per step. Shorter
# limits get a tighter ladder: an immediate fix (1-3 working days) is late after one day, a long-term
# one (30-60) after a week. docs/ESCALATION.md explains the choice.
DEFAULT_CONFIG: dict[str, Any] = {
    "deadline": {"immediate": _rungs(1, 1, 3, 5, 10),
                 "deadline": _rungs(3, 5, 10, 15, 20),
                 "long_term": _rungs(10, 5, 15, 30, 45)},
    "sign_for": _rungs(0, 1, 3, 5, 10),
}
# The statuses each ladder runs in; leaving them stops the ladder's round.
RUNNING = {"deadline": ("assigned", "in_progress"), "sign_for": ("assigned",)}


def rungs(config: Mapping[str, Any], ladder: str, handling_mode: str) -> list[tuple[str, int]]:
    """The ladder's steps in order with their thresholds on the working-days-overdue scale."""
    levels = config["sign_for"] if ladder == "sign_for" else config["deadline"][handling_mode]
    return [(step, -levels[step] if step == "reminder" else levels[step]) for step in STEPS]


def current_config(events: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The thresholds the office set last, or the defaults."""
    config = DEFAULT_CONFIG
    for type_, data in events:
        if type_ == CONFIG_SET:
            config = dict(data)
    return config


# -- what notify already issued ------------------------------------------------------------------
@dataclass(frozen=True)
class Round:
    """The latest run of one ladder on a case, as notify's own events tell it. A round begins with its
    first step and ends with `stopped`; number 0 means the ladder never issued anything."""
    number: int = 0
    due: date | None = None
    unit: str | None = None
    steps: tuple[str, ...] = ()
    stopped: bool = False

    @property
    def running(self) -> bool:
        return self.number > 0 and not self.stopped


def fold(events: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Round]:
    """Each ladder's latest round from the case's escalation stream (other types are ignored: the
    stream may carry other notify facts about the case)."""
    rounds = {ladder: Round() for ladder in LADDERS}
    for type_, data in events:
        if type_ not in (STEP_ISSUED, STOPPED):
            continue
        ladder, current = data["ladder"], rounds[data["ladder"]]
        if type_ == STOPPED:
            rounds[ladder] = replace(current, stopped=True)
            continue
        if data["round"] != current.number:
            current = Round(number=data["round"], due=date.fromisoformat(data["due"]), unit=data["unit"])
        rounds[ladder] = replace(current, steps=(*current.steps, data["step"]))
    return rounds


# -- the case ------------------------------------------------------------------------------------
def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _china_day(value: Any) -> date | None:
    return local_date(datetime.fromisoformat(value) if isinstance(value, str) else value) if value else None


@dataclass(frozen=True)
class Case:
    """What the ladders read of a case (notify's zfcommon.caseview row). `since` is the day (China
    time) the lead unit was given the case: its assignment or reassignment, which for a case brought in
    by a ledger import is the import, whatever dates the old ledger recorded."""
    status: str
    lead_unit: str | None
    handling_mode: str | None
    deadline: date | None
    sign_for_due: date | None
    accepted: bool
    extension_pending: bool
    since: date | None = None

    @classmethod
    def from_view(cls, view: Mapping[str, Any]) -> Case:
        return cls(status=view["status"], lead_unit=view["lead_unit"], handling_mode=view["handling_mode"],
                   deadline=_day(view["deadline"]), sign_for_due=_day(view["sign_for_due"]),
                   accepted=view["accepted_at"] is not None, extension_pending=bool(view["extension_pending"]),
                   since=_china_day(view.get("assigned_at") or view.get("received_at")))

    def due(self, ladder: str) -> date | None:
        """The date the ladder counts from: the deadline or sign-for date, but never a day before the
        lead unit had the case. An imported backlog whose recorded deadline has long passed is counted
        from the import: the unit is chased from then on, and no step is dated before the case existed
        here (nor counted against the unit in an earlier month's bulletin)."""
        due = self.sign_for_due if ladder == "sign_for" else self.deadline
        return max(due, self.since) if due and self.since else due

    def runs(self, ladder: str) -> bool:
        if self.lead_unit is None or self.handling_mode is None or self.due(ladder) is None:
            return False
        return self.status in RUNNING[ladder] and not (ladder == "sign_for" and self.accepted)

    def paused(self, ladder: str) -> bool:
        # While the office decides on an extension the unit asked for, no new step: the answer may move
        # the deadline. A denial resumes the round, and the steps crossed meanwhile are issued then.
        return ladder == "deadline" and self.extension_pending

    def stop_reason(self, ladder: str) -> str:
        return "accepted" if ladder == "sign_for" and self.status == "in_progress" else self.status


# -- working days --------------------------------------------------------------------------------
def working_days_overdue(calendar: WorkCalendar, due: date, today: date) -> int:
    """Working days past `due` (0 on the day itself); before it, minus the working days left."""
    if today > due:
        return calendar.working_days_between(due, today)
    return -calendar.working_days_between(today, due)


def crossing_day(calendar: WorkCalendar, due: date, threshold: int) -> date:
    """The first day on which working_days_overdue reaches `threshold`."""
    if threshold > 0:
        return calendar.add_working_days(due, threshold)
    # Before the date: walk back while fewer than `-threshold` working days would lie ahead.
    day, ahead = due, 0
    while True:
        if calendar.is_working_day(day):
            if ahead == -threshold:
                return day
            ahead += 1
        day -= timedelta(1)


# -- the decision --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    ladder: str
    step: str
    round: int
    unit: str
    due: date
    working_days_overdue: int
    handling_mode: str
    threshold: int
    crossed_on: date

    def event(self) -> tuple[str, dict[str, Any]]:
        return STEP_ISSUED, {"ladder": self.ladder, "step": self.step, "round": self.round, "unit": self.unit,
                             "due": self.due.isoformat(), "working_days_overdue": self.working_days_overdue,
                             "handling_mode": self.handling_mode, "threshold": self.threshold,
                             "crossed_on": self.crossed_on.isoformat()}


@dataclass(frozen=True)
class Stop:
    ladder: str
    round: int
    reason: str
    last_step: str

    def event(self) -> tuple[str, dict[str, Any]]:
        return STOPPED, {"ladder": self.ladder, "round": self.round, "reason": self.reason,
                         "last_step": self.last_step}


@dataclass(frozen=True)
class Decision:
    changes: tuple[Issue | Stop, ...] = ()
    next_check: date | None = None     # the next day a threshold is crossed; None: only a change of the case
    gap: str | None = None             # why a ladder could not be counted (a year the calendar lacks)

    @property
    def settled(self) -> bool:
        """Nothing is due by the clock: only a change of the case can bring a step."""
        return self.next_check is None and self.gap is None


def _ladder(ladder: str, current: Round, case: Case, config: Mapping[str, Any], calendar: WorkCalendar,
            today: date) -> Decision:
    if not case.runs(ladder):
        if current.running:
            return Decision((Stop(ladder, current.number, case.stop_reason(ladder), current.steps[-1]),))
        return Decision()
    due, unit, changes = case.due(ladder), case.lead_unit, []
    assert due is not None and unit is not None and case.handling_mode is not None
    if current.running and (current.due, current.unit) != (due, unit):
        reason = "reassigned" if current.unit != unit else "new_deadline"
        changes.append(Stop(ladder, current.number, reason, current.steps[-1]))
        current = replace(current, stopped=True)
    if case.paused(ladder):
        return Decision(tuple(changes))
    number, issued = (current.number, len(current.steps)) if current.running else (current.number + 1, 0)
    try:
        overdue = working_days_overdue(calendar, due, today)
        for step, threshold in rungs(config, ladder, case.handling_mode)[issued:]:
            # A reminder's lead time may reach back before the unit had the case: it is crossed then.
            crossed = max(crossing_day(calendar, due, threshold), case.since or date.min)
            if overdue < threshold:
                return Decision(tuple(changes), next_check=crossed)
            changes.append(Issue(ladder, step, number, unit, due, overdue, case.handling_mode, threshold, crossed))
    except CalendarGap as gap:
        # Never guess: the ladder waits for the office to enter the year (the scheduler looks daily).
        return Decision(tuple(changes), next_check=today + timedelta(1), gap=str(gap))
    return Decision(tuple(changes))


def decide(rounds: Mapping[str, Round], case: Case, config: Mapping[str, Any], calendar: WorkCalendar,
           today: date) -> Decision:
    """What to append to the case's escalation stream today, and when to look again."""
    parts = [_ladder(ladder, rounds.get(ladder, Round()), case, config, calendar, today) for ladder in LADDERS]
    checks = [p.next_check for p in parts if p.next_check is not None]
    gaps = [p.gap for p in parts if p.gap is not None]
    return Decision(tuple(c for p in parts for c in p.changes), min(checks, default=None), gaps[0] if gaps else None)
