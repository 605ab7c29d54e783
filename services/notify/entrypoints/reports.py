"""/v1/weekly-reports (周报告, 零报告, missed weeks), /v1/quarterly-reports (季度工作情况报送, missed
quarters), /v1/spot-checks (零报告抽查) and /v1/reporting/config. docs/REPORTS.md has the rules."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from zfcommon import officecalendar
from zfcommon.auth import Principal
from zfcommon.blueprint import Blueprint
from zfcommon.clock import clock_for
from zfcommon.events.catalogue import (DUE_RULES, ESCALATION_STEPS, MONTH_FORMAT, QUARTER_FORMAT, SPOT_CHECK_FINDINGS,
                                       WEEK_FORMAT, ReportingConfigData, SpotCheckDraw)
from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.exports import Column, export, export_doc
from zfcommon.messages import translate_errors
from zfcommon.problem import Conflict, Forbidden, NotFound, Unprocessable
from zfcommon.web import principal
from zfcommon.periods import quarter_label
from zfcommon.workdays import SHANGHAI, CalendarGap, local_date

from ..adapters import reports as tables
from ..domain import disclosure, quarterly, reports
from ..domain.document import case_label
from ..domain.reports import Week
from ..service_layer import reports as handlers
from ..service_layer.configs import ConfigUnusable
from ..service_layer.uow import UnitOfWork
from .commands import idempotent

blp = Blueprint("weekly_reports", __name__, url_prefix="/v1/weekly-reports",
                description="Weekly reports (周报告) and zero reports (零报告) of units; missed weeks and their escalation")
quarterly_blp = Blueprint("quarterly_reports", __name__, url_prefix="/v1/quarterly-reports",
                          description="Quarterly work reports (季度工作情况报送) of units, due the 5th working day after "
                                      "the quarter; missed quarters")
spot_blp = Blueprint("spot_checks", __name__, url_prefix="/v1/spot-checks",
                     description="Monthly spot checks of zero reporters (零报告抽查), drawn reproducibly")
config_blp = Blueprint("reporting_config", __name__, url_prefix="/v1/reporting",
                       description="The weekly-report rules: first week, due rule, escalation, spot-check ratio")
IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}
READERS = ("office", "auditor", "unit")
STATUSES = ("filed", "zero", "missing", "late")


# -- schemas ---------------------------------------------------------------------------------------
class ProgressIn(Schema):
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    note = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class ProgressOut(ProgressIn):
    case_number = fields.String(allow_none=True, metadata={"description": "the case's number (案件编号), as notify knows it"})


class SelfFoundIn(Schema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    category = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100))


class _FilingIn(Schema):
    """What a weekly and a quarterly report both carry."""
    unit = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "the unit filed for: a unit's token files for its own (may be left out); the office names it"})
    progress = fields.List(fields.Nested(ProgressIn), load_default=list, validate=validate.Length(max=200))
    self_found = fields.List(fields.Nested(SelfFoundIn), load_default=list, validate=validate.Length(max=200))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    corrects = fields.String(load_default=None, allow_none=True, metadata={
        "description": "to correct the period's report: the `id` of the filing it replaces (409 if not the latest)"})


class ReportIn(_FilingIn):
    week = fields.String(required=True, validate=WEEK_FORMAT, metadata={"description": "ISO week, e.g. 2026-W48"})
    zero = fields.Boolean(required=True, metadata={"description": "a zero report (零报告): nothing to report"})


class QuarterlyIn(_FilingIn):
    quarter = fields.String(required=True, validate=QUARTER_FORMAT, metadata={"description": "e.g. 2026-Q4"})
    summary = fields.String(required=True, validate=validate.Length(
        min=1, max=20000, error="请填写本季度工作情况，不超过 {max} 字"), metadata={
        "description": "the quarter's work (本季度工作情况)"})
    next_steps = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20000), metadata={
        "description": "plans for the next quarter (下季度工作打算)"})


class _FilingOut(Schema):
    unit = fields.String(required=True)
    id = fields.String(allow_none=True, metadata={"description": "the latest filing's id (what a correction names)"})
    revision = fields.Integer(required=True, metadata={"description": "filings so far: 1, then 2 after a correction"})
    progress = fields.List(fields.Nested(ProgressOut), required=True)
    self_found = fields.List(fields.Nested(SelfFoundIn), required=True)
    note = fields.String(allow_none=True)
    due = fields.Date(allow_none=True)
    late = fields.Boolean(allow_none=True)
    filed_on = fields.Date(allow_none=True)
    first_filed_at = fields.DateTime(allow_none=True)
    filed_at = fields.DateTime(allow_none=True)
    filed_by = fields.String(allow_none=True)
    flagged_on = fields.Date(allow_none=True, metadata={"description": "the day the period was flagged as missed"})


class ReportOut(_FilingOut):
    week = fields.String(required=True)
    week_start = fields.Date(required=True)
    status = fields.String(required=True, metadata={"description": "filed | zero | missing"})


class QuarterlyOut(_FilingOut):
    quarter = fields.String(required=True)
    quarter_start = fields.Date(required=True)
    status = fields.String(required=True, metadata={"description": "filed | missing"})
    summary = fields.String(allow_none=True)
    next_steps = fields.String(allow_none=True)


class _PageQuery(Schema):
    unit = fields.String()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class ReportQuery(_PageQuery):
    week = fields.String(validate=WEEK_FORMAT)
    status = fields.String(validate=validate.OneOf(STATUSES),
                           metadata={"description": "late: filed after the due date"})


class QuarterlyQuery(_PageQuery):
    quarter = fields.String(validate=QUARTER_FORMAT)
    status = fields.String(validate=validate.OneOf(("filed", "missing", "late")),
                           metadata={"description": "late: filed after the due date"})


class ReportPage(Schema):
    items = fields.List(fields.Nested(ReportOut), required=True)
    next_offset = fields.Integer(allow_none=True, required=True)


class QuarterlyPage(Schema):
    items = fields.List(fields.Nested(QuarterlyOut), required=True)
    next_offset = fields.Integer(allow_none=True, required=True)


class OverviewQuery(Schema):
    week = fields.String(validate=WEEK_FORMAT, metadata={"description": "default: this week"})


class QuarterOverviewQuery(Schema):
    quarter = fields.String(validate=QUARTER_FORMAT, metadata={"description": "default: the last quarter that ended"})


class OverviewRow(Schema):
    unit = fields.String(required=True)
    supervising_channel = fields.String(required=True, metadata={
        "description": "the unit's supervising channel (归口), along which reports roll up (seed 002)"})
    status = fields.String(required=True, metadata={
        "description": "filed | zero | missing (flagged) | outstanding (nothing yet, not flagged) | not_required"})
    late = fields.Boolean(allow_none=True)
    id = fields.String(allow_none=True)
    revision = fields.Integer(allow_none=True)
    filed_at = fields.DateTime(allow_none=True)
    flagged_on = fields.Date(allow_none=True)


class ChannelCounts(Schema):
    channel = fields.String(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class _Overview(Schema):
    due = fields.Date(allow_none=True, required=True, metadata={"description": "null: the calendar lacks the year"})
    flag_day = fields.Date(allow_none=True, required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    channels = fields.List(fields.Nested(ChannelCounts), required=True, metadata={
        "description": "the counts by supervising channel (按归口汇总: 县委办, 机关工委, 监察局 …)"})
    units = fields.List(fields.Nested(OverviewRow), required=True)


class WeekOverviewOut(_Overview):
    week = fields.String(required=True)


class QuarterOverviewOut(_Overview):
    quarter = fields.String(required=True)


class WeeklyEscalationQuery(Schema):
    unit = fields.String()


class WeeklyEscalationOut(Schema):
    unit = fields.String(required=True)
    week = fields.String(required=True)
    step = fields.String(required=True, validate=validate.OneOf(ESCALATION_STEPS))
    consecutive_missed = fields.Integer(required=True)
    threshold = fields.Integer(required=True)
    event_id = fields.String(required=True)
    time = fields.DateTime(required=True)


class SpotCheckDrawIn(Schema):
    month = fields.String(required=True, validate=MONTH_FORMAT)


class SpotCheckQuery(Schema):
    month = fields.String(validate=MONTH_FORMAT)


class SpotCheckResultIn(Schema):
    unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    finding = fields.String(required=True, validate=validate.OneOf(SPOT_CHECK_FINDINGS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class SpotCheckResultOut(Schema):
    unit = fields.String(required=True)
    finding = fields.String(required=True)
    note = fields.String(allow_none=True)
    recorded_at = fields.DateTime(required=True)
    recorded_by = fields.String(required=True)


class SpotCheckOut(Schema):
    month = fields.String(required=True)
    ratio = fields.Float(required=True)
    nonce = fields.String(required=True)
    seed = fields.String(required=True, metadata={"description": "month:nonce:SHA-256(sorted candidates, one a line)"})
    weeks = fields.List(fields.String(), required=True)
    candidates = fields.List(fields.String(), required=True)
    draws = fields.List(fields.Nested(SpotCheckDraw), required=True)
    selected = fields.List(fields.String(), required=True)
    drawn_at = fields.DateTime(required=True)
    drawn_by = fields.String(required=True)
    event_id = fields.String(required=True)
    results = fields.List(fields.Nested(SpotCheckResultOut), required=True)


class ReportingConfigIn(ReportingConfigData):
    start_week = fields.String(validate=WEEK_FORMAT, metadata={"description": "default: the one in force"})


class ReportingConfigShown(ReportingConfigData):
    start_week = fields.String(required=True, allow_none=True, metadata={
        "description": "the first week units report for; null until the scheduler first runs"})


class ReportingConfigOut(Schema):
    config = fields.Nested(ReportingConfigShown, required=True, metadata={
        "description": f"due_rule: {', '.join(DUE_RULES)}; start_week null until the scheduler first runs"})
    version = fields.Integer(required=True, metadata={"description": "0: the defaults, never recorded"})
    set_by = fields.String(allow_none=True, required=True)
    set_at = fields.DateTime(allow_none=True, required=True)


# -- helpers ---------------------------------------------------------------------------------------
def _now() -> datetime:
    return clock_for(current_app.extensions["zf_settings"].clock_file).now()


def _problems(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except reports.Invalid as exc:
        raise Unprocessable(str(exc), code=exc.code, errors=exc.errors) from None
    except reports.Refused as exc:
        raise Conflict(str(exc), code=exc.code, **exc.details) from None
    except ConcurrencyConflict:
        raise Conflict("他人同时在修改同一内容：请稍后重试", code="report.version_conflict") from None
    except ConfigUnusable as exc:
        raise Conflict(str(exc), code="report.config_unusable", state="config_unusable",
                       errors=translate_errors(exc.problems)) from None


def _command(fn: Callable[[UnitOfWork], tuple[int, Any]]):
    """fn(uow) -> (status, body) as an idempotent command, its refusals as problems."""
    return idempotent(lambda u: (*_problems(lambda: fn(u)), {}))


def _read(fn: Callable[[UnitOfWork], Any]) -> Any:
    with UnitOfWork(current_app.extensions["zf_pool"]) as uow:
        return _problems(lambda: fn(uow))


def _scope(who: Principal, unit: str | None) -> str | None:
    """The unit a reader may see: a unit's token only its own."""
    if who.role != "unit":
        return unit
    if unit is not None and unit != who.unit:
        raise Forbidden(f"责任单位只能查看本单位（{who.unit}）的报告", code="report.not_your_unit")
    return who.unit


