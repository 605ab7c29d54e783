"""Departments' systems: API clients (intake) and webhook subscriptions (notify). A key or secret is shown
once, on the answer that made it, and never again."""
from __future__ import annotations

import uuid

from flask import Blueprint, request

from ..adapters import intake, notify
from ..adapters.services import ServiceError
from . import forms, web
from .web import FormErrors, roles

bp = Blueprint("integrations", __name__, url_prefix="/integrations")


@bp.route("", methods=["GET", "POST"])
@roles("office")
def index():
    s, errors, shown = web.services(), None, None
    if request.method == "POST":
        action, key = request.form.get("action", ""), request.form.get("idem") or str(uuid.uuid4())
        target = request.form.get("id", "")
        try:
            if action == "client":
                body = forms.without_empty({**forms.text("department", "unit", "channel"),
                                            "rate_per_minute": forms.number("rate_per_minute")})
                answer = intake.create(s, "clients", body, key)
                shown = ("接口客户端密钥", answer.get("key"))
            elif action in ("rotate", "revoke"):
                body = forms.text("reason") if action == "revoke" else {}
                answer = intake.step(s, "clients", target, action, body, key)
                shown = ("新的接口客户端密钥", answer.get("key")) if action == "rotate" else None
            elif action == "subscribe":
                body = forms.without_empty(forms.text("unit", "url", "description"))
                shown = ("订阅签名密钥", notify.subscribe(s, body, key).get("secret"))
            elif action in ("disable", "enable", "test", "rotate-secret"):
                answer = notify.subscription_step(s, target, action, key)
                shown = ("新的订阅签名密钥", answer.get("secret")) if action == "rotate-secret" else None
        except ServiceError as exc:
            if exc.status not in (404, 409, 422):
                raise
            errors = FormErrors.of(exc)
    return web.page("integrations/index.html", 422 if errors else 200, clients=intake.listing(s, "clients")["clients"],
                    subscriptions=notify.subscriptions(s), directory=intake.directory(s), errors=errors, shown=shown,
                    idem=str(uuid.uuid4()))
