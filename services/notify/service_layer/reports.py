"""Weekly and quarterly reports, missed weeks and quarters, spot checks and the reporting rules:
notify's report commands and the scheduler's pass (docs/REPORTS.md).

Every decision is made from a stream in notify's event store (`weekly-<unit>`, `quarterly-<unit>`,
`spot-checks`, `reporting-config`) and appended at the version it was made on, with its projection rows, in one
transaction. A racing scheduler, a restarted one, or a filing that lands at the same moment fails on
the store's UNIQUE (stream, version) index, rolls back and decides again on the history as it now is:
a week is flagged once, a month drawn once, and nothing is decided from a projection that could lag.
Commands do not commit: the API commits with the Idempotency-Key answer, the scheduler per decision.
"""
from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Mapping, TypeVar

from zfcommon import logs, metrics, officecalendar
from zfcommon.clock import Clock
from zfcommon.events import InvalidEvent
from zfcommon.events.catalogue import REPORTING_CONFIG_STREAM, SPOT_CHECK_STREAM
from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.workdays import CalendarGap, WorkCalendar, local_date

from ..adapters import directory
from ..adapters import reports as tables
from ..domain import document, quarterly, reports
from ..domain.reports import Invalid, Refused, Week
from . import configs, letters
from .uow import UnitOfWork

log = logging.getLogger(__name__)
ACTOR = "notify:reports"          # how the scheduler appears on the trail
ATTEMPTS = 5
T = TypeVar("T")


def weekly_stream(unit: str) -> str:
    return f"weekly-{unit}"


def quarterly_stream(unit: str) -> str:
    return f"quarterly-{unit}"


def retrying(uow: UnitOfWork, stream: str, decide: Callable[[], T]) -> T:
    """Run `decide` (load, decide, append) again after another writer got in first."""
    for _ in range(ATTEMPTS):
        try:
            return decide()
        except ConcurrencyConflict:
            uow.rollback()
            log.info("report_conflict_deciding_again", extra={"stream": stream})
    raise ConcurrencyConflict(stream, -1)


def _append(uow: UnitOfWork, stream: str, version: int, decided: list[tuple[str, dict[str, Any]]], *, actor: str,
            now: datetime, correlation_id: str | None = None) -> list:
    """Append and project in the same transaction; InvalidEvent (the catalogue's schema) is a 422."""
    try:
        events = uow.events.record(stream, version, decided, correlation_id=correlation_id or str(uuid.uuid4()),
                                   actor=actor, time=now)
    except InvalidEvent as exc:
        errors = exc.errors.get("data", exc.errors)
        raise Invalid({k: v if isinstance(v, list) else [str(v)] for k, v in errors.items()},
                      code="event.invalid") from None
    for event in events:
        tables.apply(uow.conn, event)
    return events


# -- the rules ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rules:
    config: dict[str, Any]
    version: int                  # the reporting-config stream's version (0: the defaults, never set)
    set_by: str | None = None
    set_at: datetime | None = None


def rules(uow: UnitOfWork) -> Rules:
    """The rules set last, or the defaults; configs.ConfigUnusable when the stored ones cannot be used."""
    last = configs.last(uow, REPORTING_CONFIG_STREAM, "周报告规则")
    if last is None:
        return Rules(dict(reports.DEFAULT_CONFIG), 0)
    return Rules(dict(last.data), last.streamversion, last.actor, last.time)


def set_rules(uow: UnitOfWork, body: Mapping[str, Any], *, actor: str, now: datetime,
              correlation_id: str | None = None) -> Rules:
    """Record the office's rules (the catalogue's schema checks them). Without `start_week` the one in
    force stays (or reporting starts with this week's first Monday). The same rules again record nothing.
    Rules that replace unusable ones must name their `start_week` when nothing else gives one."""
    try:
        current = rules(uow)
    except configs.ConfigUnusable as exc:
        current = Rules({"start_week": None}, exc.version)
    config = {**body, "start_week": body.get("start_week") or current.config["start_week"]
              or str(reports.first_week(local_date(now)))}
    if config == current.config:
        return current
    _append(uow, REPORTING_CONFIG_STREAM, current.version, [(reports.CONFIG_SET, config)], actor=actor, now=now,
            correlation_id=correlation_id)
    return Rules(config, current.version + 1, actor, now)


def started(uow: UnitOfWork, now: datetime) -> Rules:
    """The rules in force; on the scheduler's very first pass, the defaults recorded with the week of the
    first Monday from today as the start, so when reporting began is on the trail and never guessed."""
    current = rules(uow)
    if current.version:
        return current
    try:
        set_rules(uow, reports.DEFAULT_CONFIG, actor=ACTOR, now=now)
        uow.commit()
        log.info("weekly_reports_started")
    except ConcurrencyConflict:
        uow.rollback()            # another scheduler recorded them first
    return rules(uow)


