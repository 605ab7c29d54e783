"""Managing webhook subscriptions and their deliveries: who may, and what each command does.

The office manages every subscription; a unit manages and reads its own unit's only (another unit's
are 404 to it, as if they did not exist); auditors read all.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg

from zfcommon.auth import Principal
from zfcommon.events.envelope import CONTENT_TYPE as CLOUDEVENT
from zfcommon.sealing import Envelope
from zfcommon.webhooks import new_secret, url_problem

from ..adapters import deliveries, subscriptions
from ..domain import webhooks

Row = dict[str, Any]
DEFAULT_GRACE_HOURS = 24     # how long the previous secret still signs after a rotation


class NotFound(Exception):
    pass


class Refused(Exception):
    pass


class Invalid(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("；".join(f"{k}：{'，'.join(v)}" for k, v in errors.items()))
        self.errors = errors


class Disabled(Exception):
    """The subscription is disabled: enable it before sending to it."""


def may_see(who: Principal, sub: Row) -> bool:
    return who.role in ("office", "auditor") or (who.role == "unit" and sub["unit"] == who.unit)


def load(conn: psycopg.Connection, who: Principal, sub_id: str, *, lock: bool = False) -> Row:
    sub = subscriptions.get(conn, sub_id, lock=lock)
    if sub is None or not may_see(who, sub):
        raise NotFound(f"没有订阅 {sub_id}")
    return sub


def create(conn: psycopg.Connection, who: Principal, body: Row, now: datetime, envelope: Envelope) -> Row:
    """A new subscription; the answer carries its secret, the only time it is ever shown."""
    if who.role == "unit" and body["unit"] != who.unit:
        raise Refused(f"{who.unit}的令牌只能为本单位订阅")
    errors = {}
    problem = url_problem(body["url"])
    if problem:
        errors["url"] = [problem]
    types = body.get("event_types")
    unknown = sorted(set(types or ()) - set(webhooks.EVENT_TYPES))
    if unknown:
        errors["event_types"] = [f"不是案件事件类型：{'、'.join(unknown)}（见 docs/EVENTS.md）"]
    if errors:
        raise Invalid(errors)
    row = {"id": f"sub_{uuid.uuid4().hex}", "unit": body["unit"], "url": body["url"],
           "event_types": sorted(set(types)) if types else None, "description": body.get("description"),
           "secret": new_secret(), "created_at": now, "created_by": who.actor}
    return {**subscriptions.create(conn, row, envelope), "secret": row["secret"]}


def rotate_secret(conn: psycopg.Connection, who: Principal, sub_id: str, grace_hours: int, now: datetime,
                  envelope: Envelope) -> Row:
    """A new secret, shown once; the old one keeps signing beside it for `grace_hours`, so the
    receiver can switch without losing a message."""
    load(conn, who, sub_id, lock=True)
    subscriptions.seal_clear(conn, envelope, sub_id)     # a row from before migration 0050 the dispatcher missed
    secret = new_secret()
    return {**subscriptions.rotate(conn, sub_id, secret, timedelta(hours=grace_hours), now, envelope), "secret": secret}


def set_active(conn: psycopg.Connection, who: Principal, sub_id: str, active: bool, now: datetime) -> Row:
    load(conn, who, sub_id, lock=True)
    return subscriptions.enable(conn, sub_id, now) if active else subscriptions.disable(conn, sub_id, "manual", now)


def redeliver(conn: psycopg.Connection, who: Principal, sub_id: str, delivery_id: str, now: datetime) -> Row:
    """Send a message again (dead-lettered, failing or even delivered) under its webhook-id."""
    sub = load(conn, who, sub_id, lock=True)
    found = deliveries.get(conn, delivery_id)
    if found is None or found["subscription_id"] != sub_id:
        raise NotFound(f"订阅 {sub_id} 没有投递记录 {delivery_id}")
    if not sub["active"]:
        raise Disabled(f"订阅 {sub_id} 已停用（{sub['disabled_reason']}），请先启用")
    return deliveries.redeliver(conn, delivery_id, now)


def redeliver_callback(conn: psycopg.Connection, delivery_id: str, now: datetime) -> Row:
    found = deliveries.get(conn, delivery_id)
    if found is None or found["subscription_id"] is not None:
        raise NotFound(f"没有热线回调 {delivery_id}")
    return deliveries.redeliver(conn, delivery_id, now)


def ping(conn: psycopg.Connection, who: Principal, sub_id: str, now: datetime) -> Row:
    """Queue a test message (type cn.zhengfeng.webhook.ping.v1), delivered and logged like any other."""
    sub = load(conn, who, sub_id)
    if not sub["active"]:
        raise Disabled(f"订阅 {sub_id} 已停用（{sub['disabled_reason']}），请先启用")
    msg_id = webhooks.message_id(sub_id, f"ping:{uuid.uuid4()}")
    deliveries.enqueue(conn, {"id": msg_id, "subscription_id": sub_id, "case_id": None, "event_id": None,
                              "event_type": webhooks.PING_TYPE, "content_type": CLOUDEVENT, "created_at": now,
                              "body": webhooks.ping_body(sub_id, msg_id, now, who.actor)})
    return deliveries.get(conn, msg_id)
