"""Fan-out in the consumer's transaction: each case event updates the watched case and queues one
message per matching endpoint. The tracking row (processed_events) commits with both, so an event
is queued exactly once however often Kafka redelivers it; the dispatcher sends the messages later.

The rebuild (`notify.entrypoints.rebuild`) folds past events with repository.apply alone: replaying
the trail must not send years of webhooks again.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import psycopg

from zfcommon.events import Event
from zfcommon.events.envelope import CONTENT_TYPE as CLOUDEVENT

from ..adapters import deliveries, repository, subscriptions
from ..domain import hotline, watch, webhooks
from . import notices

HOTLINE = "hotline"       # the endpoint name in hotline webhook-ids


def on_event(conn: psycopg.Connection, event: Event, *, hotline_on: bool, poll: repository.Poll | None = None) -> None:
    change = repository.apply(conn, event, poll)
    notices.on_event(conn, event, change)      # email/SMS notices to units and hotline complainants
    if change is None:
        return
    before, after = change
    now = datetime.now(timezone.utc)
    key = webhooks.event_key(event)
    common = {"case_id": event.subject, "event_id": key, "event_type": event.type, "created_at": now}
    units = webhooks.recipients(before, after)
    if units:
        body = webhooks.event_body(event, watch.case_number(after))
        for sub_id in subscriptions.matching(conn, units, event.type):
            deliveries.enqueue(conn, {**common, "id": webhooks.message_id(sub_id, key), "subscription_id": sub_id,
                                      "content_type": CLOUDEVENT, "body": body})
    joined = repository.get(conn, after["view"]["merged_into"]) if after["status"] == "merged" else None
    callback = hotline.callback(before, after, event, joined) if hotline_on else None
    if callback:
        deliveries.enqueue(conn, {**common, "id": webhooks.message_id(HOTLINE, key), "subscription_id": None,
                                  "content_type": hotline.CONTENT_TYPE, "body": callback})


def applier(hotline_on: bool) -> Callable[[psycopg.Connection, Event], None]:
    """The consumer's apply function."""
    return lambda conn, event: on_event(conn, event, hotline_on=hotline_on)


def batch_applier(hotline_on: bool) -> Callable[[psycopg.Connection, list[Event]], None]:
    """The consumer's apply function for a poll's fresh events: the watched cases they touch read and
    locked in one statement, then each event in order as `applier` would. (Pipeline mode was
    measured here and cost more than it saved: too many of these statements read their answer.)"""
    def apply_batch(conn: psycopg.Connection, events: list[Event]) -> None:
        poll = repository.lock(conn, {e.subject for e in events})
        for event in events:
            on_event(conn, event, hotline_on=hotline_on, poll=poll)
        poll.finish(conn)
    return apply_batch