# -- filing ------------------------------------------------------------------------------------------
def _check_cases(uow: UnitOfWork, unit: str, progress: list[Mapping[str, Any]]) -> None:
    ids = [p["case_id"] for p in progress]
    if not ids:
        return
    rows = {r["case_id"]: r for r in uow.conn.execute(
        "SELECT case_id, lead_unit, cooperating_units FROM watched_cases WHERE case_id = ANY(%s)", (ids,))}
    bad = [i for i in ids if i not in rows or unit not in (rows[i]["lead_unit"], *rows[i]["cooperating_units"])]
    if bad:
        raise Invalid({"progress": [f"不是 {unit} 牵头或配合办理的案件：{'、'.join(bad)}"]}, code="report.case_not_of_unit")


def _check_unit(uow: UnitOfWork, unit: str, body: Mapping[str, Any]) -> None:
    """A filing's unit is an active unit of the directory, and the cases it lists are its own."""
    found = directory.unit(uow.conn, unit)
    if found is None or not found["active"]:
        raise Invalid({"unit": [f"不是名录中的在用单位：{unit}"]}, code="report.unit_unknown")
    _check_cases(uow, unit, body.get("progress") or [])


def due(week: Week, rule: str, calendar: WorkCalendar) -> date | None:
    """The week's due date, or None when the calendar lacks its year (logged: the office should enter it)."""
    return _known_due(lambda: reports.due_date(week, rule, calendar), "weekly", str(week))


def _known_due(compute: Callable[[], date], cadence: str, period: str) -> date | None:
    try:
        return compute()
    except CalendarGap as gap:
        log.warning(f"{cadence}_report_due_unknown", extra={"period": period, "gap": str(gap)})
        return None


def file_report(uow: UnitOfWork, unit: str, body: Mapping[str, Any], *, actor: str, now: datetime,
                correlation_id: str | None = None) -> dict[str, Any]:
    """File (or correct) `unit`'s report; returns its row. Raises Invalid or Refused."""
    today = local_date(now)
    week = reports.check_filing(body, today)
    _check_unit(uow, unit, body)
    rule = rules(uow).config["due_rule"]
    due_on = due(week, rule, officecalendar.calendar(uow.conn))
    return _filed(uow, weekly_stream(unit), reports.fold, reports.FILED,
                  lambda history: reports.filing(history, unit, week, body, due=due_on, today=today),
                  lambda: tables.one(uow.conn, unit, str(week)), actor=actor, now=now, correlation_id=correlation_id)


def _filed(uow: UnitOfWork, stream: str, fold: Callable[[list], reports.History], event_type: str,
           filing: Callable[[reports.History], dict[str, Any]], row: Callable[[], dict[str, Any]], *, actor: str,
           now: datetime, correlation_id: str | None) -> dict[str, Any]:
    """Append the filing decided on the unit's stream as it is (again if another writer got in first);
    returns its row."""
    def decide() -> dict[str, Any]:
        history = fold(uow.events.load(stream))
        _append(uow, stream, history.version, [(event_type, filing(history))], actor=actor, now=now,
                correlation_id=correlation_id)
        return row()
    return retrying(uow, stream, decide)


def quarter_due(quarter: str, calendar: WorkCalendar) -> date | None:
    """The quarter's due date, or None when the calendar lacks the year (logged, as a week's)."""
    return _known_due(lambda: quarterly.due_date(quarter, calendar), "quarterly", quarter)


def file_quarterly(uow: UnitOfWork, unit: str, body: Mapping[str, Any], *, actor: str, now: datetime,
                   correlation_id: str | None = None) -> dict[str, Any]:
    """File (or correct) `unit`'s quarterly work report; returns its row. Raises Invalid or Refused."""
    today = local_date(now)
    quarter = quarterly.check_filing(body, today)
    _check_unit(uow, unit, body)
    due_on = quarter_due(quarter, officecalendar.calendar(uow.conn))
    return _filed(uow, quarterly_stream(unit), quarterly.fold, quarterly.FILED,
                  lambda history: quarterly.filing(history, unit, quarter, body, due=due_on, today=today),
                  lambda: tables.quarterly_one(uow.conn, unit, quarter), actor=actor, now=now,
                  correlation_id=correlation_id)


def first_week(start: Week, active_since: datetime) -> Week:
    """The first week a unit active since `active_since` reports for under rules starting with `start`."""
    return max(start, reports.first_week(local_date(active_since)))


