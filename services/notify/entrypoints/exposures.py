"""/v1/exposures: the office selects a typical case, redacts the text to publish (previewed), a second
office user approves it, it is published on the public page and feeds (/public/), and it may be
withdrawn. Office only to act; auditors read. docs/EXPOSURE.md."""
from __future__ import annotations

from typing import Any, Callable

from flask import Response, current_app, url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from zfcommon import logs
from zfcommon.blueprint import Blueprint
from zfcommon.clock import clock_for
from zfcommon.events.catalogue import REDACTION_KINDS, ExposedCase, ExposurePublic
from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.problem import Conflict, Forbidden, NotFound, Unavailable, Unprocessable
from zfcommon.web import principal

from ..adapters import exposures as tables
from ..adapters.complainants import IntakeUnavailable
from ..domain import exposure
from ..service_layer import exposures as handlers
from ..service_layer.uow import UnitOfWork
from . import public
from .commands import idempotent
from .publishing import complainants

blp = Blueprint("exposures", __name__, url_prefix="/v1/exposures",
                description="Public exposure of typical cases (典型案例曝光): select, redact, approve, publish, withdraw")
IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}
READERS = ("office", "auditor")


class SelectIn(Schema):
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = fields.String(required=True, validate=validate.Length(min=1, max=100))
    category = fields.String(validate=validate.Length(min=1, max=100),
                             metadata={"description": "the kind of typical case; default: the case's category"})
    lesson = fields.String(allow_none=True, validate=validate.Length(max=4000),
                           metadata={"description": "the office's comment or lesson (警示/点评)"})


class Span(Schema):
    start = fields.Integer(required=True, validate=validate.Range(min=0))
    end = fields.Integer(required=True, validate=validate.Range(min=1))


class RedactIn(Schema):
    text = fields.String(validate=validate.Length(min=1, max=10000),
                         metadata={"description": "the text to publish; default: the case's description"})
    title = fields.String(validate=validate.Length(min=1, max=100))
    category = fields.String(validate=validate.Length(min=1, max=100))
    lesson = fields.String(allow_none=True, validate=validate.Length(max=4000))
    remove = fields.List(fields.String(validate=validate.Length(min=1, max=500)), validate=validate.Length(max=200),
                         metadata={"description": "phrases the office marks for removal, wherever they occur"})
    spans = fields.List(fields.Nested(Span), validate=validate.Length(max=200), metadata={
        "description": "spans of `text` to remove, in Unicode code points (end excluded)"})
    addresses = fields.List(fields.String(validate=validate.Length(min=1, max=500)), validate=validate.Length(max=50),
                            metadata={"description": "addresses to cut back to street level"})


class ApproveIn(Schema):
    revision = fields.Integer(metadata={"description": "the redaction read (its `revision`); 409 if it changed since"})


class WithdrawIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class RemovalOut(Schema):
    field = fields.String(required=True)
    kind = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "the kind in Chinese"})
    count = fields.Integer(required=True)


