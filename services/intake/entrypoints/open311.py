"""Open311 GeoReport v2 at /open311/v2 (docs/OPEN311.md). Outside /v1/, so no bearer token: reading is
public as the spec has it, and POST requests authenticates the form's `api_key` against the office's
API clients itself. Every answer, errors included, is XML or JSON as the path's extension asks."""
from __future__ import annotations

import logging

import psycopg
from flask import Blueprint as FlaskBlueprint, Response, current_app, request
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException

from zfcommon.blueprint import Blueprint
from zfcommon.events.catalogue import DIRECTORY_STREAM
from zfcommon.problem import Problem

from ..adapters.request_index import RequestIndex
from ..domain import case as domain
from ..domain import open311, open311_records as records
from ..domain.open311 import Open311Error
from ..service_layer import handlers
from . import open311_post
from .common import uow
from .open311_format import FORMATS, Refused, checked, errors, render
from .open311_post import now

log = logging.getLogger(__name__)
blp = Blueprint("open311", __name__, url_prefix="/open311/v2",
                description="Open311 GeoReport v2: public reading; POST requests with a channel client's api_key")
TEXT = {"schema": {"type": "string"}}
ANSWER = {"content": {"text/xml": TEXT, "application/json": {"schema": {}}}}
ERRORS = {"description": "Open311 errors document, XML (<errors><error><code/><description/>) or JSON",
          "content": {"text/xml": TEXT, "application/json": {"schema": {"type": "array", "items": {
              "type": "object", "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}}}}}
FMT = {"in": "path", "name": "fmt", "required": True, "schema": {"type": "string", "enum": list(FORMATS)},
       "description": "xml or json (any other: 404)"}
PUBLIC = {"security": [], "parameters": [FMT],
          "responses": {"200": {"description": "XML (text/xml) or JSON as the extension says", **ANSWER},
                        "400": ERRORS, "404": ERRORS}}
EPOCH = "1970-01-01T08:00:00+08:00"


@blp.route("/discovery.<fmt>")
@blp.doc(**PUBLIC)
def discovery(fmt):
    """Service discovery: this endpoint, its formats, and when its services last changed."""
    checked(fmt)
    with uow() as u:
        version = u.events.version(DIRECTORY_STREAM)
        last = u.events.load(DIRECTORY_STREAM, after=version - 1) if version else []
    changeset = records.w3c(last[0].time) if last else EPOCH
    return render(fmt, "discovery", open311.discovery(request.url_root + "open311/v2", changeset))


@blp.route("/services.<fmt>")
@blp.doc(**PUBLIC)
def service_list(fmt):
    """The office's problem categories as services."""
    checked(fmt)
    with uow() as u:
        return render(fmt, "services", open311.services(handlers.load_directory(u)))


@blp.route("/services/<code>.<fmt>")
@blp.doc(**PUBLIC)
def service_definition(code, fmt):
    """The attributes a service asks for."""
    checked(fmt)
    with uow() as u:
        return render(fmt, "service_definition", open311.definition(handlers.load_directory(u), code))


def _requests(fmt: str, rows: list[dict]) -> Response:
    return render(fmt, "service_requests", [records.record(r) for r in rows])


@blp.route("/requests.<fmt>", methods=["GET"])
@blp.doc(**PUBLIC)
def request_list(fmt):
    """Cases by id list, or by service, status and a window of at most 90 days (newest first, ≤ 1000)."""
    checked(fmt)
    q = records.query(request.args.to_dict(flat=False), now())
    with uow() as u:
        index = RequestIndex(u.conn, u.events)
        return _requests(fmt, index.find(q.ids) if q.ids else index.search(q))


def _one(fmt: str, request_id: str) -> list[dict]:
    checked(fmt)
    with uow() as u:
        rows = RequestIndex(u.conn, u.events).find([request_id])
    if not rows:
        raise Open311Error(404, [("service_request_id", f"没有编号为 {request_id} 的问题线索")])
    return rows


@blp.route("/requests/<request_id>.<fmt>")
@blp.doc(**PUBLIC)
def request_one(request_id, fmt):
    """One case, as an array of one."""
    return _requests(fmt, _one(fmt, request_id))


@blp.route("/tokens/<token>.<fmt>")
@blp.doc(**PUBLIC)
def token_lookup(token, fmt):
    """Requests are created at once, so no token is ever issued: a service_request_id stands for itself."""
    rows = _one(fmt, token)
    return render(fmt, "service_requests", [{"service_request_id": rows[0]["service_request_id"], "token": token}])


blp.route("/requests.<fmt>", methods=["POST"])(blp.doc(
    security=[], parameters=[FMT], requestBody={"required": True, "content": {open311_post.FORM: {"schema": {
        "type": "object", "required": ["api_key", "service_code"],
        "properties": {"api_key": {"type": "string"}, "service_code": {"type": "string"}}}}}},
    responses={"200": {"description": "[{service_request_id, service_notice, account_id}]", **ANSWER},
               "400": ERRORS, "404": ERRORS, "403": {**ERRORS, "description": "missing, unknown or revoked api_key"},
               "429": {**ERRORS, "description": "the client's rate limit"}})(open311_post.create_request))


def unknown(rest):
    """Anything else under /open311/v2 — so even a wrong path or method gets an Open311 errors document."""
    urls = current_app.url_map.bind_to_environ(request.environ)
    allowed = [m for m in ("GET", "POST") if urls.test(request.path, m) and
               urls.match(request.path, m)[0] != "open311.unknown"]
    if allowed:
        raise Refused(400, [("method", f"此资源不接受 {request.method},请用 {' 或 '.join(allowed)}")],
                      {"Allow": ", ".join(allowed)})
    raise Open311Error(404, [("path", f"没有 /open311/v2/{rest} 这个资源")])


# Registered past flask-smorest on purpose: a catch-all is no operation to publish in the OpenAPI document.
FlaskBlueprint.add_url_rule(blp, "/<path:rest>", "unknown", unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])


def _format_of_request() -> str:
    fmt = (request.view_args or {}).get("fmt") or request.path.rpartition(".")[2]
    return fmt if fmt in FORMATS else "xml"


@blp.errorhandler(Exception)
def _error(exc: Exception) -> Response:
    """Every failure as the spec's errors document, in the format asked for (XML when unclear)."""
    fmt = _format_of_request()
    if isinstance(exc, Open311Error):
        return errors(fmt, exc.status, exc.errors, exc.headers if isinstance(exc, Refused) else None)
    if isinstance(exc, domain.InvalidCommand):
        return errors(fmt, 400, [(k, " ".join(v)) for k, v in exc.errors.items()])
    if isinstance(exc, Problem):                       # e.g. an Idempotency-Key used for another request
        return errors(fmt, 400, [(k, " ".join(v)) for k, v in exc.extensions.get("errors", {}).items()]
                      or [("request", exc.detail or exc.title)])
    if isinstance(exc, HTTPException):
        return errors(fmt, 400, [("request", f"请求无法处理（HTTP {exc.code}）")])
    if isinstance(exc, (psycopg.OperationalError, PoolTimeout)):
        log.warning("database_unavailable", extra={"error": str(exc)[:300]})
        return errors(fmt, 400, [("service", "服务暂时不可用,本次提交未保存,请稍后重试")], {"Retry-After": "1"})
    log.exception("open311_unhandled_error")
    return errors(fmt, 400, [("service", "服务处理出错,已记录,请稍后重试或联系正风办")])
