"""/v1/appraisals: democratic appraisal of units (政风行风民主评议, seeds 001 and 003; docs/APPRAISALS.md).
The office opens a round for a quarter or a year, enters each questionnaire by its number, drafts the
results (which closes the round), a second office user reviews them, and they are published on the
public page. The key is the period: 2026-Q4, or 2026 for a year's round."""
from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from werkzeug.wsgi import FileWrapper

from zfcommon.blueprint import EVERYONE, Blueprint
from zfcommon.events.catalogue import APPRAISAL_GRADES, APPRAISAL_PERIOD, AppraisalWeights
from zfcommon import sheets, uploads
from zfcommon.exports import XLSX, disposition
from zfcommon.problem import Conflict, Unprocessable
from zfcommon.spreadsheets import xlsx_file
from zfcommon.web import principal

from ..adapters import bulletin_projection as tables
from ..domain import appraisal, enforcement, publication
from ..service_layer import appraisals as handlers
from ..service_layer.uow import UnitOfWork
from .bulletin_schemas import Publication, PublicationList, ReviewIn
from .commands import idempotent
from .publishing import (FILES_DOC, IDEMPOTENCY, INSIDERS, command, context, listed, office, problems,
                         publication_command, rendered, shown, visible)

KIND = "appraisal"
blp = Blueprint("appraisals", __name__, url_prefix="/v1/appraisals",
                description="Democratic appraisal of units (政风行风民主评议): questionnaires by number, results "
                            "with scores and ranks, reviewed and published")


class OpenIn(Schema):
    period = fields.String(required=True, validate=APPRAISAL_PERIOD, metadata={
        "description": "the quarter (2026-Q4) or the year (2026) appraised: the round's key"})
    title = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    units = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=500),
                        metadata={"description": "the units appraised; default: every active unit"})
    key_units = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                            validate=validate.Length(max=500), metadata={"description": "重点评议单位"})
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=50)), validate=validate.Length(min=1, max=20),
                         metadata={"description": f"groups of appraisers; default: {'、'.join(appraisal.DEFAULT_GROUPS)}"})
    weights = fields.Nested(AppraisalWeights, metadata={
        "description": f"each grade's points; default: {appraisal.DEFAULT_WEIGHTS}"})
    min_ballots = fields.Integer(validate=validate.Range(min=1, max=100000), metadata={
        "description": f"ballots a unit needs to be ranked; default {appraisal.DEFAULT_MIN_BALLOTS}"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    sms_group = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=50), metadata={
        "description": "a group whose ballots are the SMS ratings of enforcement and supervision performed in the "
                       f"period (短信评议, /v1/enforcement-actions), e.g. {enforcement.DEFAULT_SMS_GROUP}; added to "
                       "the groups; nobody may enter its ballots by hand. Default: none"})


class RatingIn(Schema):
    unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    grade = fields.String(required=True, validate=validate.OneOf(APPRAISAL_GRADES), metadata={
        "description": "satisfied (满意) | basically_satisfied (基本满意) | unsatisfied (不满意)"})
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class BallotIn(Schema):
    ballot_no = fields.String(required=True, validate=validate.Length(min=1, max=50), metadata={
        "description": "the questionnaire's number: each is entered once in a round"})
    group = fields.String(required=True, validate=validate.Length(min=1, max=50))
    ratings = fields.List(fields.Nested(RatingIn), required=True, validate=validate.Length(min=1, max=500))


class BallotsIn(Schema):
    ballots = fields.List(fields.Nested(BallotIn), required=True, validate=validate.Length(min=1, max=500))


class BallotsEntered(Schema):
    entered = fields.Integer(required=True)
    appraisal = fields.Nested(Publication, required=True)


class BallotOut(Schema):
    ballot_no = fields.String(required=True)
    group = fields.String(required=True)
    ratings = fields.List(fields.Nested(RatingIn), required=True)
    recorded_at = fields.DateTime(required=True)
    recorded_by = fields.String(required=True)
    event_id = fields.String(required=True)


class BallotQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class BallotPage(Schema):
    items = fields.List(fields.Nested(BallotOut), required=True)
    next_offset = fields.Integer(allow_none=True, required=True)


