"""Ledger import (台账导入) over HTTP: upload an office's CSV or XLSX ledger, dry run first."""
from __future__ import annotations

import uuid

from flask import request, url_for
from flask.views import MethodView
from marshmallow import Schema, fields

from zfcommon.blueprint import Blueprint
from zfcommon import sheets as spreadsheets
from zfcommon import uploads
from zfcommon.problem import NotFound, Unprocessable
from zfcommon.web import principal

from ..domain import ledger_import, task_import
from ..service_layer import imports
from zfcommon.idempotency import request_hash, run_command
from .aggregate_http import mapped
from .common import context, problems, uow

blp = Blueprint("imports", __name__, url_prefix="/v1/imports", description="Ledger import (台账导入)")
FILE_DOC = {"type": "string", "format": "binary"}


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "report only; nothing is stored"})
    skip_invalid = fields.Boolean(load_default=False, metadata={
        "description": "import the valid rows and report the others (default: any error row refuses the file)"})


class ImportRow(Schema):
    task_id = fields.String(allow_none=True, metadata={"description": "a task table's row: the task it became"})
    task = fields.Dict(metadata={"description": "ok rows of a task table: the task the row becomes"})
    row = fields.Integer(required=True, metadata={"description": "the row number in Excel (header row = 1 "
                                                                 "unless title rows sit above it)"})
    serial = fields.String(allow_none=True, metadata={"description": "the row's 序号, if the ledger has one"})
    status = fields.String(required=True, metadata={"description": "ok | error | duplicate"})
    key = fields.String(required=True, metadata={"description": "the row's identity (source, unit, description)"})
    case_id = fields.String(allow_none=True)
    case_number = fields.String(allow_none=True, metadata={"description": "the case's number (案件编号); null on "
                                                                          "a dry run, which gives none"})
    errors = fields.Dict(metadata={"description": "column header (中文) -> messages; _row: the row as a whole"})
    duplicate_of_row = fields.Integer(metadata={"description": "an earlier row of this file with the same key"})
    case = fields.Dict(metadata={"description": "ok rows: the case the row becomes and its events"})


class ImportReport(Schema):
    import_id = fields.String(allow_none=True)
    kind = fields.String(metadata={"description": "ledger | tasks"})
    dry_run = fields.Boolean()
    file_sha256 = fields.String()
    filename = fields.String(allow_none=True)
    format = fields.String()
    sheet = fields.String(allow_none=True)
    header_row = fields.Integer()
    skip_invalid = fields.Boolean()
    counts = fields.Dict(metadata={"description": "rows, ok, error, duplicate, imported"})
    rows = fields.List(fields.Nested(ImportRow))


class ImportRecord(ImportReport):
    actor = fields.String()
    created_at = fields.DateTime()


def _run(fn, columns: tuple[str, ...] = ledger_import.COLUMNS, required: tuple[str, ...] = ledger_import.REQUIRED):
    """Map a file that cannot be imported to 422, naming what is wrong with it."""
    try:
        return mapped(lambda: problems(fn))
    except spreadsheets.SpreadsheetError as exc:
        raise Unprocessable(str(exc), code="import.file_unreadable", errors={"file": [str(exc)]}) from None
    except ledger_import.HeaderProblem as exc:
        raise Unprocessable(f"表头不符合导入格式：{exc}", code="import.header_invalid", errors={"headers": [str(exc)]},
                            header_row=exc.header_row, missing=exc.missing, unknown=exc.unknown,
                            duplicated=exc.duplicated, columns=list(columns), required=list(required)) from None
    except imports.RowsRefused as exc:
        raise Unprocessable(str(exc), code="import.rows_invalid", errors={"rows": [str(exc)]}, **exc.report) from None


def _post(args: dict, do, record_endpoint: str):
    """The office uploads; a dry run reports in a read-only transaction, an import writes under the
    request's Idempotency-Key (the body's hash is the file's)."""
    upload = uploads.upload("台账文件")
    if args["dry_run"]:
        with uow() as u:
            return do(u, upload, True)

    def run(u):
        report = do(u, upload, False)
        return 201, report, {"Location": url_for(record_endpoint, import_id=report["import_id"])}
    status, body, headers = run_command(uow, principal().actor, request.headers.get("Idempotency-Key"),
                                        request_hash("POST", request.full_path, upload.data), run)
    return body, status, headers


