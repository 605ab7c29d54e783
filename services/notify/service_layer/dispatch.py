"""Sending queued messages: one signed attempt per claimed delivery, logged, then delivered,
rescheduled or dead-lettered (domain.webhooks.verdict says which).

One call handles one delivery inside the caller's transaction, which holds the delivery's row lock
while the request is out: another worker cannot send it twice, and if this process dies mid-send the
lock goes with it and the delivery is simply tried again (receivers dedupe by webhook-id).
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import psycopg

from zfcommon.sealing import Envelope
from zfcommon.settings import ConfigError, Settings
from zfcommon.webhooks import parse_secrets, sign, url_problem

from ..adapters import deliveries, sender, subscriptions
from . import notices
from ..domain import webhooks

log = logging.getLogger(__name__)
Post = Callable[[str, bytes, dict[str, str], float], sender.Answer]


@dataclass(frozen=True)
class Config:
    secrets: Envelope                   # notify's master key: opens the subscriptions' sealed secrets
    timeout: float = 15.0
    scale: float = 1.0
    hotline_url: str = ""
    hotline_secrets: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> "Config":
        try:
            secrets = parse_secrets(settings.hotline_callback_secrets)
        except ValueError as exc:
            raise ConfigError(f"ZF_HOTLINE_CALLBACK_SECRETS: {exc}") from None
        if settings.hotline_callback_url and not secrets:
            raise ConfigError("ZF_HOTLINE_CALLBACK_URL is set: ZF_HOTLINE_CALLBACK_SECRETS must hold its whsec_ secret")
        problem = settings.hotline_callback_url and url_problem(settings.hotline_callback_url)
        if problem:
            raise ConfigError(f"ZF_HOTLINE_CALLBACK_URL {problem}")
        return cls(secrets=Envelope.from_setting(settings.notify_master_key, "ZF_NOTIFY_MASTER_KEY"),
                   timeout=settings.webhook_timeout, scale=settings.webhook_retry_scale,
                   hotline_url=settings.hotline_callback_url, hotline_secrets=secrets)


def deliver_one(conn: psycopg.Connection, config: Config, post: Post = sender.post,
                rng: random.Random | None = None) -> str | None:
    """Send the next due delivery once; returns the outcome (delivered, retry, gone, dead) or None
    when nothing is due. The caller commits."""
    now = datetime.now(timezone.utc)
    due = deliveries.claim(conn, now, hotline=bool(config.hotline_url))
    if due is None:
        return None
    to_hotline = due["subscription_id"] is None
    url = config.hotline_url if to_hotline else due["url"]
    keys = config.hotline_secrets if to_hotline else subscriptions.signing_secrets(conn, due["subscription_id"], now,
                                                                                   config.secrets)
    body = due["body"].encode()
    headers = {"Content-Type": due["content_type"], **sign(keys, due["id"], int(now.timestamp()), body).as_dict()}
    answer = post(url, body, headers, config.timeout)
    done = datetime.now(timezone.utc)
    attempts = due["attempts"] + 1
    verdict = webhooks.verdict(answer.status, attempts, scale=config.scale, rng=rng,
                               retry_after=webhooks.retry_after_seconds(answer.retry_after, done))
    next_at = done + timedelta(seconds=verdict.delay) if verdict.outcome == "retry" else None
    error = answer.error
    if verdict.outcome == "gone":
        error = f"{error}: the endpoint is gone" + ("" if to_hotline else "; subscription disabled")
    elif verdict.outcome == "dead":
        error = f"{error}; no attempt left: dead-lettered" + ("" if to_hotline else ", subscription disabled")
    deliveries.record(conn, due["id"], {"attempted_at": now, "status_code": answer.status,
                                        "duration_ms": answer.duration_ms, "error": error,
                                        "response": answer.response, "next_attempt_at": next_at},
                      status={"delivered": "delivered", "retry": "pending"}.get(verdict.outcome, "dead"),
                      attempts=attempts)
    if verdict.outcome in ("gone", "dead"):
        _endpoint_failed(conn, due, verdict.outcome, done)
    log.info("webhook_attempt", extra={"delivery": due["id"], "subscription": due["subscription_id"] or "hotline",
                                       "status": answer.status, "outcome": verdict.outcome, "attempt": attempts})
    return verdict.outcome


def _endpoint_failed(conn: psycopg.Connection, due: dict, outcome: str, now: datetime) -> None:
    """Gone (410) or out of attempts: a subscription is disabled and its unit is told by email in the
    same transaction (notices.webhook_disabled); the hotline's endpoint is the office's setting, so its
    failures are logged for the office, and the callbacks stay listed for redelivery."""
    if due["subscription_id"] is None:
        log.error("hotline_callback_dead_lettered", extra={"delivery": due["id"], "reason": outcome})
        return
    sub = subscriptions.disable(conn, due["subscription_id"], "gone" if outcome == "gone" else "failing", now)
    log.warning("webhook_subscription_disabled", extra={"subscription": sub["id"], "unit": sub["unit"],
                                                        "reason": sub["disabled_reason"], "delivery": due["id"]})
    notices.webhook_disabled(conn, sub, now)
