"""Open311 POST requests (docs/OPEN311.md): a form with a channel client's api_key becomes a case at
once, through the ordinary receive_case, under the client's rate limit and an optional Idempotency-Key."""
from __future__ import annotations

import uuid

from flask import current_app, request

from zfcommon import logs, ratelimit, trackingcode
from zfcommon.events.catalogue import CHANNELS

from ..adapters import clients
from ..adapters.clients import ApiClient
from ..domain import case as domain
from ..domain import open311, open311_submission
from ..domain.open311 import Open311Error
from ..service_layer import handlers
from zfcommon.idempotency import request_hash, run_command
from .common import command_uow, uow
from .open311_format import Refused, checked, render

FORM = "application/x-www-form-urlencoded"


def now():
    return current_app.extensions["zf_clock"].now()


def _client(form: dict[str, list[str]]) -> ApiClient:
    problems: list[tuple[str, str]] = []
    key = open311.single(form, "api_key", problems)
    if key is None:
        raise Open311Error(403, problems or [("api_key", "缺少 api_key(请作为表单字段提交,不要放在网址中)")])
    with uow() as u:
        client = clients.authenticate(u.conn, key, now())
    if client is None:
        raise Open311Error(403, [("api_key", "api_key 无效、已过期或已被撤销")])
    if client.role != "channel" or client.channel not in CHANNELS:
        raise Open311Error(403, [("api_key", "此 api_key 不能提交问题线索:须为正风办签发的渠道接入密钥")])
    return client


def _limit(client: ApiClient) -> dict[str, str]:
    """The client's rate limit, shared with its bearer tokens (zfcommon.ratelimit); 429 over it."""
    with current_app.extensions["zf_pool"].connection(timeout=ratelimit.POOL_TIMEOUT) as conn:
        verdict = ratelimit.hit(conn, client.client_id, client.rate_per_minute)
    if not verdict.allowed:
        raise Refused(429, [("api_key", f"提交过于频繁:每分钟最多{verdict.limit}次,请{verdict.reset}秒后再试")],
                      {"Retry-After": str(verdict.reset), **verdict.headers()})
    return verdict.headers()


def create_request(fmt):
    """Submit a lead: application/x-www-form-urlencoded, with a channel client's api_key."""
    checked(fmt)
    if request.mimetype != FORM:
        raise Open311Error(400, [("Content-Type", f"请以 {FORM} 提交表单(收到 {request.mimetype or '空'})")])
    # Read the raw body before the form: once werkzeug has parsed a form, get_data() is empty.
    digest = request_hash(request.method, request.path, request.get_data())
    form = request.form.to_dict(flat=False)
    client = _client(form)
    limits = _limit(client)

    def receive(u) -> tuple[int, list[dict], dict[str, str]]:
        sub = open311_submission.submission(handlers.load_directory(u), form)
        case_id = str(uuid.uuid4())
        origin = {"system": "open311", "ref": case_id, "parent": client.client_id,
                  **({"extra": sub.extra} if sub.extra else {})}
        cmd = domain.ReceiveComplaint(channel=client.channel, category=sub.category, description=sub.description,
                                      subject_unit=sub.subject_unit, priority=sub.priority, location=sub.location,
                                      complainant=sub.complainant, origin=origin)
        ctx = handlers.Context(actor=f"channel:{client.client_id}", correlation_id=logs.correlation_id.get() or "",
                               now=now(), role="channel")
        case_number = handlers.receive_case(cmd, u, ctx, case_id=case_id).case_number
        logs.case_id.set(case_id)
        code = trackingcode.of_app().code_for(case_id)
        return 200, [{"service_request_id": case_id, "service_notice": open311.receipt_notice(case_number, code),
                      "account_id": None, "case_number": case_number, "tracking_code": code}], {}

    status, body, headers = run_command(command_uow, f"open311:{client.client_id}",
                                        request.headers.get("Idempotency-Key"),
                                        digest, receive)
    return render(fmt, "service_requests", body, status, {**headers, **limits})