@blp.route("")
class Imports(MethodView):
    @blp.roles("office")
    @blp.arguments(ImportArgs, location="query")
    @blp.response(200, ImportReport, description="dry run: the per-row report")
    @blp.alt_response(201, schema=ImportReport, description="imported: the report with each row's case id")
    @blp.doc(requestBody={"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": FILE_DOC}}},
        spreadsheets.CSV_TYPES[0]: {"schema": FILE_DOC}, spreadsheets.XLSX_TYPE: {"schema": FILE_DOC}}},
        # A manual parameter list replaces the one flask-smorest derives from ImportArgs: name them all.
        parameters=[{"in": "query", "name": name, "schema": {"type": "boolean", "default": False},
                     "description": field.metadata["description"]} for name, field in ImportArgs().fields.items()]
        + [{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
    def post(self, args):
        """Import a spreadsheet ledger (docs/CHANNELS.md "Ledger import"): `dry_run=true` reports every
        row (ok / error / duplicate) and stores nothing; otherwise the file is imported all-or-nothing
        (422 with the same report if any row is wrong) or, with `skip_invalid=true`, its valid rows only.
        Rows imported before, by any file, are reported as duplicates with their case and written again never."""
        return _post(args, lambda u, upload, dry_run: _run(lambda: imports.import_ledger(
            upload, u, context(), dry_run=dry_run, skip_invalid=args["skip_invalid"])), "imports.Import")


@blp.route("/<import_id>")
class Import(MethodView):
    @blp.roles("office", "auditor")
    @blp.response(200, ImportRecord)
    def get(self, import_id):
        """Who imported which file when, the counts, and each row's status and case."""
        return _record(import_id, "ledger")


def _record(import_id: str, kind: str) -> dict:
    try:
        uuid.UUID(import_id)
    except ValueError:
        raise NotFound(f"没有导入记录 {import_id}", code="import.not_found") from None
    with uow() as u:
        record = imports.get_import(u, import_id, kind)
    if record is None:
        raise NotFound(f"没有导入记录 {import_id}", code="import.not_found")
    return record


tasks_blp = Blueprint("task_imports", __name__, url_prefix="/v1/task-imports",
                      description="Task table import (任务清单导入)")


class TaskImportArgs(ImportArgs):
    campaign_id = fields.String(load_default=None, metadata={"description": "the campaign every task joins"})


@tasks_blp.route("")
class TaskImports(MethodView):
    @tasks_blp.roles("office")
    @tasks_blp.arguments(TaskImportArgs, location="query")
    @tasks_blp.response(200, ImportReport, description="dry run: the per-row report")
    @tasks_blp.alt_response(201, schema=ImportReport, description="imported: the report with each row's task id")
    @tasks_blp.doc(requestBody={"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": FILE_DOC}}},
        spreadsheets.CSV_TYPES[0]: {"schema": FILE_DOC}, spreadsheets.XLSX_TYPE: {"schema": FILE_DOC}}},
        parameters=[{"in": "query", "name": name, "schema": {"type": "string" if name == "campaign_id" else "boolean"},
                     "description": field.metadata["description"]} for name, field in TaskImportArgs().fields.items()]
        + [{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
    def post(self, args):
        """Import a task table (序号, 任务, 工作目标, 牵头单位, 责任单位, 责任领导, 推进措施, 监察评估, 完成时限, 节点,
        所属阶段, 备注) with the ledger import's rules: dry run, all-or-nothing or skip_invalid, never twice;
        a row without the five haves is an error row naming them (docs/CAMPAIGNS.md)."""
        return _post(args, lambda u, upload, dry_run: _run(lambda: imports.import_tasks(
            upload, u, context(), args["campaign_id"], dry_run=dry_run, skip_invalid=args["skip_invalid"]),
            task_import.COLUMNS, task_import.REQUIRED), "task_imports.TaskImport")


@tasks_blp.route("/<import_id>")
class TaskImport(MethodView):
    @tasks_blp.roles("office", "auditor")
    @tasks_blp.response(200, ImportRecord)
    def get(self, import_id):
        """Who imported which task table when, the counts, and each row's status and task."""
        return _record(import_id, "tasks")
