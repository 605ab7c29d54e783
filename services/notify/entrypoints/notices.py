"""Notices and their delivery logs (`/v1/notices`), and SMS replies from the gateway (`/v1/sms/replies`,
signed with Standard Webhooks instead of a bearer token). docs/NOTICES.md."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as SchemaError
from werkzeug.exceptions import RequestEntityTooLarge

from zfcommon import jwks, trackingcode, webhooks
from zfcommon.blueprint import Blueprint
from zfcommon.inputs import decode_json
from zfcommon.problem import (Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unavailable,
                              Unprocessable)
from zfcommon.settings import ConfigError
from zfcommon.web import principal, unauthenticated

from ..adapters import notice_text
from ..adapters import notices as store
from ..adapters.intake_client import IntakeClient, IntakeUnavailable
from ..domain import notices
from ..service_layer import notices as handlers
from . import enforcement

blp = Blueprint("notices", __name__, url_prefix="/v1/notices",
                description="Notices to units (email, SMS) and to hotline complainants (SMS), with their delivery logs")
replies = Blueprint("sms_replies", __name__, url_prefix="/v1/sms",
                    description="Complainants' SMS replies to return-visit requests (signed by the gateway)")
REPLY_PATH = "/v1/sms/replies"
SECRETS = "zf_sms_reply_secrets"
MAX_REPLY = 16 * 1024


class NoticeQuery(Schema):
    case_id = fields.String()
    unit = fields.String(metadata={"description": "a unit officer sees only its own unit's notices"})
    kind = fields.String(validate=validate.OneOf(list(notices.KINDS)))
    status = fields.String(validate=validate.OneOf(notices.STATUSES))
    channel = fields.String(validate=validate.OneOf(["email", "sms", "wecom", "dingtalk"]))
    audience = fields.String(validate=validate.OneOf([notices.UNIT, notices.COMPLAINANT, notices.INSPECTED]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class Attempt(Schema):
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    result = fields.String(allow_none=True)
    provider_message_id = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)


class NoticeText(Schema):
    subject = fields.String(required=True)
    body = fields.String(required=True)


class Notice(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.Function(lambda n: notices.KINDS[n["kind"]].title)
    channel = fields.String(required=True)
    audience = fields.String(required=True)
    unit = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    to = fields.String(attribute="masked_to", allow_none=True, metadata={
        "description": "the address or number (a complainant's only masked: 138****1234, once it was sent to); "
                       "null: nobody could be reached"})
    case_id = fields.String(allow_none=True)
    case_number = fields.String(allow_none=True, metadata={
        "description": "the case's number (案件编号), when the notice is about one"})
    event_id = fields.String()
    event_type = fields.String()
    subject = fields.String(allow_none=True)
    body = fields.String(allow_none=True, metadata={"description": "as sent (rendered at the first attempt)"})
    segments = fields.Integer(allow_none=True, metadata={"description": "SMS parts, signature included"})
    text = fields.Nested(NoticeText, allow_none=True, metadata={
        "description": "the notice in full as its e-mail reads (a complainant's: its SMS), dated the day it was "
                       "queued, whether or not a channel carried it (what a unit reads on the console; a "
                       "supervision letter names its 文号)"})
    status = fields.String(required=True, metadata={"description": ", ".join(notices.STATUSES)})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    provider_message_id = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    replied_at = fields.DateTime(allow_none=True)


class NoticeWithLog(Notice):
    log = fields.List(fields.Nested(Attempt))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _read(notice: dict) -> dict:
    """The notice with its full text (`text`); its stored facts (`context`) stay here."""
    office = current_app.extensions["zf_settings"].notice_office
    context = notice.pop("context")
    return {**notice, "text": notice_text.reading(notice["kind"], context, notice["created_at"], office=office,
                                                  tracking=trackingcode.of_app())}


def _visible(notice: dict | None) -> dict:
    """A unit sees its own unit's notices; nobody learns that others exist."""
    who = principal()
    if notice is None or (who.role == "unit" and notice["unit"] != who.unit):
        raise NotFound("没有这条通知", code="notice.not_found")
    return notice


@blp.route("")
class Notices(MethodView):
    @blp.roles("office", "auditor", "unit")
    @blp.arguments(NoticeQuery, location="query")
    @blp.response(200, Notice(many=True))
    def get(self, query):
        """Notices, newest first: filter by case, unit, kind, status, channel, audience."""
        who = principal()
        if who.role == "unit":
            if query.get("unit") not in (None, who.unit):
                raise Forbidden(f"{who.unit}只能查看本单位的通知", code="notice.not_your_unit")
            query["unit"] = who.unit
        limit, offset = query.pop("limit"), query.pop("offset")
        with current_app.extensions["zf_pool"].connection() as conn:
            return [_read(n) for n in store.listed(conn, query, limit=limit, offset=offset)]


