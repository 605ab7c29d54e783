"""/v1/enforcement-actions and /v1/enforcement-ratings: SMS appraisal after enforcement and supervision
(执法监督短信评议, seed 001; docs/APPRAISALS.md). A unit records each action with the party's mobile
number; the party is asked by SMS to rate it; the office reads the ratings unit by unit and officer by
officer, and an appraisal round opened with an SMS group counts them as ballots."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from zfcommon import logs, periods
from zfcommon.blueprint import EVERYONE, Blueprint
from zfcommon.clock import clock_for
from zfcommon.events.catalogue import (APPRAISAL_GRADES, APPRAISAL_PERIOD, ENFORCEMENT_KINDS, EnforcementOfficer,
                                       EnforcementStaff, RateData)
from zfcommon.exports import Column, export, export_doc
from zfcommon.problem import Forbidden, NotFound, Unprocessable
from zfcommon.web import principal
from zfcommon.workdays import local_date

from ..adapters import enforcement as tables
from ..domain import appraisal, enforcement
from ..service_layer import enforcement as handlers
from ..service_layer.bulletins import Context, Invalid
from ..service_layer.uow import UnitOfWork
from .commands import idempotent

blp = Blueprint("enforcement", __name__, url_prefix="/v1/enforcement-actions",
                description="Enforcement and supervision actions (执法监督) whose parties rate them by SMS reply")
roster_blp = Blueprint("enforcement_staff", __name__, url_prefix="/v1/enforcement-staff",
                       description="Units' enforcement and supervision staff published for the public to appraise "
                                   "(公述民评 公示)")
ratings_blp = Blueprint("enforcement_ratings", __name__, url_prefix="/v1/enforcement-ratings",
                        description="SMS ratings of enforcement and supervision (短信评议), unit by unit and officer "
                                    "by officer")
READERS = ("office", "auditor", "unit")
IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}
KEYS = "zf_enforcement_keys"


class OfficerIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    badge_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50), metadata={
        "description": "执法证号 or 工作证号"})


class ActionIn(Schema):
    unit = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "the unit that acted: a unit's token records for its own (may be left out); the office names it"})
    kind = fields.String(required=True, validate=validate.OneOf(ENFORCEMENT_KINDS), metadata={
        "description": "enforcement (行政执法) | supervision (行政监督)"})
    section = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "the section (业务科室) that acted"})
    matter = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "what was inspected or enforced (e.g. 食品经营许可现场核查)"})
    party = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "the party (执法监督对象), e.g. a shop's name; for the office's eyes, never published"})
    performed_on = fields.Date(required=True, metadata={"description": "the day acted: within the last 15 days"})
    officers = fields.List(fields.Nested(OfficerIn), required=True, validate=validate.Length(min=1, max=10),
                           metadata={"description": "who acted: name and 执法证号 (on the unit's roster once it has one)"})
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "the party's mobile number: sealed, used for the one SMS and its reply, then deleted; "
                       "never shown again (only masked)"})


class ActionOut(Schema):
    action_id = fields.String(required=True)
    unit = fields.String(required=True)
    kind = fields.String(required=True)
    section = fields.String(allow_none=True)
    matter = fields.String(required=True)
    party = fields.String(allow_none=True)
    performed_on = fields.Date(required=True)
    officers = fields.List(fields.Nested(EnforcementOfficer), required=True)
    phone_masked = fields.String(required=True, metadata={"description": "138****1234: the number is never shown"})
    recorded_at = fields.DateTime(required=True)
    recorded_by = fields.String(required=True)
    grade = fields.String(allow_none=True, validate=validate.OneOf(APPRAISAL_GRADES), metadata={
        "description": "the party's rating; null: not rated (yet)"})
    rated_at = fields.DateTime(allow_none=True)
    counted_in = fields.List(fields.String(), allow_none=True, metadata={
        "description": "the appraisal rounds the rating counted in as a ballot"})


class ActionQuery(Schema):
    unit = fields.String()
    period = fields.String(validate=APPRAISAL_PERIOD, metadata={"description": "a quarter (2026-Q4) or a year"})
    rated = fields.Boolean()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class ActionPage(Schema):
    items = fields.List(fields.Nested(ActionOut), required=True)
    next_offset = fields.Integer(allow_none=True, required=True)


class RatingQuery(Schema):
    period = fields.String(validate=APPRAISAL_PERIOD, metadata={
        "description": "a quarter (2026-Q4) or a year (2026); default: this quarter"})
    unit = fields.String()


class Figures(Schema):
    actions = fields.Integer(required=True)
    rated = fields.Integer(required=True)
    satisfied = fields.Integer(required=True)
    basically_satisfied = fields.Integer(required=True)
    unsatisfied = fields.Integer(required=True)
    reply_rate = fields.Nested(RateData, required=True)
    score = fields.Float(allow_none=True, required=True, metadata={"description": "满意 100, 基本满意 60, 不满意 0"})
    satisfaction_rate = fields.Nested(RateData, required=True)


class OfficerFigures(Figures):
    name = fields.String(required=True)
    badge_no = fields.String(allow_none=True, required=True)


class UnitFigures(Figures):
    unit = fields.String(required=True)
    repeated_numbers = fields.Integer(required=True, metadata={
        "description": f"numbers the unit recorded {enforcement.REPEATED} times or more in the period (疑似刷评)"})
    repeated_actions = fields.Integer(required=True)
    officers = fields.List(fields.Nested(OfficerFigures), required=True)


class RatingsOut(Schema):
    period = fields.String(required=True)
    first_day = fields.Date(required=True)
    last_day = fields.Date(required=True)
    units = fields.List(fields.Nested(UnitFigures), required=True)
    totals = fields.Nested(Figures, required=True)


class StaffIn(OfficerIn):
    section = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "业务科室"})
    post = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={"description": "职务"})
    duties = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={
        "description": "岗位职责 (a mobile or an ID number in it is masked)"})


class RosterIn(Schema):
    staff = fields.List(fields.Nested(StaffIn), required=True, validate=validate.Length(max=300), metadata={
        "description": "the whole roster: it replaces the one published before; empty: the unit leaves the page"})


class RosterOut(Schema):
    unit = fields.String(required=True)
    staff = fields.List(fields.Nested(EnforcementStaff), required=True)
    published_at = fields.DateTime(required=True)


class RosterList(Schema):
    items = fields.List(fields.Nested(RosterOut), required=True)


# -- helpers ---------------------------------------------------------------------------------------
def _now() -> datetime:
    return clock_for(current_app.extensions["zf_settings"].clock_file).now()


def keys() -> handlers.Keys:
    if KEYS not in current_app.extensions:
        current_app.extensions[KEYS] = handlers.Keys.from_setting(current_app.extensions["zf_settings"].notify_master_key)
    return current_app.extensions[KEYS]


def _scope(unit: str | None) -> str | None:
    """The unit a reader may see or record for: a unit's token only its own."""
    who = principal()
    if who.role != "unit":
        return unit
    if unit is not None and unit != who.unit:
        raise Forbidden(f"责任单位只能登记和查看本单位（{who.unit}）的执法监督", code="enforcement.not_your_unit")
    return who.unit


