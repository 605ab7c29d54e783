"""GET /v1/log/export: the audit bundle of `python -m audit.entrypoints.export`, streamed over HTTP as a
tar, for auditors who have no database access. `python -m audit.entrypoints.verify_bundle` checks it.

The range is checked before the first byte is sent (a bad one is a 422 problem, not a broken tar);
then the bundle is read from one REPEATABLE READ snapshot on a connection held until the response is
closed, and written to the client as it is read: memory stays constant whatever the log's size.
"""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from zfcommon.blueprint import Blueprint
from zfcommon.problem import Unprocessable

from ..service_layer.bundle import Export, RangeRefused
from .streaming import streamed

blp = Blueprint("bundles", __name__, url_prefix="/v1/log", description="The log as an offline audit bundle")
READERS = ("auditor", "office")


class ExportQuery(Schema):
    class Meta:
        unknown = "raise"
    start = fields.Integer(load_default=0, validate=validate.Range(min=0),
                           metadata={"description": "first leaf index (0-based)"})
    end = fields.Integer(validate=validate.Range(min=0), metadata={
        "description": "leaf index after the last one; default: the latest signed head's size"})


@blp.route("/export")
class LogExport(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(ExportQuery, location="query", unknown=None)
    @blp.doc(responses={"200": {"description": "the bundle (uncompressed tar: events.jsonl, heads.jsonl, keys.json,"
                                               " manifest.json), streamed",
                                "content": {"application/x-tar": {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, query):
        """The bundle of leaves [start, end) as a tar, streamed; verify it offline with verify_bundle."""
        def prepare(conn):
            bundle = Export(conn, query["start"], query.get("end"))
            return bundle.tar(), {"Content-Disposition":
                                  f'attachment; filename="zhengfeng-audit-{bundle.start}-{bundle.end}.tar"'}
        try:
            return streamed(prepare, "application/x-tar")
        except RangeRefused as exc:
            raise Unprocessable(f"无法导出区间 [{exc.start}, {exc.end})：日志目前共有 {exc.size} 条记录",
                                code="log.export_range_refused", tree_size=exc.size,
                                errors={"end" if exc.end > exc.size else "start": [str(exc)]}) from None