def _out(row: dict | None) -> dict:
    return ReportOut().dump(row)


# -- weekly reports --------------------------------------------------------------------------------
@blp.route("")
class Reports(MethodView):
    @blp.roles("office", "unit")
    @blp.arguments(ReportIn)
    @blp.alt_response(201, schema=ReportOut, description="filed (or corrected)")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """File a unit's weekly report, or its zero report (零报告); a second filing for the week corrects
        it and names the filing it replaces (`corrects`). A future week is refused; a late one is marked late."""
        who = principal()
        unit = _scope(who, body.get("unit"))
        if unit is None:
            raise Unprocessable("正风办代为报送时须写明单位", code="report.unit_required",
                                errors={"unit": ["正风办代为报送时必填"]})
        return _command(lambda u: (201, _out(handlers.file_report(u, unit, body, actor=who.actor, now=_now()))))

    @blp.roles(*READERS)
    @blp.arguments(ReportQuery, location="query")
    @blp.response(200, ReportPage)
    def get(self, query):
        """Reports and missed weeks, newest week first: all of them for the office and auditors, a
        unit's own for a unit; filtered on unit, week and status (filed, zero, missing, late)."""
        who = principal()
        unit = _scope(who, query.get("unit"))
        rows = _read(lambda u: tables.listed(u.conn, unit=unit, week=query.get("week"), status=query.get("status"),
                                             limit=query["limit"] + 1, offset=query["offset"]))
        more = len(rows) > query["limit"]
        return {"items": rows[:query["limit"]], "next_offset": query["offset"] + query["limit"] if more else None}