class AppraisalOut(Publication):
    provisional = fields.Dict(allow_none=True, metadata={
        "description": "while the round is open, its results so far (office and auditors; nothing is stored)"})


def _shown(row: dict, uow: UnitOfWork) -> dict:
    """The round as the API shows it; for the office and auditors, with its results so far while open."""
    out = shown(KIND, row)
    if principal().role in INSIDERS:
        out["provisional"] = handlers.provisional(uow, row)
    return out


@blp.route("")
class Appraisals(MethodView):
    @blp.roles(*EVERYONE)
    @blp.response(200, PublicationList)
    def get(self):
        """Newest first: every round for the office and auditors, the published results for others."""
        return listed(KIND)

    @blp.roles("office")
    @blp.arguments(OpenIn)
    @blp.alt_response(201, schema=Publication, description="opened")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Open a round for a quarter or a year: the units appraised (default: every active unit), the key
        units, the groups of appraisers, each grade's points and the ballots a unit needs to be ranked."""
        return publication_command(KIND, lambda u: handlers.open_round(u, body["period"], body, context()), 201)


@blp.route("/<key>")
class Appraisal(MethodView):
    @blp.roles(*EVERYONE)
    @blp.response(200, AppraisalOut)
    def get(self, key):
        """The round (open: its settings and ballots so far, with provisional results for the office and
        auditors), or its results: each unit's grades, score, satisfaction rate and rank."""
        row = visible(KIND, key)
        with UnitOfWork(current_app.extensions["zf_pool"]) as uow:
            return _shown(row, uow)


@blp.route("/<key>.<any(html, pdf, xlsx):fmt>")
class File(MethodView):
    @blp.roles(*EVERYONE)
    @blp.doc(**FILES_DOC)
    def get(self, key, fmt):
        """The results as an HTML page, a PDF or an XLSX workbook (once drafted)."""
        if visible(KIND, key)["state"] == "opened":
            raise Conflict(f"{key} 民主评议尚在收集评议票，尚未形成结果", code="appraisal.not_drafted", state="opened",
                           allowed=list(publication.ALLOWED[KIND]["opened"]))
        return rendered(KIND, key, fmt)


@blp.route("/<key>/ballots")
class Ballots(MethodView):
    @blp.roles("office")
    @blp.arguments(BallotsIn)
    @blp.alt_response(201, schema=BallotsEntered, description="entered")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body, key):
        """Enter questionnaires (up to 500 at once), all or none: each by its number, once in the round;
        its group, and a grade for each unit it rates. Only while the round is open (409 after)."""
        def entered(u):
            row, n = handlers.record_ballots(u, key, body["ballots"], context())
            return 201, {"entered": n, "appraisal": Publication().dump(shown(KIND, row))}
        return command(entered)

    @blp.roles(*INSIDERS)
    @blp.arguments(BallotQuery, location="query")
    @blp.response(200, BallotPage)
    def get(self, query, key):
        """The questionnaires entered, by number, with who entered them and when (comments included)."""
        visible(KIND, key)
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = tables.ballots(conn, key, query["limit"] + 1, query["offset"])
        more = len(rows) > query["limit"]
        return {"items": rows[:query["limit"]], "next_offset": query["offset"] + query["limit"] if more else None}


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "report only; nothing is stored"})


class ImportRow(Schema):
    row = fields.Integer(required=True, metadata={"description": "the row number in Excel"})
    ballot_no = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"description": "ok | error"})
    errors = fields.Dict(metadata={"description": "column header (中文) -> messages; _row: the row as a whole"})


class ImportReport(Schema):
    dry_run = fields.Boolean(required=True)
    filename = fields.String(allow_none=True)
    sheet = fields.String(allow_none=True)
    counts = fields.Dict(required=True, metadata={"description": "rows, ok, error, imported"})
    rows = fields.List(fields.Nested(ImportRow), required=True)


TABLE_DOC = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
    sheets.CSV_TYPES[0]: {"schema": {"type": "string", "format": "binary"}},
    sheets.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}


