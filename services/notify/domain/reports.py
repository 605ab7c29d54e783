"""Weekly reports (周报告), zero reports (零报告), missed weeks and spot checks (DOMAIN.md point 6,
seed 002). Pure: weeks and due dates on the official calendar, what a filing records, which weeks a
unit missed and what repeated misses escalate to, and the monthly spot-check draw. Nothing here reads
a clock or a database; docs/REPORTS.md has the rules and why.

A unit's stream (`weekly-<unit>`) holds its filings, the weeks flagged as missed and the escalation
steps; a decision is made from that stream and appended at the version it was made on, so a racing
or restarted scheduler's duplicate fails on the store's unique index and decides again.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, Protocol

from zfcommon import periods
from zfcommon.draw import draw
from zfcommon.events.catalogue import DUE_RULES, ESCALATION_STEPS
from zfcommon.workdays import CalendarGap, WorkCalendar

FILED = "cn.zhengfeng.report.weekly_filed.v1"
MISSED = "cn.zhengfeng.report.weekly_missed.v1"
ESCALATED = "cn.zhengfeng.report.escalated.v1"
CONFIG_SET = "cn.zhengfeng.report.config_set.v1"
SPOT_CHECK_DRAWN = "cn.zhengfeng.report.spot_check_drawn.v1"
SPOT_CHECK_RECORDED = "cn.zhengfeng.report.spot_check_recorded.v1"
TYPES = (FILED, MISSED, ESCALATED, CONFIG_SET, SPOT_CHECK_DRAWN, SPOT_CHECK_RECORDED)
STEPS = tuple(ESCALATION_STEPS)

# Until the office sets its own (PUT /v1/reporting/config). `start_week` None: the scheduler records
# these with the week it first runs in. The seeds name the ladder, never its thresholds. No reminder
# step by default: the missed-week flag is the reminder (notify's notices send 催报 on it), so the
# ladder starts with a supervision letter for a second miss in a row.
DEFAULT_CONFIG: dict[str, Any] = {
    "start_week": None, "due_rule": "week_end",
    "escalation": {"reminder": None, "supervision_letter": 2, "admonishment_talk": None, "bulletin_criticism": 3,
                   "accountability_proposal": None},
    "spot_check_ratio": 0.2,
}


class Invalid(Exception):
    """A filing or command that can never succeed as it is (422); `errors` names the fields (in Chinese),
    `code` is the stable machine code."""

    def __init__(self, errors: dict[str, list[str]], code: str = "report.invalid"):
        super().__init__("；".join(f"{k}：{'，'.join(map(str, v))}" for k, v in errors.items()))
        self.errors, self.code = errors, code


class Refused(Exception):
    """Refused in the state things are in (409): already filed, already drawn, a stale correction."""

    def __init__(self, message: str, code: str = "report.refused", **details: Any):
        super().__init__(message)
        self.code, self.details = code, details


# -- weeks -----------------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Week:
    """An ISO week ("2026-W48": Monday 23 to Sunday 29 November 2026). Dates are China's."""
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """ValueError (in Chinese) for a text that names no week (zfcommon.periods)."""
        return cls(*periods.iso_week(text))

    @classmethod
    def of(cls, day: date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(6)

    @property
    def month(self) -> str:
        """The month the week counts in: its Thursday's (the ISO rule for years, applied to months),
        so every week counts in exactly one month (as the bulletin counts missed weeks)."""
        return (self.monday + timedelta(3)).strftime("%Y-%m")

    def next(self) -> Week:
        return Week.of(self.monday + timedelta(7))

    def previous(self) -> Week:
        return Week.of(self.monday - timedelta(7))


def first_week(since: date) -> Week:
    """The first week a unit that joined (or became active again) on `since` reports for: the week of
    the first Monday on or after it, so no unit is asked for a week it was not there to begin."""
    return Week.of(since + timedelta((7 - since.weekday()) % 7))


def weeks(first: Week, last: Week) -> Iterable[Week]:
    week = first
    while week <= last:
        yield week
        week = week.next()


def due_date(week: Week, rule: str, calendar: WorkCalendar) -> date:
    """The day a week's report is due (by the end of it, China time). `week_end`: the week's last
    working day (a make-up Saturday or Sunday included); `next_week`: the first working day after the
    week. A week without any working day (a long holiday) is due the first working day after it.
    Raises CalendarGap when the calendar lacks a year the answer depends on."""
    if rule not in DUE_RULES:
        raise ValueError(f"unknown due rule {rule!r}")
    if rule == "week_end":
        for back in range(7):
            if calendar.is_working_day(day := week.sunday - timedelta(back)):
                return day
    return calendar.next_working_day(week.sunday)


def flag_day(week: Week, rule: str, calendar: WorkCalendar) -> date:
    """The day a missing report is flagged: the first working day after its due date."""
    return calendar.next_working_day(due_date(week, rule, calendar))


def flaggable_through(today: date, rule: str, calendar: WorkCalendar) -> tuple[Week | None, CalendarGap | None]:
    """The latest week whose flag day has come by `today`, and the calendar gap that kept any later
    week from being judged (None: no gap). Weeks are tried from this week back: a flag day is at most a
    few weeks after its week, however long the holiday."""
    gap = None
    week = Week.of(today)
    for _ in range(8):
        try:
            if flag_day(week, rule, calendar) <= today:
                return week, gap
        except CalendarGap as exc:
            gap = exc
        week = week.previous()
    return None, gap


# -- a unit's stream ---------------------------------------------------------------------------------
class Recorded(Protocol):
    """What the fold needs of a stored event (zfcommon.events.Event has it)."""
    id: str
    type: str
    data: Mapping[str, Any]
    streamversion: int


@dataclass
class History:
    """A unit's weekly stream folded: the latest filing per week, the weeks flagged, the steps issued."""
    version: int = 0
    filed: dict[str, Mapping[str, Any]] = field(default_factory=dict)      # week -> data + "id"
    missed: dict[str, date] = field(default_factory=dict)                  # week -> flagged_on
    steps: dict[str, list[str]] = field(default_factory=dict)              # week -> steps issued on it


def fold(events: Iterable[Recorded], key: str = "week", filed: str = FILED, missed: str = MISSED) -> History:
    """A unit's stream of reports over periods named by `key` ("week", or "quarter" for the quarterly
    stream, whose filed and missed types are its own)."""
    history = History()
    for e in events:
        history.version = e.streamversion
        period = e.data.get(key)
        if e.type == filed:
            history.filed[period] = {**e.data, "id": str(e.id)}
        elif e.type == missed:
            history.missed[period] = date.fromisoformat(str(e.data["flagged_on"]))
        elif e.type == ESCALATED:
            history.steps.setdefault(period, []).append(e.data["step"])
    return history


# -- filing ------------------------------------------------------------------------------------------
def check_filing(body: Mapping[str, Any], today: date) -> Week:
    """The week filed for, after the checks no state can change: an ISO week not in the future; a zero
    report lists nothing; any other lists something; a case once. Raises Invalid."""
    errors: dict[str, list[str]] = {}
    try:
        week = Week.parse(body.get("week"))
        if week > Week.of(today):
            errors["week"] = [f"{week} 还没有开始：只能报送本周或以前各周的周报告"]
    except ValueError as exc:
        week, errors["week"] = None, [str(exc)]
    progress, found = body.get("progress") or [], body.get("self_found") or []
    if body.get("zero") and (progress or found):
        errors["zero"] = ["零报告不能列出工作进展或自查发现的问题"]
    elif not body.get("zero") and not (progress or found):
        errors["zero"] = ["请列出工作进展或自查发现的问题，无事可报请报零报告（zero: true）"]
    each_case_once(progress, errors)
    if errors:
        raise Invalid(errors)
    return week


def each_case_once(progress: list[Mapping[str, Any]], errors: dict[str, list[str]]) -> None:
    cases = [p["case_id"] for p in progress]
    if len(set(cases)) < len(cases):
        errors["progress"] = ["每件案件只能列一次"]


def filing(history: History, unit: str, week: Week, body: Mapping[str, Any], *, due: date | None,
           today: date) -> dict[str, Any]:
    """The weekly_filed event's data (`revision` has the rules of lateness and corrections)."""
    return {"unit": unit, "week": str(week), "zero": bool(body.get("zero")), **listed(body), "note": body.get("note"),
            **revision(history, unit, str(week), "周报告", body.get("corrects"), due=due, today=today)}


def listed(body: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The cases' progress and the problems found, as a filing records them."""
    return {"progress": [{"case_id": p["case_id"], "note": p["note"]} for p in body.get("progress") or []],
            "self_found": [{"description": p["description"], "category": p.get("category")}
                           for p in body.get("self_found") or []]}


def revision(history: History, unit: str, period: str, label: str, corrects: str | None, *, due: date | None,
             today: date) -> dict[str, Any]:
    """A filing's bookkeeping for `period` (a week or a quarter; `label` names the report in messages):
    a first filing is late when filed after `due`; a second one must name the filing it corrects (the
    `id` the API showed) and keeps the first's lateness, so correcting cannot launder a late report.
    Raises Refused (already filed, or a stale correction) or Invalid (nothing to correct)."""
    current = history.filed.get(period)
    if current is None and corrects:
        raise Invalid({"corrects": [f"{unit} 尚未报送 {period} 的{label}，无可更正"]}, code="report.nothing_to_correct")
    if current is not None and corrects != current["id"]:
        raise Refused(f"{unit} 已报送 {period} 的{label}；如需更正，请在 corrects 中写明所更正的报送编号"
                      if not corrects else f"{corrects} 不是 {unit} {period} 最新的一次报送",
                      code="report.already_filed" if not corrects else "report.stale_correction",
                      current=current["id"])
    return {"due": due and due.isoformat(), "filed_on": today.isoformat(),
            "late": current["late"] if current else (None if due is None else today > due),
            "revision": current["revision"] + 1 if current else 1, "corrects": current and current["id"]}


# -- missed weeks and their escalation -------------------------------------------------------------
def streak(missed: Mapping[str, Any], week: Week, first: Week) -> list[Week]:
    """The run of consecutive missed weeks ending with `week` (oldest first); it begins after the last
    week that was not missed, or at the unit's first week."""
    run = [week]
    while (before := run[0].previous()) >= first and str(before) in missed:
        run.insert(0, before)
    return run


def escalation(rungs: Mapping[str, int | None], run: list[Week],
               issued: Mapping[str, list[str]]) -> list[tuple[str, int]]:
    """The steps the run has now earned and not yet been issued, in ladder order with their thresholds:
    every step whose threshold of consecutive misses is reached, each once per run (like the case
    ladders: a step is the fact that its threshold was crossed, however late it is noticed)."""
    done = {step for w in run for step in issued.get(str(w), ())}
    return [(step, rungs[step]) for step in STEPS
            if rungs.get(step) is not None and rungs[step] <= len(run) and step not in done]


def missed_weeks(history: History, unit: str, first: Week, through: Week, rule: str, rungs: Mapping[str, int | None],
                 calendar: WorkCalendar) -> list[tuple[str, dict[str, Any]]]:
    """The events for every week from `first` through `through` with neither a filing nor a flag, in
    order: the flag (weekly_missed) and the steps the run of misses earned by it. Raises CalendarGap."""
    missed, issued, decided = dict(history.missed), {w: list(s) for w, s in history.steps.items()}, []
    for week in weeks(first, through):
        key = str(week)
        if key in history.filed or key in missed:
            continue
        due = due_date(week, rule, calendar)
        flagged = calendar.next_working_day(due)
        missed[key] = flagged
        decided.append((MISSED, {"unit": unit, "week": key, "due": due.isoformat(), "flagged_on": flagged.isoformat()}))
        run = streak(missed, week, first)
        for step, threshold in escalation(rungs, run, issued):
            issued.setdefault(key, []).append(step)
            decided.append((ESCALATED, {"unit": unit, "week": key, "step": step, "consecutive_missed": len(run),
                                        "threshold": threshold}))
    return decided


def status(row: Mapping[str, Any] | None, required: bool) -> str:
    """A unit's standing for a week: filed, zero, missing (flagged, nothing filed since), outstanding
    (required, nothing filed, not flagged yet) or not_required."""
    if row is not None:
        return row["status"]
    return "outstanding" if required else "not_required"


# -- spot checks -----------------------------------------------------------------------------------
def month_weeks(month: str) -> list[Week]:
    """The weeks counted in a month ("2026-11"): those whose Thursday falls in it."""
    first = date.fromisoformat(f"{month}-01")
    week = Week.of(first)
    if week.month != month:
        week = week.next()
    found = []
    while week.month == month:
        found.append(week)
        week = week.next()
    return found


def next_month(month: str) -> str:
    first = date.fromisoformat(f"{month}-01")
    return (first + timedelta(32)).strftime("%Y-%m")


def draw_day(month: str, rule: str, calendar: WorkCalendar) -> date:
    """The first working day after the month is over and every report of its weeks was due: the
    month's spot checks are drawn then (by the scheduler, or earlier by nobody)."""
    last_day = date.fromisoformat(f"{next_month(month)}-01") - timedelta(1)
    return calendar.next_working_day(max(last_day, due_date(month_weeks(month)[-1], rule, calendar)))


def spot_check_seed(month: str, nonce: str, candidates: Iterable[str]) -> str:
    listed = hashlib.sha256("\n".join(sorted(candidates)).encode("utf-8")).hexdigest()
    return f"{month}:{nonce}:{listed}"


def spot_check(month: str, nonce: str, candidates: Iterable[str], ratio: float) -> dict[str, Any]:
    """The spot_check_drawn event's data: each candidate's draw = SHA-256(seed + ":" + unit), its first
    8 bytes ÷ 2^64 (zfcommon.draw, as the re-check draw), selected when below the ratio. The seed binds
    the month, a nonce nobody knew beforehand and the whole candidate list, and the event records them
    all, so anyone can recompute every draw and nobody could have chosen one."""
    names = sorted(set(candidates))
    seed = spot_check_seed(month, nonce, names)
    draws = [{"unit": u, "draw": (value := draw(f"{seed}:{u}")), "selected": value < ratio} for u in names]
    return {"month": month, "ratio": ratio, "nonce": nonce, "seed": seed,
            "weeks": [str(w) for w in month_weeks(month)], "candidates": names, "draws": draws,
            "selected": [d["unit"] for d in draws if d["selected"]]}


def drawn_months(events: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The spot-checks stream folded: month -> {"drawn": data, "results": {unit: data}}."""
    months: dict[str, dict[str, Any]] = {}
    for type_, data in events:
        if type_ == SPOT_CHECK_DRAWN:
            months[data["month"]] = {"drawn": data, "results": {}}
        elif type_ == SPOT_CHECK_RECORDED:
            months[data["month"]]["results"][data["unit"]] = data
    return months


def spot_check_result(months: Mapping[str, Any], month: str, unit: str, finding: str,
                      note: str | None) -> dict[str, Any]:
    """A finding for a unit drawn in the month, once. Raises Invalid or Refused."""
    if month not in months:
        raise Invalid({"month": [f"{month} 尚未抽取零报告抽查对象"]}, code="spot_check.not_drawn")
    if unit not in months[month]["drawn"]["selected"]:
        raise Invalid({"unit": [f"{unit} 未被抽中为 {month} 的抽查对象"]}, code="spot_check.unit_not_drawn")
    if unit in months[month]["results"]:
        raise Refused(f"{unit} {month} 的抽查结果已经记录过", code="spot_check.already_recorded")
    return {"month": month, "unit": unit, "finding": finding, "note": note}