@blp.route("/overview")
class WeekOverview(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(OverviewQuery, location="query")
    @blp.response(200, WeekOverviewOut)
    def get(self, query):
        """One week, unit by unit: filed, zero, missing, outstanding or not required, and whether late."""
        who = principal()
        only = _scope(who, None)
        return _read(lambda u: _overview(u, query.get("week"), only))


def _overview(uow: UnitOfWork, week_text: str | None, only: str | None) -> dict:
    try:
        week = Week.parse(week_text) if week_text else Week.of(local_date(_now()))
    except ValueError as exc:
        raise reports.Invalid({"week": [str(exc)]}) from None
    config = handlers.rules(uow).config
    calendar = officecalendar.calendar(uow.conn)
    return {"week": str(week), **_standing(uow, config["start_week"], calendar,
                                           handlers.due(week, config["due_rule"], calendar),
                                           tables.of_week(uow.conn, str(week)), only,
                                           lambda first: week >= first, ("filed", "zero"))}


def _standing(uow: UnitOfWork, start: str | None, calendar, due, rows: dict, only: str | None,
              owes: Callable[[Week], bool], filed: tuple[str, ...]) -> dict:
    """A period's due date, flag day, counts and each unit's standing: `start` is the rules' first week
    (None: reporting has not begun), `rows` the period's filings and flags by unit, `owes(first week)`
    whether a unit reporting from that week owes the period."""
    try:
        flag_day = due and calendar.next_working_day(due)
    except CalendarGap:
        flag_day = None
    units = []
    for unit in tables.units_since(uow.conn):
        name = unit["name"]
        if only is not None and name != only:
            continue
        row = rows.get(name)
        if row is None and not unit["active"]:
            continue
        required = bool(unit["active"] and start and owes(handlers.first_week(Week.parse(start), unit["active_since"])))
        units.append({"unit": name, "supervising_channel": unit["supervising_channel"],
                      "status": reports.status(row, required), "late": row and row["late"],
                      "id": row and row["id"], "revision": row and row["revision"],
                      "filed_at": row and row["filed_at"], "flagged_on": row and row["flagged_on"]})
    statuses = (*filed, "missing", "outstanding", "not_required")
    channels = [{"channel": channel, "counts": _counts([u for u in units if u["supervising_channel"] == channel],
                                                       statuses)}
                for channel in sorted({u["supervising_channel"] for u in units})]
    return {"due": due, "flag_day": flag_day, "counts": _counts(units, statuses), "channels": channels,
            "units": units}


def _counts(units: list[dict], statuses: tuple[str, ...]) -> dict[str, int]:
    counts = {s: sum(1 for u in units if u["status"] == s) for s in statuses}
    counts["late"] = sum(1 for u in units if u["late"])
    return counts


@blp.route("/escalations")
class Escalations(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(WeeklyEscalationQuery, location="query")
    @blp.response(200, WeeklyEscalationOut(many=True))
    def get(self, query):
        """Steps earned by consecutive missed weeks (提醒, 督办函, 约谈, 通报批评, 提请问责), newest first."""
        who = principal()
        unit = _scope(who, query.get("unit"))
        return _read(lambda u: tables.escalations_of(u.conn, unit))


@blp.route("/<unit>/<week>")
class One(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, ReportOut)
    def get(self, unit, week):
        """A unit's report (or flag) for one week."""
        who = principal()
        _scope(who, unit)
        row = _read(lambda u: tables.one(u.conn, unit, week))
        if row is None:
            raise NotFound(f"{unit} 在 {week} 没有报送记录，也未被标记为漏报", code="report.not_found")
        return row


# -- quarterly reports -----------------------------------------------------------------------------
@quarterly_blp.route("")
class QuarterlyReports(MethodView):
    @quarterly_blp.roles("office", "unit")
    @quarterly_blp.arguments(QuarterlyIn)
    @quarterly_blp.alt_response(201, schema=QuarterlyOut, description="filed (or corrected)")
    @quarterly_blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """File a unit's quarterly work report (季度工作情况), due the 5th working day after the quarter; a
        second filing for the quarter corrects it and names the filing it replaces (`corrects`). A quarter
        not yet begun is refused; a late report is marked late."""
        who = principal()
        unit = _scope(who, body.get("unit"))
        if unit is None:
            raise Unprocessable("正风办代为报送时须写明单位", code="report.unit_required",
                                errors={"unit": ["正风办代为报送时必填"]})
        return _command(lambda u: (201, QuarterlyOut().dump(
            handlers.file_quarterly(u, unit, body, actor=who.actor, now=_now()))))

    @quarterly_blp.roles(*READERS)
    @quarterly_blp.arguments(QuarterlyQuery, location="query")
    @quarterly_blp.response(200, QuarterlyPage)
    def get(self, query):
        """Quarterly reports and missed quarters, newest quarter first: all of them for the office and
        auditors, a unit's own for a unit; filtered on unit, quarter and status (filed, missing, late)."""
        who = principal()
        unit = _scope(who, query.get("unit"))
        rows = _read(lambda u: tables.quarterly_listed(u.conn, unit=unit, quarter=query.get("quarter"),
                                                       status=query.get("status"), limit=query["limit"] + 1,
                                                       offset=query["offset"]))
        more = len(rows) > query["limit"]
        return {"items": rows[:query["limit"]], "next_offset": query["offset"] + query["limit"] if more else None}


@quarterly_blp.route("/overview")
class QuarterOverview(MethodView):
    @quarterly_blp.roles(*READERS)
    @quarterly_blp.arguments(QuarterOverviewQuery, location="query")
    @quarterly_blp.response(200, QuarterOverviewOut)
    def get(self, query):
        """One quarter, unit by unit: filed, missing, outstanding or not required, and whether late."""
        only = _scope(principal(), None)
        quarter = query.get("quarter") or _last_quarter()
        return _read(lambda uow: {"quarter": quarter, **_quarter_standing(uow, quarter, only,
                                                                          tables.of_quarter(uow.conn, quarter))})


def _last_quarter() -> str:
    return disclosure.previous(quarterly.of(local_date(_now())))


def _quarter_standing(uow: UnitOfWork, quarter: str, only: str | None, filed: dict) -> dict:
    """The quarter's standing (`_standing`) from its filings and flags by unit (`filed`)."""
    calendar = officecalendar.calendar(uow.conn)
    return _standing(uow, handlers.rules(uow).config["start_week"], calendar, handlers.quarter_due(quarter, calendar),
                     filed, only, lambda first: quarterly.required(first, quarter), ("filed",))


QUARTER_STATUSES = {"filed": "已报", "missing": "未报（已标记）", "outstanding": "尚未报送", "not_required": "无需报送"}


def _lines(items: list, text: Callable[[dict], str]) -> str:
    return "\n".join(text(i) for i in items or ())


QUARTERLY_COLUMNS = (
    Column("单位", 20, lambda r: r["unit"]),
    Column("归口", 14, lambda r: r["supervising_channel"]),
    Column("报送情况", 14, lambda r: QUARTER_STATUSES.get(r["status"], r["status"])),
    Column("报送时限", 12, lambda r: r["due"].isoformat() if r["due"] else ""),
    Column("报送时间", 17, lambda r: r["filed_at"].astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
           if r.get("filed_at") else ""),
    Column("是否迟报", 8, lambda r: "是" if r.get("late") else "否" if r.get("late") is False else ""),
    Column("报送次数", 8, lambda r: r.get("revision") or ""),
    Column("标记未报日期", 12, lambda r: r["flagged_on"].isoformat() if r.get("flagged_on") else ""),
    Column("本季度工作开展情况", 60, lambda r: r.get("summary") or ""),
    Column("案件进展", 50, lambda r: _lines(
        r.get("progress"), lambda p: f"{case_label(p['case_id'], p.get('case_number'))}：{p['note']}")),
    Column("自查发现的问题", 40, lambda r: _lines(r.get("self_found"), lambda p: p["description"])),
    Column("下季度工作打算", 40, lambda r: r.get("next_steps") or ""),
    Column("备注", 20, lambda r: r.get("note") or ""),
)


@quarterly_blp.route("/export.<any(csv, xlsx):fmt>")
class QuarterlyExport(MethodView):
    @quarterly_blp.roles(*READERS)
    @quarterly_blp.arguments(QuarterOverviewQuery, location="query")
    @quarterly_blp.doc(**export_doc("One quarter's reports, unit by unit"))
    def get(self, query, fmt):
        """One quarter unit by unit as a spreadsheet (季度工作情况汇总), each unit's standing and its report
        in full, to compile and forward; a unit's holds its own row."""
        only = _scope(principal(), None)
        quarter = query.get("quarter") or _last_quarter()

        def read(uow: UnitOfWork) -> list[dict]:
            filed = tables.of_quarter(uow.conn, quarter)
            standing = _quarter_standing(uow, quarter, only, filed)
            return [{**(filed.get(u["unit"]) or {}), **u, "due": standing["due"]} for u in standing["units"]]
        rows = _read(read)
        return export(fmt, QUARTERLY_COLUMNS, rows, title=f"{quarter_label(quarter)}工作情况汇总",
                      slug=f"quarterly-{quarter}", day=local_date(_now()))


@quarterly_blp.route("/<unit>/<quarter>")
class QuarterlyOne(MethodView):
    @quarterly_blp.roles(*READERS)
    @quarterly_blp.response(200, QuarterlyOut)
    def get(self, unit, quarter):
        """A unit's quarterly report (or flag) for one quarter."""
        _scope(principal(), unit)
        row = _read(lambda u: tables.quarterly_one(u.conn, unit, quarter))
        if row is None:
            raise NotFound(f"{unit} 在 {quarter} 没有季度工作情况报送记录，也未被标记为漏报", code="report.not_found")
        return row


# -- spot checks -----------------------------------------------------------------------------------
@spot_blp.route("")
class SpotChecks(MethodView):
    @spot_blp.roles("office")
    @spot_blp.arguments(SpotCheckDrawIn)
    @spot_blp.alt_response(201, schema=SpotCheckOut, description="drawn")
    @spot_blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Draw a month's zero reporters for spot checks now (the scheduler does it on the first working
        day after the month's reports were all due). Once per month: 409 after."""
        who = principal()
        return _command(lambda u: (201, SpotCheckOut().dump(
            handlers.draw_spot_check(u, body["month"], actor=who.actor, now=_now()))))

    @spot_blp.roles("office", "auditor")
    @spot_blp.arguments(SpotCheckQuery, location="query")
    @spot_blp.response(200, SpotCheckOut(many=True))
    def get(self, query):
        """The draws, newest month first, with the inputs to recompute them and the findings so far."""
        return _read(lambda u: tables.spot_checks(u.conn, query.get("month")))


@spot_blp.route("/<month>/results")
class SpotCheckResults(MethodView):
    @spot_blp.roles("office")
    @spot_blp.arguments(SpotCheckResultIn)
    @spot_blp.alt_response(201, schema=SpotCheckOut, description="recorded")
    @spot_blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body, month):
        """Record what the spot check of a drawn unit found: confirmed_nothing or problems_found. Once."""
        who = principal()
        return _command(lambda u: (201, SpotCheckOut().dump(
            handlers.record_spot_check(u, month, body, actor=who.actor, now=_now()))))


# -- the rules -------------------------------------------------------------------------------------
def _rules_out(rules: handlers.Rules) -> dict:
    return {"config": rules.config, "version": rules.version, "set_by": rules.set_by, "set_at": rules.set_at}


@config_blp.route("/config")
class Config(MethodView):
    @config_blp.roles(*READERS)
    @config_blp.response(200, ReportingConfigOut)
    def get(self):
        """The rules in force: the first week, the due rule, the escalation of repeated misses, the ratio."""
        return _read(lambda u: _rules_out(handlers.rules(u)))

    @config_blp.roles("office")
    @config_blp.arguments(ReportingConfigIn)
    @config_blp.alt_response(200, schema=ReportingConfigOut)
    @config_blp.doc(parameters=[IDEMPOTENCY])
    def put(self, body):
        """Set the rules (recorded as an event; the same rules again record nothing)."""
        who = principal()
        return _command(lambda u: (200, ReportingConfigOut().dump(
            _rules_out(handlers.set_rules(u, body, actor=who.actor, now=_now())))))