def _command(unit: str, status: int, schema: Schema, decide: Callable[[UnitOfWork, Context], dict]):
    """decide(uow, ctx) as an idempotent command of the caller's; its refusals as 422 naming the field."""
    who, now = principal(), _now()

    def run(uow: UnitOfWork) -> tuple[int, Any, dict]:
        try:
            row = decide(uow, Context(who.actor, _correlation(), now))
        except handlers.UnknownUnit:
            raise Unprocessable(f"“{unit}”不是名录中的在用单位", code="enforcement.unit_unknown",
                                errors={"unit": ["不是名录中的在用单位"]}) from None
        except Invalid as exc:
            raise Unprocessable(str(exc), code=exc.code, errors=exc.errors) from None
        return status, schema.dump(row), {}
    return idempotent(run)


def _read(fn):
    with UnitOfWork(current_app.extensions["zf_pool"]) as uow:
        return fn(uow)


def _period(key: str | None) -> tuple[str, date, date]:
    key = key or _this_quarter()
    first, last = appraisal.period(key)
    return key, first, last


def _this_quarter() -> str:
    return periods.quarter_of(local_date(_now()))


# -- actions ---------------------------------------------------------------------------------------
@blp.route("")
class Actions(MethodView):
    @blp.roles("office", "unit")
    @blp.arguments(ActionIn)
    @blp.alt_response(201, schema=ActionOut, description="recorded; the party will be asked by SMS")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Record an enforcement or supervision action of the unit: the party gets one SMS asking for a
        rating (回复1满意 2基本满意 3不满意), and the first reply from that number rates it. The number must be
        a mobile, not a contact of the unit on the directory; the day within the last 15 days."""
        unit = _scope(body.get("unit"))
        if unit is None:
            raise Unprocessable("正风办代为登记时须写明单位", code="enforcement.unit_required",
                                errors={"unit": ["正风办代为登记时必填"]})
        secrets = keys()
        return _command(unit, 201, ActionOut(), lambda uow, ctx: handlers.record(uow, unit, body, ctx, secrets))

    @blp.roles(*READERS)
    @blp.arguments(ActionQuery, location="query")
    @blp.response(200, ActionPage)
    def get(self, query):
        """Actions newest first (by the day acted): every unit's for the office and auditors, a unit's own
        for a unit; filtered on unit, period and whether rated. The number only ever masked."""
        unit = _scope(query.get("unit"))
        first = last = None
        if query.get("period"):
            _, first, last = _period(query["period"])
        rows = _read(lambda u: tables.listed(u.conn, units=None if unit is None else [unit], first=first, last=last,
                                             rated=query.get("rated"), limit=query["limit"] + 1,
                                             offset=query["offset"]))
        more = len(rows) > query["limit"]
        return {"items": rows[:query["limit"]], "next_offset": query["offset"] + query["limit"] if more else None}


@blp.route("/<uuid:action_id>")
class Action(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, ActionOut)
    def get(self, action_id):
        """One action and its rating; a unit reads its own only (404 for another's)."""
        row = _read(lambda u: tables.get(u.conn, str(action_id)))
        who = principal()
        if row is None or (who.role == "unit" and row["unit"] != who.unit):
            raise NotFound("没有这条执法监督记录", code="enforcement.not_found")
        return row


def _correlation() -> str:
    return logs.correlation_id.get() or ""


# -- the roster (公述民评 公示) ----------------------------------------------------------------------
@roster_blp.route("")
class Rosters(MethodView):
    @roster_blp.roles(*EVERYONE)
    @roster_blp.response(200, RosterList)
    def get(self):
        """Every unit's published enforcement and supervision staff: public, as on /public/enforcement-staff."""
        return {"items": _read(lambda u: tables.rosters(u.conn))}


@roster_blp.route("/<unit>")
class Roster(MethodView):
    @roster_blp.roles(*EVERYONE)
    @roster_blp.response(200, RosterOut)
    def get(self, unit):
        row = _read(lambda u: tables.roster(u.conn, unit))
        if row is None:
            raise NotFound(f"{unit}尚未公示执法监督人员", code="enforcement.roster_not_found")
        return row

    @roster_blp.roles("office", "unit")
    @roster_blp.arguments(RosterIn)
    @roster_blp.alt_response(200, schema=RosterOut, description="published")
    @roster_blp.doc(parameters=[IDEMPOTENCY])
    def put(self, body, unit):
        """Publish the unit's enforcement and supervision staff — name, 执法证号, section, post, duties — for
        the public to appraise (seed 001: 公述民评板块公开，接受群众评议); it replaces the roster before. Once a
        unit has one, its actions may name only the people on it. A unit publishes its own."""
        unit = _scope(unit)
        return _command(unit, 200, RosterOut(),
                        lambda uow, ctx: handlers.publish_roster(uow, unit, body["staff"], ctx))


# -- ratings ---------------------------------------------------------------------------------------
def _ratings(query: dict) -> dict:
    unit = _scope(query.get("unit"))
    key, first, last = _period(query.get("period"))
    rows = _read(lambda u: tables.listed(u.conn, units=None if unit is None else [unit], first=first, last=last,
                                         rated=None, limit=None))
    return {"period": key, "first_day": first, "last_day": last, **enforcement.summary(rows)}


@ratings_blp.route("")
class Ratings(MethodView):
    @ratings_blp.roles(*READERS)
    @ratings_blp.arguments(RatingQuery, location="query")
    @ratings_blp.response(200, RatingsOut)
    def get(self, query):
        """A period's SMS ratings unit by unit, and each unit's officer by officer: actions, ratings and
        grades, reply rate, score and satisfaction rate, and the numbers a unit recorded again and again
        (疑似刷评). Every unit for the office and auditors, its own for a unit."""
        return _ratings(query)


def _rate(r: dict, name: str) -> str:
    value = r[name]["value"]
    return "" if value is None else f"{value * 100:.1f}%"


COLUMNS = [
    Column("单位", 20, lambda r: r["unit"]),
    Column("执法监督人员", 14, lambda r: r.get("name") or "（全单位）"),
    Column("执法证号", 14, lambda r: r.get("badge_no") or ""),
    Column("执法监督次数", 10, lambda r: r["actions"]),
    Column("收到评价", 10, lambda r: r["rated"]),
    Column("回复率", 8, lambda r: _rate(r, "reply_rate")),
    Column("满意", 6, lambda r: r["satisfied"]),
    Column("基本满意", 8, lambda r: r["basically_satisfied"]),
    Column("不满意", 6, lambda r: r["unsatisfied"]),
    Column("得分", 8, lambda r: "" if r["score"] is None else r["score"]),
    Column("满意率", 8, lambda r: _rate(r, "satisfaction_rate")),
    Column("重复登记号码数", 12, lambda r: r.get("repeated_numbers", "")),
]


@ratings_blp.route("/export.<any(csv, xlsx):fmt>")
class RatingsExport(MethodView):
    @ratings_blp.roles(*READERS)
    @ratings_blp.arguments(RatingQuery, location="query")
    @ratings_blp.doc(**export_doc("A period's SMS ratings, each unit then its officers"))
    def get(self, query, fmt):
        """The period's SMS ratings as a spreadsheet (执法监督短信评议汇总): a row per unit, then a row per
        officer of it."""
        found = _ratings(query)
        rows = [row for u in found["units"]
                for row in [{**u, "name": None}, *({**o, "unit": u["unit"]} for o in u["officers"])]]
        return export(fmt, COLUMNS, rows, title=f"{found['period']}执法监督短信评议汇总",
                      slug=f"enforcement-ratings-{found['period']}", day=local_date(_now()))