class ExposureOut(Schema):
    id = fields.String(required=True)
    case_id = fields.String(required=True)
    case_number = fields.Function(lambda row: (row["case"] or {}).get("case_number"), metadata={
        "description": "the case's number (案件编号) when it was selected"})
    state = fields.String(required=True,
                          metadata={"description": ", ".join(f"{k} ({v})" for k, v in exposure.STATES.items())})
    state_label = fields.String(required=True)
    allowed = fields.List(fields.String(), required=True, metadata={"description": "what may be done now"})
    version = fields.Integer(required=True)
    title = fields.String(required=True, metadata={"description": "as the office entered it (never published as is)"})
    category = fields.String(required=True)
    lesson = fields.String(allow_none=True)
    case = fields.Dict(required=True, metadata={
        "description": "the case's public facts when selected: " + ", ".join(ExposedCase().fields)})
    selected_by = fields.String(required=True)
    selected_at = fields.DateTime(required=True)
    preview = fields.Nested(ExposurePublic, allow_none=True, attribute="draft",
                            metadata={"description": "the redacted text: what publishing would show"})
    preview_url = fields.String(allow_none=True)
    removed = fields.List(fields.Nested(RemovalOut), required=True)
    complainant_checked = fields.Boolean(allow_none=True, metadata={
        "description": "false: intake did not answer, the complainant's identity was not matched yet"})
    revision = fields.Integer(allow_none=True)
    redacted_by = fields.String(allow_none=True)
    redacted_at = fields.DateTime(allow_none=True)
    approved_revision = fields.Integer(allow_none=True)
    approved_by = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    published = fields.Nested(ExposurePublic, allow_none=True)
    digest = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    published_by = fields.String(allow_none=True)
    public_url = fields.String(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawn_by = fields.String(allow_none=True)
    withdraw_reason = fields.String(allow_none=True)


class ExposureQuery(Schema):
    state = fields.String(validate=validate.OneOf(exposure.STATES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class ExposurePage(Schema):
    items = fields.List(fields.Nested(ExposureOut), required=True)
    next_offset = fields.Integer(allow_none=True, required=True)


def _shown(row: dict) -> dict:
    return {**row, "state_label": exposure.STATES[row["state"]], "allowed": list(exposure.ALLOWED[row["state"]]),
            "removed": [{**r, "label": REDACTION_KINDS[r["kind"]]} for r in row["removed"]],
            "preview_url": url_for("exposures.Preview", exposure_id=row["id"]) if row["draft"] else None,
            "public_url": (url_for("public.exposure_page", exposure_id=row["id"])
                           if row["state"] == "published" else None)}


_intake = complainants


def _context() -> handlers.Context:
    return handlers.Context(actor=principal().actor, correlation_id=logs.correlation_id.get() or "",
                            now=clock_for(current_app.extensions["zf_settings"].clock_file).now())


def _problems(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except handlers.NotFound as exc:
        raise NotFound(str(exc), code="exposure.not_found") from None
    except exposure.Refused as exc:
        raise Conflict(str(exc), code=exc.code, state=exc.state, allowed=exc.allowed) from None
    except handlers.AlreadyExposed as exc:
        raise Conflict(str(exc), code="exposure.already_exposed", state=exc.state,
                       exposure_id=exc.exposure_id) from None
    except handlers.RevisionMismatch as exc:
        raise Conflict(str(exc), code="exposure.revision_changed", state="changed", revision=exc.actual) from None
    except ConcurrencyConflict as exc:
        raise Conflict(f"{exc.stream_id} 刚被他人修改：请重新读取后再试", code="exposure.version_conflict",
                       state="changed") from None
    except exposure.SameReviewer as exc:
        raise Forbidden(str(exc), code="exposure.four_eyes") from None
    except handlers.Invalid as exc:
        raise Unprocessable(str(exc), code="exposure.invalid", errors=exc.errors) from None
    except handlers.PersonalDataRemains as exc:
        errors: dict[str, list[str]] = {}
        for f in exc.findings:
            errors.setdefault(f.field, []).append(f"{REDACTION_KINDS[f.kind]}：{f.masked}")
        found = [{"field": f.field, "kind": f.kind, "masked": f.masked} for f in exc.findings]
        raise Unprocessable(str(exc), code="exposure.personal_data_remains", errors=errors, found=found) from None
    except IntakeUnavailable as exc:
        raise Unavailable("受理服务暂时无法访问，无法核对举报人身份，本次未发布任何内容，请稍后重试",
                          code="intake_unavailable", reason=str(exc)) from None


def _command(fn: Callable[[UnitOfWork], dict], status: int = 200) -> tuple[dict, int, dict]:
    """fn(uow) -> the exposure, in one transaction under the request's Idempotency-Key (office views)."""

    def run(u: UnitOfWork) -> tuple[int, dict, dict]:
        row = _problems(lambda: fn(u))
        headers = {"Location": url_for("exposures.One", exposure_id=row["id"])} if status == 201 else {}
        return status, ExposureOut().dump(_shown(row)), headers
    return idempotent(run)


def _read(exposure_id: str) -> dict:
    with current_app.extensions["zf_pool"].connection() as conn:
        row = tables.get(conn, exposure_id)
    if row is None:
        raise NotFound(f"没有典型案例曝光 {exposure_id}", code="exposure.not_found")
    return row


@blp.route("")
class Exposures(MethodView):
    @blp.roles("office")
    @blp.arguments(SelectIn)
    @blp.alt_response(201, schema=ExposureOut, description="selected; Location names it")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Select a case as a typical case to expose (nothing is public until a second office user has
        approved its redacted text and it is published)."""
        return _command(lambda u: handlers.select(u, body, _context()), 201)

    @blp.roles(*READERS)
    @blp.arguments(ExposureQuery, location="query")
    @blp.response(200, ExposurePage)
    def get(self, query):
        """Exposures, newest selection first, optionally in one state."""
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = tables.listing(conn, query.get("state"), query["limit"] + 1, query["offset"])
        more = len(rows) > query["limit"]
        return {"items": [_shown(r) for r in rows[:query["limit"]]],
                "next_offset": query["offset"] + query["limit"] if more else None}


@blp.route("/<exposure_id>")
class One(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, ExposureOut)
    def get(self, exposure_id):
        """One exposure with its redacted preview and what was removed (counts by kind, never the text)."""
        row = _read(exposure_id)
        return _shown(row), 200, {"ETag": f'"{row["version"]}"'}


@blp.route("/<exposure_id>/redaction")
class Redaction(MethodView):
    @blp.roles("office")
    @blp.arguments(RedactIn)
    @blp.alt_response(200, schema=ExposureOut)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body, exposure_id):
        """Redact the text to publish: the office's marks, the complainant's identity (asked of intake,
        never stored) and all personal data the scanner finds are replaced by masks. Again at will
        before publication; redacting after approval needs a new approval."""
        return _command(lambda u: handlers.redact(u, _intake(), exposure_id, body, _context()))


@blp.route("/<exposure_id>/preview")
class Preview(MethodView):
    @blp.roles(*READERS)
    @blp.doc(responses={"200": {"description": "the public page as it would be, marked as a draft",
                                "content": {"text/html": {"schema": {"type": "string"}}}}})
    def get(self, exposure_id):
        """The redacted text as the public page would show it (office and auditors; marked 草稿)."""
        row = _read(exposure_id)
        if row["draft"] is None:
            raise NotFound(f"典型案例曝光 {exposure_id} 尚未脱敏，没有可预览的内容", code="exposure.not_redacted")
        return Response(public.exposure_html(row["draft"], None, draft=exposure.STATES[row["state"]]),
                        content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})


@blp.route("/<exposure_id>/approve")
class Approve(MethodView):
    @blp.roles("office")
    @blp.arguments(ApproveIn)
    @blp.alt_response(200, schema=ExposureOut)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body, exposure_id):
        """Approve the redacted text (four eyes: not by the office user who redacted it)."""
        return _command(lambda u: handlers.approve(u, exposure_id, _context(), body.get("revision")))


@blp.route("/<exposure_id>/publish")
class Publish(MethodView):
    @blp.roles("office")
    @blp.alt_response(200, schema=ExposureOut)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, exposure_id):
        """Publish the approved text. It is checked for personal data once more, the complainant's
        identity included: 422 naming what was found, 503 if intake cannot be asked."""
        return _command(lambda u: handlers.publish(u, _intake(), exposure_id, _context()))


@blp.route("/<exposure_id>/withdraw")
class Withdraw(MethodView):
    @blp.roles("office")
    @blp.arguments(WithdrawIn)
    @blp.alt_response(200, schema=ExposureOut)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body, exposure_id):
        """Withdraw the exposure: it leaves the public page and feeds at once."""
        return _command(lambda u: handlers.withdraw(u, exposure_id, body["reason"], _context()))
