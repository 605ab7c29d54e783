"""Ledger import (台账导入) over HTTP: upload an office's CSV or XLSX ledger, dry run first."""
from __future__ import annotations

import uuid

from flask import request, url_for
from flask.views import MethodView
from marshmallow import Schema, fields
from werkzeug.exceptions import RequestEntityTooLarge

from zfcommon.blueprint import Blueprint
from zfcommon.problem import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from zfcommon.web import principal

from ..adapters import spreadsheets
from ..domain import ledger_import, task_import
from ..service_layer import imports
from zfcommon.idempotency import request_hash, run_command
from .aggregate_http import mapped
from .common import context, problems, uow

blp = Blueprint("imports", __name__, url_prefix="/v1/imports", description="Ledger import (台账导入)")
MULTIPART_SLACK = 64 * 1024        # boundaries and part headers around the file
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


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"台账文件最大 {spreadsheets.MAX_BYTES // (1024 * 1024)} MiB", code="import.too_large",
                           limit=spreadsheets.MAX_BYTES)


def _file() -> tuple[bytes, str | None, str | None, str | None]:
    """(content, file name, declared type, charset) from a multipart form (field `file`) or the raw body."""
    if request.mimetype == "multipart/form-data":
        part = request.files.get("file")
        if part is None:
            raise Unprocessable("请在表单字段 file 中上传台账文件", code="import.file_missing",
                                errors={"file": ["缺少文件"]})
        return (part.stream.read(spreadsheets.MAX_BYTES + 1), part.filename, part.mimetype,
                part.mimetype_params.get("charset"))
    if request.mimetype not in (*spreadsheets.CSV_TYPES, spreadsheets.XLSX_TYPE):
        raise UnsupportedMediaType(
            f"请以 multipart/form-data（字段 file）上传，或直接发送 {spreadsheets.CSV_TYPES[0]} 或 "
            f"{spreadsheets.XLSX_TYPE} 内容，收到的是 {request.mimetype or '未声明类型的内容'}",
            code="request.unsupported_media_type", received=request.mimetype or None,
            expected=["multipart/form-data", spreadsheets.CSV_TYPES[0], spreadsheets.XLSX_TYPE])
    return request.get_data(), None, request.mimetype, request.mimetype_params.get("charset")


def _upload() -> imports.Upload:
    limit = spreadsheets.MAX_BYTES + MULTIPART_SLACK
    request.max_content_length = limit        # also bounds a chunked body that announces no length
    if (request.content_length or 0) > limit:
        raise _too_large()
    try:
        data, filename, declared, charset = _file()
        if len(data) > spreadsheets.MAX_BYTES:
            raise _too_large()
        return imports.Upload(data, spreadsheets.format_of(declared, filename, data[:8]), filename, charset)
    except RequestEntityTooLarge:
        raise _too_large() from None
    except spreadsheets.UnsupportedType as exc:
        raise UnsupportedMediaType(str(exc), code="import.file_type_unsupported") from None


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
    upload = _upload()
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
