"""Outbound webhooks, pure: who receives a case event, the message they get, and when to try again.

Standard Webhooks (shared/CONTRACTS.md): 2xx delivered; 410 the endpoint is gone (disable it); 429, 502
and 504 back off and honour Retry-After; anything else (3xx included) is a failure, retried on the
spec's schedule with jitter until it runs out, then the message is dead-lettered.
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Iterable

from zfcommon import caseview, outsiders
from zfcommon.events import Event
from zfcommon.webhooks import RETRY_SCHEDULE

from . import watch

EVENT_TYPES = caseview.CASE_TYPES          # what a subscription may filter on
PING_TYPE = "cn.zhengfeng.webhook.ping.v1"  # a ping: never on Kafka, so not in the catalogue
BACK_OFF = frozenset({429, 502, 504})
JITTER = 0.2                                # each delay is drawn within ±20% of the schedule's
LONGEST_RETRY_AFTER = 24 * 3600             # a receiver cannot park a message longer than the spec's last step


def recipients(before: dict[str, Any] | None, after: dict[str, Any]) -> set[str]:
    """Units whose subscriptions get an event: the case's lead and cooperating units after it, and
    also before it, so a unit a reassignment takes the case from hears of it (and stops work)."""
    return watch.units(before) | watch.units(after)


def wants(event_types: Iterable[str] | None, event_type: str) -> bool:
    return event_types is None or event_type in event_types


def matching(subscriptions: Iterable[dict[str, Any]], units: set[str], event_type: str) -> list[str]:
    """Ids of the subscriptions (active ones, as {id, unit, event_types}) of `units` that want
    `event_type`, in the order given."""
    return [s["id"] for s in subscriptions if s["unit"] in units and wants(s["event_types"], event_type)]


def message_id(endpoint: str, event_key: str) -> str:
    """The webhook-id of one event to one endpoint: the same on every retry and redelivery, so the
    receiver can recognise a message it already has."""
    return "msg_" + hashlib.sha256(f"{endpoint}\n{event_key}".encode()).hexdigest()[:32]


def event_key(event: Event) -> str:
    return f"{event.source}#{event.id}"


def _body(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


# The case's number (案件编号) on every message about a case: a CloudEvents extension attribute, whose
# names are lower-case letters and digits only, hence `casenumber` for the API's `case_number`.
CASE_NUMBER_ATTRIBUTE = "casenumber"


def event_body(event: Event, case_number: str | None) -> str:
    """The event as a structured CloudEvent with the case's number and its data as outsiders read it
    (zfcommon.outsiders): never the sealed complainant data, even encrypted (erasure could not reach a
    copy outside Zhengfeng), and every free text masked, the received description replaced by the summary."""
    document = event.to_dict()
    document["data"] = outsiders.event_data(event.type, event.data)
    if case_number:
        document[CASE_NUMBER_ATTRIBUTE] = case_number
    return _body(document)


def ping_body(subscription_id: str, msg_id: str, at: datetime, actor: str) -> str:
    return _body({"specversion": "1.0", "id": msg_id, "source": "/zhengfeng/notify", "type": PING_TYPE,
                  "subject": subscription_id, "time": at.isoformat(timespec="microseconds"),
                  "datacontenttype": "application/json", "actor": actor,
                  "data": {"subscription_id": subscription_id, "message": "测试消息：订阅地址可以接收正风台账的推送"}})


@dataclass(frozen=True)
class Verdict:
    outcome: str                 # delivered | retry | gone | dead
    delay: float | None = None   # seconds until the next attempt (retry only)


def verdict(status: int | None, attempts: int, *, retry_after: float | None = None, scale: float = 1.0,
            rng: random.Random | None = None) -> Verdict:
    """What an attempt's answer means. `attempts` counts this round's attempts, this one included;
    `status` is None when no answer came (timeout, refused connection)."""
    if status is not None and 200 <= status < 300:
        return Verdict("delivered")
    if status == 410:
        return Verdict("gone")
    if attempts >= len(RETRY_SCHEDULE):
        return Verdict("dead")
    delay = RETRY_SCHEDULE[attempts] * scale * (rng or random).uniform(1 - JITTER, 1 + JITTER)
    if status in BACK_OFF and retry_after is not None:
        # The receiver said how long it needs: never sooner than that (and not scaled: it is its wish).
        delay = max(delay, min(retry_after, LONGEST_RETRY_AFTER))
    return Verdict("retry", delay)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (RFC 9110: delay-seconds or an HTTP-date) in seconds from `now`."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None
