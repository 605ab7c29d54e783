"""/v1/escalation/config (the office's thresholds) and /v1/escalations (the ladders notify climbs)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from zfcommon import logs
from zfcommon.blueprint import Blueprint
from zfcommon.clock import clock_for
from zfcommon.escalationview import HistoryEntry, LadderOut
from zfcommon.events.catalogue import ESCALATION_STEPS, LADDERS, EscalationConfigData
from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.exports import Column, export, export_doc
from zfcommon.messages import translate_errors
from zfcommon.problem import Conflict, Forbidden, NotFound
from zfcommon.web import expected_version, principal
from zfcommon.workdays import local_date

from ..adapters import escalations, repository
from ..domain import watch
from ..domain.document import case_label
from ..service_layer import escalate
from ..service_layer.configs import ConfigUnusable
from ..service_layer.uow import UnitOfWork

config_blp = Blueprint("escalation_config", __name__, url_prefix="/v1/escalation",
                       description="The office's escalation thresholds (docs/ESCALATION.md)")
blp = Blueprint("escalations", __name__, url_prefix="/v1/escalations",
                description="Escalation ladders: reminders, 督办函, 约谈, 通报批评, 提请问责")
letters_blp = Blueprint("letters", __name__, url_prefix="/v1/letters",
                        description="督办函登记: the supervision letters issued, by their number (文号)")
IF_MATCH = {"in": "header", "name": "If-Match", "schema": {"type": "string"},
            "description": "the thresholds' version the change was decided on; 409 if they changed since"}
READERS = ("office", "auditor", "unit")


class ConfigOut(Schema):
    config = fields.Nested(EscalationConfigData, required=True)
    version = fields.Integer(required=True, metadata={"description": "0: the defaults, never changed"})
    set_by = fields.String(allow_none=True, required=True)
    set_at = fields.DateTime(allow_none=True, required=True)


class LadderQuery(Schema):
    unit = fields.String()
    step = fields.String(validate=validate.OneOf(ESCALATION_STEPS))
    ladder = fields.String(validate=validate.OneOf(LADDERS))
    state = fields.String(validate=validate.OneOf(["running", "stopped"]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class LadderPage(Schema):
    items = fields.List(fields.Nested(LadderOut), required=True)
    next_offset = fields.Integer(allow_none=True, required=True)


class LetterFilter(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100), metadata={
        "description": "the year the letters were numbered in (default: this year, in China)"})
    unit = fields.String(validate=validate.Length(min=1, max=200))


class LetterQuery(LetterFilter):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class LetterOut(Schema):
    number = fields.String(required=True, metadata={"description": "文号, e.g. 正风办督〔2026〕12号"})
    year = fields.Integer(required=True)
    sequence = fields.Integer(required=True)
    issuer = fields.String(required=True)
    issued_on = fields.Date(required=True)
    subject_id = fields.String(required=True, metadata={
        "description": "the case, task or project stage, or weekly-<unit> for missed weekly reports"})
    subject_kind = fields.String(allow_none=True, metadata={"description": "task, stage or weekly; null: a case"})
    case_number = fields.String(allow_none=True, metadata={"description": "a case's number (案件编号)"})
    title = fields.String(allow_none=True, metadata={"description": "a task's or a stage's title"})
    unit = fields.String(required=True, metadata={"description": "the unit the letter went to"})
    ladder = fields.String(allow_none=True, validate=validate.OneOf(LADDERS), metadata={
        "description": "a ladder's letter: which ladder (null for weekly reports, like the three below)"})
    round = fields.Integer(allow_none=True)
    due = fields.Date(allow_none=True)
    working_days_overdue = fields.Integer(allow_none=True, metadata={"description": "when the letter was issued"})
    week = fields.String(allow_none=True, metadata={"description": "weekly reports: the missed week that did it"})
    consecutive_missed = fields.Integer(allow_none=True, metadata={"description": "weekly reports: weeks missed "
                                                                                  "in a row"})
    notice_id = fields.Integer(allow_none=True, metadata={
        "description": "the letter as the unit got it: GET /v1/notices/{id} has its full text (null: not queued yet)"})


class LetterPage(Schema):
    year = fields.Integer(required=True)
    items = fields.List(fields.Nested(LetterOut), required=True)
    next_offset = fields.Integer(allow_none=True, required=True)


class CaseEscalation(Schema):
    case_id = fields.String(required=True)
    status = fields.String(required=True)
    lead_unit = fields.String(allow_none=True)
    paused = fields.Boolean(required=True, metadata={"description": "an extension request awaits the office"})
    next_check = fields.Date(allow_none=True, metadata={"description": "the next day a threshold is crossed"})
    calendar_gap = fields.String(allow_none=True, metadata={"description": "a year the calendar lacks, named"})
    ladders = fields.List(fields.Nested(LadderOut), required=True)
    history = fields.List(fields.Nested(HistoryEntry), required=True)


def _uow() -> UnitOfWork:
    return UnitOfWork(current_app.extensions["zf_pool"])


def _thresholds_out(t: escalate.Thresholds) -> tuple[dict, int, dict]:
    return ({"config": t.config, "version": t.version, "set_by": t.set_by, "set_at": t.set_at}, 200,
            {"ETag": f'"{t.version}"'})


@config_blp.route("/config")
class Thresholds(MethodView):
    @config_blp.roles("office", "auditor")
    @config_blp.response(200, ConfigOut)
    def get(self):
        """The thresholds in force: working days before the due date for the reminder, working days
        overdue for each later step; per handling mode for deadlines, one ladder for signing for."""
        with _uow() as uow:
            try:
                return _thresholds_out(escalate.thresholds(uow))
            except ConfigUnusable as exc:
                raise Conflict(str(exc), code="escalation.config_unusable", state="config_unusable",
                               errors=translate_errors(exc.problems)) from None

    @config_blp.roles("office")
    @config_blp.arguments(EscalationConfigData)
    @config_blp.response(200, ConfigOut)
    @config_blp.doc(parameters=[IF_MATCH])
    def put(self, body):
        """Set every threshold at once (recorded as an event: the trail shows who changed what). Steps
        already issued stand; the new thresholds decide the steps still to come."""
        who = principal()
        expected = expected_version()
        with _uow() as uow:
            try:
                done = escalate.set_thresholds(uow, body, actor=who.actor, expected_version=expected,
                                               correlation_id=logs.correlation_id.get() or "",
                                               now=clock_for(current_app.extensions["zf_settings"].clock_file).now())
            except escalate.VersionMismatch as exc:
                raise Conflict(str(exc), code="escalation.config_version_mismatch", version=exc.actual) from None
            except ConcurrencyConflict:
                raise Conflict("督办阈值刚被他人修改：请重新读取后再试", code="escalation.config_version_conflict") from None
        return _thresholds_out(done)


def _page(rows: list, query: dict) -> dict:
    """One page of rows read one past the limit: the items, and the next page's offset if there is one."""
    more = len(rows) > query["limit"]
    return {"items": rows[:query["limit"]], "next_offset": query["offset"] + query["limit"] if more else None}