def _table_problems(fn):
    try:
        return fn()
    except sheets.SpreadsheetError as exc:
        raise Unprocessable(str(exc), code="import.file_unreadable", errors={"file": [str(exc)]}) from None
    except appraisal.TableProblem as exc:
        raise Unprocessable(f"{exc}：应有的列为 问卷编号、评议群体 和各被评议单位", code="import.header_invalid",
                            errors={"headers": [str(exc)]}, missing=exc.missing, unknown=exc.unknown) from None
    except handlers.RowsRefused as exc:
        raise Unprocessable(str(exc), code="import.rows_invalid", errors={"rows": [str(exc)]}, **exc.report) from None


@blp.route("/<key>/ballots/import", methods=["POST"])
@blp.roles("office")
@blp.arguments(ImportArgs, location="query")
@blp.alt_response(200, schema=ImportReport, description="the dry run's report")
@blp.alt_response(201, schema=ImportReport, description="imported")
@blp.doc(parameters=[IDEMPOTENCY], **TABLE_DOC)
def import_ballots(args, key):
    """Enter a questionnaire table (评议票录入表: 问卷编号, 评议群体, a column per unit graded 满意, 基本满意 or
    不满意, blank when not graded; `…/ballots/template.xlsx` has its header): a dry run reports each row;
    an import enters every questionnaire, or none if any row is at fault (422 with the report)."""
    upload = uploads.upload("评议票表")
    if args["dry_run"]:
        with UnitOfWork(current_app.extensions["zf_pool"]) as uow:
            return problems(lambda: _table_problems(
                lambda: handlers.import_ballots(uow, key, upload, context(), dry_run=True)))

    def run(u):
        return 201, problems(lambda: _table_problems(
            lambda: handlers.import_ballots(u, key, upload, context(), dry_run=False))), {}
    return idempotent(run, upload.data)


@blp.route("/<key>/ballots/template.xlsx")
class Template(MethodView):
    @blp.roles(*INSIDERS)
    @blp.doc(**FILES_DOC)
    def get(self, key):
        """The round's questionnaire table, empty: its header row (问卷编号, 评议群体, each unit) to fill in."""
        round_ = visible(KIND, key)["data"]["round"]
        book = xlsx_file("评议票录入表", appraisal.table_headers(round_),
                         [12, 12, *(max(10, 2 * len(u) + 2) for u in round_["units"])], [])
        return Response(FileWrapper(book), mimetype=XLSX, direct_passthrough=True, headers={
            "Content-Disposition": disposition(f"评议票录入表-{key}.xlsx", f"appraisal-ballots-{key}.xlsx")})


@blp.route("/<key>/draft", methods=["POST"])
@blp.roles("office")
@blp.alt_response(200, schema=Publication, description="drafted")
@blp.doc(parameters=[IDEMPOTENCY])
def draft(key):
    """Close the round and take its results (no questionnaire is entered after); a second office user
    reviews them."""
    return publication_command(KIND, lambda u: handlers.draft(u, key, context()))


@blp.route("/<key>/redraft", methods=["POST"])
@blp.roles("office")
@blp.alt_response(200, schema=Publication, description="redrafted")
@blp.doc(parameters=[IDEMPOTENCY])
def redraft(key):
    """Take the results again from the same questionnaires; review again."""
    return publication_command(KIND, lambda u: handlers.draft(u, key, context(), redraft=True))


@blp.route("/<key>/review", methods=["POST"])
@blp.roles("office")
@blp.arguments(ReviewIn)
@blp.alt_response(200, schema=Publication, description="reviewed")
@blp.doc(parameters=[IDEMPOTENCY])
def review(body, key):
    """Approve the results, or send them back with comments; whoever drafted them may not approve."""
    return publication_command(KIND, lambda u: handlers.review(u, key, body["decision"], body["comments"],
                                                               context()))


@blp.route("/<key>/publish", methods=["POST"])
@blp.roles("office")
@blp.alt_response(200, schema=Publication, description="published")
@blp.doc(parameters=[IDEMPOTENCY])
def publish(key):
    """Publish the approved results (通报): everyone may read them from then on, on the public page too."""
    return publication_command(KIND, lambda u: handlers.publish(u, key, context(), office()))