# -- the scheduler's pass ----------------------------------------------------------------------------
def _flag_unit(uow: UnitOfWork, unit: Mapping[str, Any], start: Week, through: Week, config: Mapping[str, Any],
               calendar: WorkCalendar, basis: str, now: datetime, office: document.Office) -> int:
    first = first_week(start, unit["active_since"])
    stream = weekly_stream(unit["name"])

    def decide() -> int:
        history = reports.fold(uow.events.load(stream))
        decided = (reports.missed_weeks(history, unit["name"], first, through, config["due_rule"],
                                        config["escalation"], calendar) if first <= through else [])
        decided = letters.numbered(uow.conn, decided, office, local_date(now))
        events = _append(uow, stream, history.version, decided, actor=ACTOR, now=now)
        tables.checked(uow.conn, unit["name"], through, basis, now)
        uow.commit()
        for e in events:
            log.info("weekly_report_" + ("missed" if e.type == reports.MISSED else "escalated"),
                     extra={"unit": unit["name"], "week": e.data["week"], "step": e.data.get("step")})
        return len(events)
    return retrying(uow, stream, decide)


def flag_missed(uow: UnitOfWork, config: Mapping[str, Any], basis: str, calendar: WorkCalendar, now: datetime,
                office: document.Office) -> int:
    """Flag every week every active unit left without a report, up to the latest week whose flag day
    has come: after an outage, every missed week once, in order. One unit's failure stops no other."""
    through, gap = reports.flaggable_through(local_date(now), config["due_rule"], calendar)
    if gap is not None:
        logs.warn_once(log, "weekly_reports_calendar_gap", (str(gap),), gap=str(gap))
    start = Week.parse(config["start_week"])
    if through is None or through < start:
        return 0
    units = tables.units_to_check(uow.conn, through, basis)
    uow.rollback()                # end the read's transaction before deciding unit by unit
    appended = 0
    for unit in units:
        try:
            appended += _flag_unit(uow, unit, start, through, config, calendar, basis, now, office)
        except Exception:
            uow.rollback()
            metrics.SCHEDULER_SKIPPED.labels("weekly_unit").inc()
            log.exception("weekly_report_decision_failed", extra={"unit": unit["name"]})
    return appended


def _flag_quarters(uow: UnitOfWork, unit: Mapping[str, Any], start: Week, through: str, calendar: WorkCalendar,
                   basis: str, now: datetime) -> int:
    first = quarterly.first_quarter(first_week(start, unit["active_since"]))
    stream = quarterly_stream(unit["name"])

    def decide() -> int:
        history = quarterly.fold(uow.events.load(stream))
        events = _append(uow, stream, history.version,
                         quarterly.missed_quarters(history, unit["name"], first, through, calendar),
                         actor=ACTOR, now=now)
        tables.checked(uow.conn, unit["name"], through, basis, now, cadence="quarter")
        uow.commit()
        for e in events:
            log.info("quarterly_report_missed", extra={"unit": unit["name"], "quarter": e.data["quarter"]})
        return len(events)
    return retrying(uow, stream, decide)


def flag_missed_quarters(uow: UnitOfWork, config: Mapping[str, Any], basis: str, calendar: WorkCalendar,
                         now: datetime) -> int:
    """Flag every quarter every active unit left without its work report, up to the latest quarter
    whose flag day has come (after an outage, each once, in order). One unit's failure stops no other."""
    through, gap = quarterly.flaggable_through(local_date(now), calendar)
    if gap is not None:
        logs.warn_once(log, "quarterly_reports_calendar_gap", (str(gap),), gap=str(gap))
    start = Week.parse(config["start_week"])
    if through is None:
        return 0
    units = tables.units_to_check(uow.conn, through, basis, cadence="quarter")
    uow.rollback()
    appended = 0
    for unit in units:
        try:
            appended += _flag_quarters(uow, unit, start, through, calendar, basis, now)
        except Exception:
            uow.rollback()
            metrics.SCHEDULER_SKIPPED.labels("quarterly_unit").inc()
            log.exception("quarterly_report_decision_failed", extra={"unit": unit["name"]})
    return appended


