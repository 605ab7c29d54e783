"""Evidence files of a case or a task: a unit uploads a file, then names its URL among a report's
attachments (a case's) or its evidence (a task's progress, milestone or completion)."""
from __future__ import annotations

import hashlib
import uuid
from urllib.parse import quote

from flask import Response, current_app, request, url_for
from flask.views import MethodView
from marshmallow import Schema, fields
from werkzeug.exceptions import RequestEntityTooLarge

from zfcommon import logs
from zfcommon.blueprint import Blueprint
from zfcommon.problem import NotFound, PayloadTooLarge, Unprocessable
from zfcommon.web import principal

from ..adapters import case_files
from ..domain.task import Task
from ..service_layer import aggregates
from .aggregate_http import mapped
from .campaigns import visible_task
from .common import command, load_visible, problems, uow

blp = Blueprint("files", __name__, url_prefix="/v1/cases", description="Evidence files of cases")
tasks_blp = Blueprint("task_files", __name__, url_prefix="/v1/tasks", description="Evidence files of tasks")
MAX_BYTES = 10 * 1024 * 1024
MULTIPART_SLACK = 64 * 1024
UPLOAD = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}}
BYTES = {"200": {"description": "the file's bytes", "content": {"application/octet-stream": {}}}}


class _File(Schema):
    file_id = fields.String(required=True)
    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"description": "hex SHA-256 of the bytes"})
    url = fields.String(required=True, metadata={"description": "where the file is read; put it in a report's attachments"})
    uploaded_by = fields.String(required=True)
    uploaded_at = fields.DateTime(required=True)


class FileOut(_File):
    case_id = fields.String(required=True)


class TaskFileOut(_File):
    task_id = fields.String(required=True)


def _described(row: dict, endpoint: str = "files.File", key: str = "case_id") -> dict:
    # Absolute: a report's attachments must be URLs (catalogue Attachment), readable by anyone who may read the case.
    return {**{k: v for k, v in row.items() if k != "data"},
            "url": url_for(endpoint, **{key: row["case_id"]}, file_id=row["file_id"], _external=True)}


def _upload() -> tuple[bytes, str, str]:
    request.max_content_length = MAX_BYTES + MULTIPART_SLACK   # also bounds a chunked body
    too_large = PayloadTooLarge(f"文件最大 {MAX_BYTES // (1024 * 1024)} MiB", code="case.file_too_large", limit=MAX_BYTES)
    try:
        part = request.files.get("file") if request.mimetype == "multipart/form-data" else None
        if part is None or not part.filename:
            raise Unprocessable("请在表单字段 file 中上传文件", code="case.file_missing", errors={"file": ["缺少文件"]})
        data = part.stream.read(MAX_BYTES + 1)
    except RequestEntityTooLarge:
        raise too_large from None
    if len(data) > MAX_BYTES:
        raise too_large
    if not data:
        raise Unprocessable("上传的文件是空的", code="case.file_empty", errors={"file": ["文件为空"]})
    return data, part.filename[:200], part.mimetype or "application/octet-stream"


@blp.route("/<case_id>/files")
class Files(MethodView):
    @blp.roles("office", "unit")
    @blp.response(201, FileOut)
    @blp.doc(requestBody=UPLOAD)
    def post(self, case_id):
        """Upload a file (at most 10 MiB) to a case the caller may act on: the office, or one of its units."""
        def visible_case(u):
            logs.case_id.set(case_id)
            load_visible(u, case_id)
        return _store(case_id, visible_case, _described, FileOut())


@blp.route("/<case_id>/files/<file_id>")
class File(MethodView):
    @blp.roles("office", "auditor", "unit", "channel")
    @blp.doc(responses=BYTES)
    def get(self, case_id, file_id):
        """A case's file, for whoever may read the case (404 alike for a missing file and a hidden case)."""
        return _serve(case_id, file_id, lambda u: problems(lambda: load_visible(u, case_id)),
                      NotFound(f"案件 {case_id} 没有文件 {file_id}", code="case.file_not_found"))


def _store(subject_id: str, check, describe, schema: Schema):
    """Keep an uploaded file as evidence of the case or task `check(uow)` finds the caller may act on."""
    data, name, content_type = _upload()
    digest = hashlib.sha256(data).hexdigest()

    def run(u):
        check(u)
        row = case_files.store(u.conn, str(uuid.uuid4()), subject_id, name, content_type, data, digest,
                               principal().actor, current_app.extensions["zf_clock"].now())
        return 201, describe(row), {}
    return command(run, schema)


def _serve(subject_id: str, file_id: str, check, missing: NotFound) -> Response:
    with uow() as u:
        check(u)
        row = case_files.load(u.conn, subject_id, file_id)
    if row is None:
        raise missing
    disposition = f"attachment; filename*=UTF-8''{quote(row['name'], safe='')}"
    return Response(bytes(row["data"]), mimetype=row["content_type"], headers={
        "Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})


def _task_of_caller(u, task_id: str) -> None:
    """404 alike for no such task and another unit's task (never reveal that it exists)."""
    task = mapped(lambda: aggregates.load(u, Task, task_id))
    if not visible_task(task, principal()):
        raise NotFound(f"没有这个任务：{task_id}", code="task.not_found")


def _task_file(row: dict) -> dict:
    """The store keeps a task's files beside cases' (its `case_id` column holds the task id: `task-<uuid>`)."""
    described = _described(row, "task_files.TaskFile", "task_id")
    return {"task_id": described.pop("case_id"), **described}


@tasks_blp.route("/<task_id>/files")
class TaskFiles(MethodView):
    @tasks_blp.roles("office", "unit")
    @tasks_blp.response(201, TaskFileOut)
    @tasks_blp.doc(requestBody=UPLOAD)
    def post(self, task_id):
        """Upload a file (at most 10 MiB) as evidence for a task: the office, or the task's lead or cooperating
        unit; then name its `url` among the evidence of a progress, milestone or completion report."""
        return _store(task_id, lambda u: _task_of_caller(u, task_id), _task_file, TaskFileOut())


@tasks_blp.route("/<task_id>/files/<file_id>")
class TaskFile(MethodView):
    @tasks_blp.roles("office", "auditor", "unit")
    @tasks_blp.doc(responses=BYTES)
    def get(self, task_id, file_id):
        """A task's evidence file, for whoever may read the task (404 alike for a missing file and a hidden task)."""
        return _serve(task_id, file_id, lambda u: _task_of_caller(u, task_id),
                      NotFound(f"任务 {task_id} 没有文件 {file_id}", code="task.file_not_found"))
