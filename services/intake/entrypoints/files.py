"""Evidence files of a case: a unit uploads a file, then names its URL among a report's attachments."""
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
from .common import command, load_visible, problems, uow

blp = Blueprint("files", __name__, url_prefix="/v1/cases", description="Evidence files of cases")
MAX_BYTES = 10 * 1024 * 1024
MULTIPART_SLACK = 64 * 1024


class FileOut(Schema):
    file_id = fields.String(required=True)
    case_id = fields.String(required=True)
    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"description": "hex SHA-256 of the bytes"})
    url = fields.String(required=True, metadata={"description": "where the file is read; put it in a report's attachments"})
    uploaded_by = fields.String(required=True)
    uploaded_at = fields.DateTime(required=True)


def _described(row: dict) -> dict:
    # Absolute: a report's attachments must be URLs (catalogue Attachment), readable by anyone who may read the case.
    return {**{k: v for k, v in row.items() if k != "data"},
            "url": url_for("files.File", case_id=row["case_id"], file_id=row["file_id"], _external=True)}


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
    @blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}})
    def post(self, case_id):
        """Upload a file (at most 10 MiB) to a case the caller may act on: the office, or one of its units."""
        data, name, content_type = _upload()
        digest = hashlib.sha256(data).hexdigest()

        def run(u):
            logs.case_id.set(case_id)
            load_visible(u, case_id)
            row = case_files.store(u.conn, str(uuid.uuid4()), case_id, name, content_type, data, digest,
                                   principal().actor, current_app.extensions["zf_clock"].now())
            return 201, _described(row), {}
        return command(run, FileOut())


@blp.route("/<case_id>/files/<file_id>")
class File(MethodView):
    @blp.roles("office", "auditor", "unit", "channel")
    @blp.doc(responses={"200": {"description": "the file's bytes", "content": {"application/octet-stream": {}}}})
    def get(self, case_id, file_id):
        """A case's file, for whoever may read the case (404 alike for a missing file and a hidden case)."""
        with uow() as u:
            problems(lambda: load_visible(u, case_id))
            row = case_files.load(u.conn, case_id, file_id)
        if row is None:
            raise NotFound(f"案件 {case_id} 没有文件 {file_id}", code="case.file_not_found")
        disposition = f"attachment; filename*=UTF-8''{quote(row['name'], safe='')}"
        return Response(bytes(row["data"]), mimetype=row["content_type"], headers={
            "Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})