def draw_months(uow: UnitOfWork, config: Mapping[str, Any], calendar: WorkCalendar, now: datetime) -> int:
    """Draw every month from the start whose draw day has come and that nobody drew yet, in order."""
    today = local_date(now)
    drawn = reports.drawn_months((e.type, e.data) for e in uow.events.load(SPOT_CHECK_STREAM))
    uow.rollback()
    appended, month = 0, Week.parse(config["start_week"]).month
    while True:
        try:
            if reports.draw_day(month, config["due_rule"], calendar) > today:
                return appended
        except CalendarGap as gap:
            logs.warn_once(log, "spot_check_calendar_gap", (month, str(gap)), month=month, gap=str(gap))
            return appended
        if month not in drawn:
            try:
                draw_spot_check(uow, month, actor=ACTOR, now=now, scheduled=True)
                uow.commit()
                appended += 1
            except Refused:
                uow.rollback()    # drawn by the office or another scheduler meanwhile
        month = reports.next_month(month)


def run_once(uow: UnitOfWork, clock: Clock, office: document.Office | None = None) -> int:
    """One scheduler pass: flag missed weeks (a supervision letter among their steps numbered as the
    office's, service_layer.letters) and missed quarterly reports, draw due spot checks. Returns how
    many events were appended."""
    now = clock.now()
    try:
        current = started(uow, now)
    except configs.ConfigUnusable as exc:
        # Skipped, not fatal: the escalations and the next passes go on; the office sets the rules again.
        uow.rollback()
        metrics.SCHEDULER_SKIPPED.labels("reporting_config").inc()
        log.warning("weekly_reports_config_skipped", extra={"version": exc.version, "reason": exc.problems})
        return 0
    calendar = officecalendar.calendar(uow.conn)
    basis = f"rules:{current.version}/calendar:{officecalendar.version(uow.conn)}"
    appended = flag_missed(uow, current.config, basis, calendar, now, office or letters.default_office())
    appended += flag_missed_quarters(uow, current.config, basis, calendar, now)
    try:
        appended += draw_months(uow, current.config, calendar, now)
    except ConcurrencyConflict:
        uow.rollback()            # the spot-checks stream kept changing: the next pass draws
        log.warning("spot_check_draw_deferred")
    return appended


# -- spot checks -----------------------------------------------------------------------------------
def draw_spot_check(uow: UnitOfWork, month: str, *, actor: str, now: datetime, scheduled: bool = False,
                    correlation_id: str | None = None) -> dict[str, Any]:
    """Draw `month`'s zero reporters, once. The nonce is chosen here, never by the caller: nobody can
    pick one that spares a unit. Raises Invalid (the month's reports are not all due yet) or Refused."""
    config = rules(uow).config
    if not scheduled:
        try:
            opens = reports.draw_day(month, config["due_rule"], officecalendar.calendar(uow.conn))
        except CalendarGap as gap:
            raise Invalid({"month": [str(gap)]}, code="calendar.year_missing") from None
        if local_date(now) < opens:
            raise Invalid({"month": [f"{month} 的抽查自 {opens.isoformat()} 起才能抽取：即该月结束、各周周报告"
                                     "均已到期后的第一个工作日"]}, code="spot_check.too_early")

    def decide() -> dict[str, Any]:
        history = uow.events.load(SPOT_CHECK_STREAM)
        if month in reports.drawn_months((e.type, e.data) for e in history):
            raise Refused(f"{month} 的零报告抽查对象已经抽取过", code="spot_check.already_drawn")
        candidates = tables.zero_reporters(uow.conn, reports.month_weeks(month))
        data = reports.spot_check(month, secrets.token_hex(16), candidates, config["spot_check_ratio"])
        version = history[-1].streamversion if history else 0
        _append(uow, SPOT_CHECK_STREAM, version, [(reports.SPOT_CHECK_DRAWN, data)], actor=actor, now=now,
                correlation_id=correlation_id)
        log.info("spot_check_drawn", extra={"month": month, "candidates": len(data["candidates"]),
                                            "selected": len(data["selected"])})
        return tables.spot_checks(uow.conn, month)[0]
    return retrying(uow, SPOT_CHECK_STREAM, decide)


def record_spot_check(uow: UnitOfWork, month: str, body: Mapping[str, Any], *, actor: str, now: datetime,
                      correlation_id: str | None = None) -> dict[str, Any]:
    """Record what the spot check of a drawn unit found, once. Raises Invalid or Refused."""
    def decide() -> dict[str, Any]:
        history = uow.events.load(SPOT_CHECK_STREAM)
        months = reports.drawn_months((e.type, e.data) for e in history)
        data = reports.spot_check_result(months, month, body["unit"], body["finding"], body.get("note"))
        _append(uow, SPOT_CHECK_STREAM, history[-1].streamversion, [(reports.SPOT_CHECK_RECORDED, data)],
                actor=actor, now=now, correlation_id=correlation_id)
        return tables.spot_checks(uow.conn, month)[0]
    return retrying(uow, SPOT_CHECK_STREAM, decide)