def _unit_scope(asked: str | None) -> str | None:
    """The unit whose ladders the reader may list: a unit only its own."""
    who = principal()
    if who.role != "unit":
        return asked
    if asked is not None and asked != who.unit:
        raise Forbidden(f"责任单位只能查看本单位（{who.unit}）的督办", code="escalation.not_your_unit")
    return who.unit


@blp.route("")
class Ladders(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(LadderQuery, location="query")
    @blp.response(200, LadderPage)
    def get(self, query):
        """Ladders most recently changed first, by lead unit, current step, ladder and state."""
        filters = {**query, "unit": _unit_scope(query.get("unit"))}
        with current_app.extensions["zf_pool"].connection() as conn:
            return _page(escalations.ladders(conn, filters, limit=query["limit"] + 1, offset=query["offset"]), query)


@blp.route("/<case_id>")
class CaseLadders(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, CaseEscalation)
    def get(self, case_id):
        """One case's ladders, every step and stop in order, and when the scheduler looks again."""
        who = principal()
        with current_app.extensions["zf_pool"].connection() as conn:
            case = repository.get(conn, case_id)
            if case is None or (who.role == "unit" and who.unit not in watch.units(case)):
                raise NotFound(f"通知服务尚未收到案件 {case_id}", code="case.not_found")   # alike for hidden: never leaks
            ladders, history, check = escalations.of_case(conn, case_id)
        view = case["view"] or {}
        return {"case_id": case_id, "status": case["status"], "lead_unit": case["lead_unit"],
                "paused": bool(view.get("extension_pending")) and case["status"] in ("assigned", "in_progress"),
                "next_check": check and check["next_check"], "calendar_gap": check and check["gap"],
                "ladders": ladders, "history": history}


def _today():
    return local_date(clock_for(current_app.extensions["zf_settings"].clock_file).now())


def _letter_year(query: dict) -> int:
    """The register's year: asked, else this year in China."""
    return query.get("year") or _today().year


@letters_blp.route("")
class Letters(MethodView):
    @letters_blp.roles(*READERS)
    @letters_blp.arguments(LetterQuery, location="query")
    @letters_blp.response(200, LetterPage)
    def get(self, query):
        """The register of supervision letters (督办函登记) of a year, by number, with the case, task or
        project stage each was about and the unit it went to; a unit sees only the letters it got."""
        unit, year = _unit_scope(query.get("unit")), _letter_year(query)
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = escalations.letters(conn, year, unit, limit=query["limit"] + 1, offset=query["offset"])
        return {"year": year, **_page(rows, query)}


def _letter_subject(r) -> str:
    """What a letter was about, as the register names it."""
    if r["subject_kind"] == "weekly":
        return f"连续{r['consecutive_missed']}周未报送周报告（{r['week']}）"
    if r["subject_kind"] in LETTER_SUBJECTS:
        return f"{LETTER_SUBJECTS[r['subject_kind']]}：{r['title'] or ''}"
    return f"案件 {case_label(r['subject_id'], r['case_number'])}"


LETTER_SUBJECTS = {"task": "任务", "stage": "重点项目审批阶段"}
LETTER_COLUMNS = (
    Column("文号", 26, lambda r: r["number"]),
    Column("顺序号", 8, lambda r: r["sequence"]),
    Column("签发日期", 12, lambda r: r["issued_on"].isoformat()),
    Column("发文机关", 12, lambda r: r["issuer"]),
    Column("责任单位", 20, lambda r: r["unit"]),
    Column("督办事项", 40, _letter_subject),
    Column("督办类别", 12, lambda r: f"超{LADDERS[r['ladder']]}" if r["ladder"] else "周报告未报"),
    Column("轮次", 6, lambda r: r["round"] if r["round"] is not None else ""),
    Column("办理期限", 12, lambda r: r["due"].isoformat() if r["due"] else ""),
    Column("超期工作日", 10, lambda r: r["working_days_overdue"] if r["working_days_overdue"] is not None else ""),
    Column("事项标识", 38, lambda r: r["subject_id"]),
)


@letters_blp.route("/export.<any(csv, xlsx):fmt>")
class LettersExport(MethodView):
    @letters_blp.roles(*READERS)
    @letters_blp.arguments(LetterFilter, location="query")
    @letters_blp.doc(**export_doc("The year's supervision letters, by number"))
    def get(self, query, fmt):
        """The register of a year's supervision letters (督办函登记) as a spreadsheet, to file or print; a
        unit's holds only the letters it got."""
        unit, year = _unit_scope(query.get("unit")), _letter_year(query)
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = escalations.letters(conn, year, unit, limit=None, offset=0)
        return export(fmt, LETTER_COLUMNS, rows, title=f"{year}年督办函登记", slug=f"letters-{year}",
                      day=_today())
