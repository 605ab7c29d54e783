"""Signed inbound webhooks: the 12345 hotline's work orders (docs/CHANNELS.md, "Hotline webhook (inbound)").

The hotline holds no bearer token: it signs every delivery (Standard Webhooks) with a secret the
office gave it, so this path is exempt from the JWT check and verified against the raw body instead.
A retry carries the same webhook-id and gets the first answer; the same work order sent again under
a new webhook-id finds the case it already became.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate
from werkzeug.exceptions import RequestEntityTooLarge

from zfcommon import logs, trackingcode, webhooks
from zfcommon.blueprint import Blueprint
from zfcommon.inputs import decode_json
from zfcommon.problem import PayloadTooLarge, Unauthorized, Unavailable, Unprocessable, UnsupportedMediaType
from zfcommon.settings import ConfigError
from zfcommon.web import unauthenticated

from ..domain import hotline
from ..service_layer import handlers
from ..service_layer import hotline as service
from zfcommon.idempotency import request_hash, run_command
from .common import command_uow, problems
from .schemas import TRACKING_CODE

blp = Blueprint("hooks", __name__, url_prefix="/v1/hooks",
                description="Signed inbound webhooks (Standard Webhooks signatures instead of a bearer token)")
PATH = "/v1/hooks/hotline"
MAX_BODY = 256 * 1024
PRINCIPAL = "hotline-webhook"          # whose webhook-ids the idempotency store keeps
ACTOR = f"channel:{PRINCIPAL}"         # recorded on the events the hotline causes
SECRETS = "zf_hotline_secrets"         # app.extensions key: the parsed ZF_HOTLINE_WEBHOOK_SECRETS
CHINA = ZoneInfo("Asia/Shanghai")      # a 受理时间 without a zone is the hotline's local time


class _Order(Schema):
    class Meta:
        unknown = EXCLUDE      # the hotline adds fields over time; they must not bounce its orders


def _optional(length: int, **kw):
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=length), **kw)


class OrderHead(_Order):
    order_no = fields.String(data_key="工单编号", required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(data_key="诉求类型", required=True, validate=validate.Length(min=1, max=20))


class HotlineAttachmentIn(_Order):
    name = fields.String(data_key="名称", required=True, validate=validate.Length(min=1, max=200))
    url = fields.Url(data_key="地址", required=True, schemes={"http", "https"})


class WorkOrderIn(OrderHead):
    """A 12345 work order (工单); only 投诉 and 举报 need more than 工单编号 and 诉求类型."""
    received_at = fields.AwareDateTime(data_key="受理时间", required=True, default_timezone=CHINA)
    intake_channel = _optional(50, data_key="受理渠道")
    caller = _optional(100, data_key="来电人")
    phone = _optional(50, data_key="联系电话")     # sealed as given: hotlines write numbers many ways
    id_number = _optional(30, data_key="证件号码")  # sealed as given; masked wherever the text quotes it
    confidential = fields.Boolean(data_key="是否保密", load_default=True)
    title = _optional(200, data_key="诉求标题")
    content = fields.String(data_key="诉求内容", required=True, validate=validate.Length(min=1))
    address = _optional(500, data_key="事发地址")
    lon = fields.Float(data_key="经度", load_default=None, allow_none=True, allow_nan=False,
                       validate=validate.Range(min=-180, max=180))
    lat = fields.Float(data_key="纬度", load_default=None, allow_none=True, allow_nan=False,
                       validate=validate.Range(min=-90, max=90))
    suggested_unit = fields.String(data_key="建议承办单位", required=True, validate=validate.Length(min=1, max=200))
    urgency = fields.String(data_key="紧急程度", load_default="一般", validate=validate.OneOf(list(hotline.PRIORITIES)))
    time_limit_workdays = fields.Integer(data_key="办理时限(工作日)", load_default=None, allow_none=True, strict=True,
                                         validate=validate.Range(min=1, max=365))
    attachments = fields.List(fields.Nested(HotlineAttachmentIn), data_key="附件", load_default=list,
                              validate=validate.Length(max=50))
    category = _optional(100, data_key="问题类别")

    @post_load
    def _order(self, data, **_):
        blank = {k: None for k in ("intake_channel", "caller", "phone", "id_number", "title", "address", "category")
                 if not (data.get(k) or "").strip()}
        return hotline.WorkOrder(**{**data, **blank,
                                    "attachments": tuple(hotline.Attachment(**a) for a in data["attachments"])})


class HookAnswer(Schema):
    case_id = fields.String(allow_none=True, metadata={"description": "null when no case was opened"})
    case_number = fields.String(allow_none=True, metadata={"description": "the case's human number (案件编号)"})
    order_no = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "the case's status, or not_a_case"})
    tracking_code = fields.String(allow_none=True, metadata={"description": TRACKING_CODE})
    reason = fields.String(metadata={"description": "why no case was opened"})


@blp.record_once
def _configure(state) -> None:
    """Parse the secrets once, at start-up: a malformed one stops intake instead of failing every delivery."""
    try:
        secrets = webhooks.parse_secrets(state.app.extensions["zf_settings"].hotline_webhook_secrets)
    except ValueError as exc:
        raise ConfigError(f"ZF_HOTLINE_WEBHOOK_SECRETS: {exc}") from None
    state.app.extensions[SECRETS] = secrets
    unauthenticated(state.app, PATH)


def _signed_body() -> tuple[str, bytes]:
    """The raw body and its webhook-id, once the signature over exactly those bytes holds."""
    secrets = current_app.extensions[SECRETS]
    if not secrets:
        raise Unavailable("12345 热线的 webhook 尚未配置：须由正风办设置 ZF_HOTLINE_WEBHOOK_SECRETS",
                          code="hotline.not_configured")
    request.max_content_length = MAX_BODY     # also bounds a chunked body that announces no length
    try:
        body = request.get_data()
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"一份工单最多 {MAX_BODY // 1024} KiB", code="hotline.too_large") from None
    try:
        now = current_app.extensions["zf_clock"].now().timestamp()
        return webhooks.verify(secrets, request.headers, body, now), body
    except webhooks.WebhookVerificationError as exc:
        raise Unauthorized(exc.detail, code=f"webhook.{exc.check}", reason=exc.reason, check=exc.check) from None


def _document(body: bytes) -> dict:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(f"工单须以 application/json 提交，收到的是 {request.mimetype or '未声明类型的内容'}",
                                   code="request.unsupported_media_type", received=request.mimetype or None,
                                   expected=["application/json"])
    doc = decode_json(body)
    if not isinstance(doc, dict):
        raise Unprocessable("工单须为 JSON 对象", code="hotline.not_an_object", errors={"json": ["须为 JSON 对象"]})
    return doc


def _load(schema: Schema, doc: dict):
    try:
        return schema.load(doc)
    except ValidationError as exc:
        errors = exc.normalized_messages()
        raise Unprocessable("工单以下字段有误：" + "、".join(sorted(errors)), code="hotline.invalid_order",
                            errors=errors) from None


def _receive(order: hotline.WorkOrder):
    ctx = handlers.Context(actor=ACTOR, correlation_id=logs.correlation_id.get() or "",
                           now=current_app.extensions["zf_clock"].now(), role="channel")
    default = current_app.extensions["zf_settings"].hotline_default_category

    def answer(u):
        try:
            case, opened = service.receive_order(u, order, ctx, default)
        except hotline.NoDefaultCategory as exc:
            raise Unavailable(str(exc), code=exc.code) from None
        logs.case_id.set(case.case_id)
        answer = {"case_id": case.case_id, "case_number": case.case_number, "order_no": order.order_no,
                  "status": case.status, "tracking_code": trackingcode.of_app().code_for(case.case_id)}
        if opened:
            return 201, answer, {"Location": url_for("cases.Case", case_id=case.case_id)}
        return 200, answer, {}
    return answer


def _acknowledge(order_no: str, reason: str):
    return lambda u: (200, {"case_id": None, "order_no": order_no, "status": "not_a_case", "reason": reason}, {})


@blp.route("/hotline", methods=["POST"])
@blp.response(201, HookAnswer, description="a case was opened for the work order")
@blp.alt_response(200, schema=HookAnswer, description="the order's existing case, or why no case was opened")
@blp.doc(security=[], requestBody={"required": True, "content": {"application/json": {"schema": WorkOrderIn}}},
         parameters=[{"in": "header", "name": h, "required": True, "schema": {"type": "string"}}
                     for h in ("webhook-id", "webhook-timestamp", "webhook-signature")])
def hotline_order():
    """A 12345 work order (Standard Webhooks signed; no bearer token). 投诉 and 举报 become cases."""
    webhook_id, body = _signed_body()
    doc = _document(body)
    head = _load(OrderHead(), doc)
    reason = hotline.not_a_case_reason(head["kind"])
    command = _acknowledge(head["order_no"], reason) if reason else _receive(_load(WorkOrderIn(), doc))
    status, answer, headers = run_command(command_uow, PRINCIPAL, webhook_id, request_hash("POST", PATH, body),
                                          command, key_name="webhook-id", errors=problems)
    return answer, status, headers