@blp.route("/<int:notice_id>")
class OneNotice(MethodView):
    @blp.roles("office", "auditor", "unit")
    @blp.response(200, NoticeWithLog)
    def get(self, notice_id):
        """A notice with every attempt to send it."""
        with current_app.extensions["zf_pool"].connection() as conn:
            notice = _visible(store.get(conn, notice_id))
            return {**_read(notice), "log": store.attempts(conn, notice_id)}


@blp.route("/<int:notice_id>/retry", methods=["POST"])
@blp.roles("office")
@blp.response(202, NoticeWithLog)
def retry(notice_id):
    """Send a failed, not configured or unknown notice again, from the start of the retry schedule. An
    `unknown` one may already have reached its recipient: the sender stopped while it was out."""
    with current_app.extensions["zf_pool"].connection() as conn:
        try:
            notice = handlers.retry(conn, notice_id, _now())
        except handlers.NotRetryable as exc:
            raise Conflict(str(exc), code="notice.not_retryable", state=exc.status,
                           allowed=list(notices.RETRYABLE)) from None
        if notice is None:
            raise NotFound("没有这条通知", code="notice.not_found")
        conn.commit()
        return {**_read(notice), "log": store.attempts(conn, notice_id)}


# -- SMS replies -----------------------------------------------------------------------------------
class ReplyIn(Schema):
    from_ = fields.String(data_key="from", required=True, validate=validate.Length(min=3, max=40))
    text = fields.String(required=True, validate=validate.Length(max=1000))
    ext = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    received_at = fields.String(load_default=None, allow_none=True)


class ReplyAnswer(Schema):
    outcome = fields.String(required=True, metadata={
        "description": "recorded, already_rated, unreadable, unknown_code, not_the_complainant, erased, unknown_case, "
                       "refused; for an enforcement action's rating request: not_the_party, expired"})
    case_id = fields.String(allow_none=True)
    satisfaction = fields.String(allow_none=True)


@replies.record_once
def _configure(state) -> None:
    settings = state.app.extensions["zf_settings"]
    try:
        state.app.extensions[SECRETS] = webhooks.parse_secrets(settings.sms_reply_secrets)
    except ValueError as exc:
        raise ConfigError(f"ZF_SMS_REPLY_SECRETS: {exc}") from None
    state.app.extensions["zf_intake"] = IntakeClient(settings.intake_url, jwks.signer(settings), settings.notice_timeout)
    unauthenticated(state.app, REPLY_PATH)


def _signed_reply() -> tuple[str, dict]:
    secrets = current_app.extensions[SECRETS]
    if not secrets:
        raise Unavailable("短信回复尚未配置：须由正风办设置 ZF_SMS_REPLY_SECRETS", code="sms_reply.not_configured")
    request.max_content_length = MAX_REPLY
    try:
        body = request.get_data()
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"一条回复最多 {MAX_REPLY // 1024} KiB", code="sms_reply.too_large") from None
    try:
        webhook_id = webhooks.verify(secrets, request.headers, body, time.time())
    except webhooks.WebhookVerificationError as exc:
        raise Unauthorized(exc.detail, code=f"webhook.{exc.check}", reason=exc.reason, check=exc.check) from None
    doc = decode_json(body)
    try:
        return webhook_id, ReplyIn().load(doc if isinstance(doc, dict) else {})
    except SchemaError as exc:
        raise Unprocessable("短信回复以下字段有误：" + "、".join(sorted(exc.normalized_messages())),
                            code="sms_reply.invalid", errors=exc.normalized_messages()) from None


@replies.route("/replies", methods=["POST"])
@replies.response(200, ReplyAnswer)
@replies.doc(security=[], requestBody={"required": True, "content": {"application/json": {"schema": ReplyIn}}},
             parameters=[{"in": "header", "name": h, "required": True, "schema": {"type": "string"}}
                         for h in ("webhook-id", "webhook-timestamp", "webhook-signature")])
def sms_reply():
    """A complainant's reply to a visit request ("回复1满意 2基本满意 3不满意"), from the gateway: recorded on
    intake as the case's return visit when it carries the request's code (`ext`, or typed after the
    digit) and comes from the number the request went to. Answered 200 whatever the reply said (the
    gateway must not send it again); 503 while intake cannot be reached (it should)."""
    webhook_id, reply = _signed_reply()
    with current_app.extensions["zf_pool"].connection() as conn:
        try:
            row = handlers.handle_reply(conn, current_app.extensions["zf_intake"], webhook_id, reply["from_"],
                                        reply["text"], reply["ext"], _now(), keys=enforcement.keys())
        except IntakeUnavailable as exc:
            raise Unavailable("受理服务暂时无法访问，回复暂未记录，请稍后重发", code="intake_unavailable",
                              reason=str(exc)) from None
        conn.commit()
    return row
