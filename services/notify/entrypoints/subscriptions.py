"""Webhook subscriptions of units, their delivery logs, and the hotline's status callbacks."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import psycopg
from flask import current_app, url_for
from flask.views import MethodView

from zfcommon.blueprint import Blueprint
from zfcommon.problem import Conflict, Forbidden, NotFound, Unprocessable
from zfcommon.web import principal

from ..adapters import deliveries, subscriptions
from ..service_layer import subscriptions as handlers
from .commands import idempotent
from .webhook_schemas import (Delivery, DeliveryQuery, RotateIn, Subscription, SubscriptionIn, SubscriptionQuery,
                              SubscriptionWithSecret)

blp = Blueprint("subscriptions", __name__, url_prefix="/v1/subscriptions",
                description="Units' webhook subscriptions (Standard Webhooks) and their delivery logs")
callbacks = Blueprint("hotline_callbacks", __name__, url_prefix="/v1/hotline-callbacks",
                      description="Status callbacks to the 12345 hotline and their delivery log")
IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}
READERS = ("office", "auditor", "unit")
SECRETS = "zf_secrets"      # notify's master key (zfcommon.sealing.Envelope): seals webhook secrets at rest
MANAGERS = ("office", "unit")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _problems(fn):
    try:
        return fn()
    except handlers.NotFound as exc:
        raise NotFound(str(exc), code="subscription.not_found") from None
    except handlers.Refused as exc:
        raise Forbidden(str(exc), code="subscription.not_your_unit") from None
    except handlers.Invalid as exc:
        raise Unprocessable(str(exc), code="subscription.invalid", errors=exc.errors) from None
    except handlers.Disabled as exc:
        raise Conflict(str(exc), code="subscription.disabled", state="disabled", allowed=["enable"]) from None


def _command(fn: Callable[[psycopg.Connection], tuple[int, dict, dict]]):
    """Run fn(conn) in one transaction under the request's Idempotency-Key (zfcommon.idempotency);
    bodies are dumped before they are stored, so a replay answers the same JSON."""
    return idempotent(lambda u: _problems(lambda: fn(u.conn)))


def _read(fn):
    with current_app.extensions["zf_pool"].connection() as conn:
        return _problems(lambda: fn(conn))


@blp.route("")
class Subscriptions(MethodView):
    @blp.roles(*MANAGERS)
    @blp.arguments(SubscriptionIn)
    @blp.alt_response(201, schema=SubscriptionWithSecret, description="created; the secret is shown only here")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Subscribe a unit's endpoint to events of the cases it leads or cooperates on."""

        def create(conn):
            sub = handlers.create(conn, principal(), body, _now(), current_app.extensions[SECRETS])
            return 201, SubscriptionWithSecret().dump(sub), {"Location": url_for("subscriptions.One", sub_id=sub["id"])}
        return _command(create)

    @blp.roles(*READERS)
    @blp.arguments(SubscriptionQuery, location="query")
    @blp.response(200, Subscription(many=True))
    def get(self, query):
        """Subscriptions: all of them for the office and auditors, a unit's own for a unit."""
        who = principal()
        return _read(lambda conn: subscriptions.listed(conn, who.unit if who.role == "unit" else query.get("unit")))


@blp.route("/<sub_id>")
class One(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, Subscription)
    def get(self, sub_id):
        """One subscription (never its secret)."""
        return _read(lambda conn: handlers.load(conn, principal(), sub_id))


def _subscription_command(sub_id: str, fn, schema=Subscription, status: int = 200):
    return _command(lambda conn: (status, schema().dump(fn(conn, principal(), sub_id, _now())), {}))


@blp.route("/<sub_id>/rotate-secret")
class Rotate(MethodView):
    @blp.roles(*MANAGERS)
    @blp.arguments(RotateIn)
    @blp.alt_response(200, schema=SubscriptionWithSecret, description="the new secret, shown only here")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body, sub_id):
        """A new secret; the old one keeps signing beside it (two signatures) for grace_hours."""
        return _subscription_command(sub_id, lambda c, w, s, n: handlers.rotate_secret(
            c, w, s, body["grace_hours"], n, current_app.extensions[SECRETS]),
                                     SubscriptionWithSecret)


@blp.route("/<sub_id>/<any(enable, disable):action>")
class Switch(MethodView):
    @blp.roles(*MANAGERS)
    @blp.alt_response(200, schema=Subscription)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, sub_id, action):
        """disable: nothing new is queued and pending messages wait; enable: they are due at once."""
        return _subscription_command(sub_id, lambda c, w, s, n: handlers.set_active(c, w, s, action == "enable", n))


@blp.route("/<sub_id>/test")
class Ping(MethodView):
    @blp.roles(*MANAGERS)
    @blp.alt_response(202, schema=Delivery, description="queued; its attempts show in the delivery log")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, sub_id):
        """Send a test message (cn.zhengfeng.webhook.ping.v1) to the endpoint."""
        return _subscription_command(sub_id, handlers.ping, Delivery, 202)


@blp.route("/<sub_id>/deliveries")
class Deliveries(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(DeliveryQuery, location="query")
    @blp.response(200, Delivery(many=True))
    def get(self, query, sub_id):
        """The delivery log: newest first, each message with every attempt (time, status code,
        duration, error, next attempt)."""

        def log(conn):
            handlers.load(conn, principal(), sub_id)
            return deliveries.listed(conn, sub_id, status=query.get("status"), limit=query["limit"])
        return _read(log)


@blp.route("/<sub_id>/deliveries/<delivery_id>/redeliver")
class Redeliver(MethodView):
    @blp.roles(*MANAGERS)
    @blp.alt_response(202, schema=Delivery)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, sub_id, delivery_id):
        """Send a message again from the start of the retry schedule, under the same webhook-id."""
        return _subscription_command(sub_id, lambda c, w, s, n: handlers.redeliver(c, w, s, delivery_id, n),
                                     Delivery, 202)


@callbacks.route("")
class Callbacks(MethodView):
    @callbacks.roles("office", "auditor")
    @callbacks.arguments(DeliveryQuery, location="query")
    @callbacks.response(200, Delivery(many=True))
    def get(self, query):
        """Status callbacks sent to the hotline, newest first, with every attempt."""
        return _read(lambda conn: deliveries.listed(conn, None, status=query.get("status"), limit=query["limit"]))


@callbacks.route("/<delivery_id>/redeliver")
class CallbackRedeliver(MethodView):
    @callbacks.roles("office")
    @callbacks.alt_response(202, schema=Delivery)
    @callbacks.doc(parameters=[IDEMPOTENCY])
    def post(self, delivery_id):
        """Send a callback again from the start of the retry schedule."""
        return _command(lambda conn: (202, Delivery().dump(handlers.redeliver_callback(conn, delivery_id, _now())), {}))
