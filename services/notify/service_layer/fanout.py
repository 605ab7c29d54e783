"""Fan-out in the consumer's transaction: each case event updates the watched case, queues the notices
it calls for and one message per matching endpoint. The tracking row (processed_events) commits with
them, so an event is queued exactly once however often Kafka redelivers it; the dispatcher and the
sender send them later.

A poll's events are applied set-wise (`apply_events`): the watched cases they touch read and locked in
one statement and folded in memory (repository.Poll), the notices and messages of its case events
collected in event order and written at once (`Fanout`: the units and the subscriptions they need read
in one statement each, the rows in one pipelined round trip each). Any other event (a directory change,
an escalation step, a report, an erasure) first writes what was collected before it, then is applied
on its own, so it sees, and is seen by, the database as event-by-event application would leave it.

The rebuild (`notify.entrypoints.rebuild`) folds past events with repository.apply_batch alone:
replaying the trail must not send years of webhooks and notices again.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import psycopg

from zfcommon import caseview
from zfcommon.events import Event
from zfcommon.events.envelope import CONTENT_TYPE as CLOUDEVENT

from ..adapters import deliveries, repository, subscriptions
from ..domain import hotline, notices as notice_rules, watch, webhooks
from . import notices

HOTLINE = "hotline"       # the endpoint name in hotline webhook-ids
Row = dict[str, Any]


def collected(event: Event) -> bool:
    """Whether a poll collects `event`'s notices with its neighbours' (a case event that changes nothing
    but its own case), or applies them at once after what came before (notices.on_event)."""
    return event.type in caseview.CASE_TYPES and event.type != notice_rules.ERASED


class Fanout:
    """The notices and webhook messages of a run of events, in event order, written by `write`."""

    def __init__(self, hotline_on: bool):
        self.hotline_on = hotline_on
        self.wanted: list[tuple[Event, notice_rules.Wanted]] = []
        # event, its recipient units, the case's number, the hotline's callback
        self.messages: list[tuple[Event, set[str], str | None, str | None]] = []

    def add(self, conn: psycopg.Connection, event: Event, before: Row | None, after: Row, poll: repository.Poll,
            *, with_notices: bool) -> None:
        """Collect what `event`, which changed its case from `before` to `after`, calls for."""
        if with_notices:
            self.wanted.extend((event, w) for w in notice_rules.decide(event, before, after))
        units = webhooks.recipients(before, after)
        joined = poll.case(conn, after["view"]["merged_into"]) if after["status"] == "merged" else None
        callback = hotline.callback(before, after, event, joined) if self.hotline_on else None
        if units or callback:
            self.messages.append((event, units, watch.case_number(after), callback))

    def write(self, conn: psycopg.Connection) -> None:
        now = datetime.now(timezone.utc)
        if self.wanted:
            notices.queue_all(conn, self.wanted, now)
        if self.messages:
            units_all = set().union(*(units for _, units, _, _ in self.messages))
            wanting = subscriptions.active_of(conn, units_all) if units_all else []
            rows = []
            for event, units, case_number, callback in self.messages:
                key = webhooks.event_key(event)
                common = {"case_id": event.subject, "event_id": key, "event_type": event.type, "created_at": now}
                endpoints = webhooks.matching(wanting, units, event.type)
                body = webhooks.event_body(event, case_number) if endpoints else None
                rows += [{**common, "id": webhooks.message_id(sub_id, key), "subscription_id": sub_id,
                          "content_type": CLOUDEVENT, "body": body} for sub_id in endpoints]
                if callback:
                    rows.append({**common, "id": webhooks.message_id(HOTLINE, key), "subscription_id": None,
                                 "content_type": hotline.CONTENT_TYPE, "body": callback})
            deliveries.enqueue_many(conn, rows)
        self.wanted, self.messages = [], []


def apply_events(conn: psycopg.Connection, events: list[Event], *, hotline_on: bool,
                 poll: repository.Poll | None = None) -> None:
    """Apply fresh events in order, set-wise (the module's docstring). `poll`: the caller's (it
    flushes it), instead of one for these events."""
    own = poll is None
    if own:
        poll = repository.lock(conn, {e.subject for e in events})
    fanout = Fanout(hotline_on)
    for event in events:
        at_once = not collected(event)
        if at_once:
            fanout.write(conn)          # what came before, as it would be in the database by now
        change = repository.apply(conn, event, poll)
        if at_once:
            notices.on_event(conn, event, change)      # email/SMS notices to units and hotline complainants
        if change is not None:
            fanout.add(conn, event, *change, poll, with_notices=not at_once)
    fanout.write(conn)
    if own:
        poll.flush(conn)


def on_event(conn: psycopg.Connection, event: Event, *, hotline_on: bool, poll: repository.Poll | None = None) -> None:
    apply_events(conn, [event], hotline_on=hotline_on, poll=poll)


def applier(hotline_on: bool) -> Callable[[psycopg.Connection, Event], None]:
    """The consumer's apply function (one event: how the consumer finds the culprit of a poll that failed)."""
    return lambda conn, event: on_event(conn, event, hotline_on=hotline_on)


def batch_applier(hotline_on: bool) -> Callable[[psycopg.Connection, list[Event]], None]:
    """The consumer's apply function for a poll's fresh events (`apply_events`)."""
    return lambda conn, events: apply_events(conn, events, hotline_on=hotline_on)
