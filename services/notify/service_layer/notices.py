"""Notices: queued by the consumer, sent again at the office's request, and a complainant's SMS reply
turned into a return visit on intake (docs/NOTICES.md). Sending is notice_sending.py.

Queueing runs in the consumer's transaction (service_layer.fanout), beside the tracking row of the
event, so an event queues its notices exactly once however often Kafka redelivers it; the UNIQUE
(event_id, recipient, kind) index is the second guard. The rebuild from the trail does not come here:
replaying history must not send years of notices again.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg

from zfcommon import caseview
from zfcommon.events import Event

from ..adapters import bulletin_projection, directory, escalations, repository, subscriptions
from ..adapters import enforcement as enforcement_store
from ..adapters import notices as store
from ..adapters.intake_client import IntakeClient
from ..domain import enforcement, notices
from ..domain.webhooks import event_key
from . import enforcement as enforcement_handlers
from .bulletins import Context

log = logging.getLogger(__name__)
RATING_ACTOR = "notify:sms-replies"     # how a party's SMS rating appears on the trail
Row = dict[str, Any]
Change = tuple[Row | None, Row] | None


class NotRetryable(Exception):
    def __init__(self, status: str):
        super().__init__(f"状态为 {status} 的通知不能重发（只有 {'、'.join(notices.RETRYABLE)} 状态的可以）")
        self.status = status


# -- queueing (the consumer) ---------------------------------------------------------------------
UNREACHABLE = notices.UNREACHABLE
unreachable = notices.unreachable_recipient
# Directory and case events travel on different topics, so notify may see a case assigned to a unit
# before it sees the unit registered or given contacts. A notice that found nobody is addressed again
# when the unit's entry arrives, if it is that recent.
LATE_ADDRESS_WINDOW = timedelta(days=1)


def on_event(conn: psycopg.Connection, event: Event, change: Change, now: datetime | None = None) -> int:
    """Queue the notices `event` calls for; `change` is the watched case before and after it
    (repository.apply's answer). Returns how many were queued."""
    now = now or datetime.now(timezone.utc)
    if event.type == notices.ERASED:
        skipped = store.skip_complainant(conn, event.subject, "the complainant's data was erased", now)
        if skipped:
            log.info("notices_skipped_on_erasure", extra={"case_id": event.subject, "count": skipped})
        return 0
    if event.type in directory.UNIT_TYPES or event.type == directory.ROBOTS_SET:
        return _address_late(conn, event.data.get("name") or event.data["unit"], now)
    if event.type in caseview.CASE_TYPES:
        if change is None:
            return 0                        # a redelivery, an older event, or a case notify never saw
        before, after = change
    else:
        # A step on a task or a project stage finds no watched case: its ladder view names it instead. An
        # appraisal's publication is told with its results, as notify keeps them.
        before, after = None, ((repository.get(conn, event.subject) or escalations.subject(conn, event.subject))
                               if event.type == notices.STEP_ISSUED else
                               bulletin_projection.get(conn, "appraisal", event.subject.removeprefix("appraisal-"))
                               if event.type == notices.APPRAISAL_PUBLISHED else
                               _rating_request(conn, event) if event.type == notices.ENFORCEMENT_RECORDED else None)
    return sum(store.queue(conn, row) for wanted in notices.decide(event, before, after)
               for row in _addressed(conn, wanted, event_key(event), event.type, now))


def _rating_request(conn: psycopg.Connection, event: Event) -> Row | None:
    """What the SMS asking the party of a recorded action to rate it names, while the number is kept
    (a rebuilt notify or an expired request asks nobody)."""
    action = enforcement_store.get(conn, str(event.data["action_id"]))
    if action is None or not enforcement_store.has_phone(conn, str(action["action_id"])):
        return None
    return enforcement.request_context(action)


def _addressed(conn: psycopg.Connection, wanted: notices.Wanted, event_id: str, event_type: str,
               now: datetime) -> list[Row]:
    """notices.addressed, the unit's directory entry read for it."""
    return notices.addressed(wanted, directory.unit(conn, wanted.unit) if wanted.unit else None, event_id,
                             event_type, now)


def queue_all(conn: psycopg.Connection, wanted: list[tuple[Event, notices.Wanted]], now: datetime) -> None:
    """The notices a run of case events calls for (each with its event, in order), addressed with their
    units' directory entries read in one statement, and queued in one round trip."""
    units = directory.units(conn, {w.unit for _, w in wanted if w.unit})
    store.queue_many(conn, [row for event, w in wanted
                            for row in notices.addressed(w, units.get(w.unit), event_key(event), event.type, now)])


def webhook_disabled(conn: psycopg.Connection, sub: Row, now: datetime) -> int:
    """Tell a unit, by email, that deliveries disabled its webhook subscription (the spec's "tell its
    owner another way"); once per disabling, then the subscription's owner notice is sent."""
    wanted = notices.Wanted("webhook_disabled", sub["unit"], None, {
        "unit": sub["unit"], "url": sub["url"], "reason": sub["disabled_reason"],
        "disabled_on": sub["disabled_at"].date().isoformat()})
    key = f"webhook-disabled:{sub['id']}:{sub['disabled_at'].isoformat()}"
    queued = sum(store.queue(conn, row) for row in _addressed(conn, wanted, key, "webhook.disabled", now))
    subscriptions.notice_sent(conn, sub["id"])
    return queued


def _address_late(conn: psycopg.Connection, unit: str, now: datetime) -> int:
    queued = 0
    for missed in store.unreachable(conn, unreachable(unit), [UNREACHABLE["unknown"], UNREACHABLE["no_contact"]],
                                    now - LATE_ADDRESS_WINDOW):
        wanted = notices.Wanted(missed["kind"], unit, missed["case_id"], missed["context"])
        rows = [r for r in _addressed(conn, wanted, missed["event_id"], missed["event_type"], now)
                if r["status"] == "queued"]
        queued += sum(store.queue(conn, r) for r in rows)
        if rows:
            store.update(conn, missed["id"], last_error="addressed when the unit's directory entry arrived",
                         updated_at=now)
    return queued


# -- the office sends one again ----------------------------------------------------------------------
def retry(conn: psycopg.Connection, notice_id: int, now: datetime) -> Row | None:
    """Queue a failed, not configured or unknown notice again from the start of the schedule; None
    when there is no such notice. The caller commits."""
    row = store.get(conn, notice_id, lock=True)
    if row is None:
        return None
    if row["status"] not in notices.RETRYABLE:
        raise NotRetryable(row["status"])
    store.update(conn, notice_id, status="queued", attempts=0, next_attempt_at=now, updated_at=now)
    return store.get(conn, notice_id)


# -- a complainant's reply -----------------------------------------------------------------------------
def handle_reply(conn: psycopg.Connection, intake: IntakeClient, webhook_id: str, sender: str, text: str,
                 ext: str | None, now: datetime, keys: enforcement_handlers.Keys | None = None) -> Row:
    """Turn one SMS reply into a return visit on intake (as the hotline would record it), once.

    The reply must carry the visit request's code (the gateway's extension, or typed in the text),
    a rating, and come from the number the request went to: intake is asked for that number now,
    and it is compared here, never kept. The visit request is locked while intake records the
    rating, so two replies at once record one visit. IntakeUnavailable propagates: the gateway
    should deliver the reply again. The caller commits.

    A reply to an enforcement action's rating request (短信评议) rates the action instead
    (service_layer.enforcement.rate, with `keys` to open the party's number).
    """
    done = store.reply(conn, webhook_id)
    if done is not None:
        return done
    parsed = notices.parse_reply(text, ext)
    notice = store.get(conn, parsed.notice_id, lock=True) if parsed.notice_id is not None else None
    row = {"webhook_id": webhook_id, "received_at": now, "notice_id": None, "case_id": None,
           "satisfaction": parsed.satisfaction}
    if notice is None or notice["kind"] not in notices.REPLY_KINDS or notice["status"] != "sent":
        return store.record_reply(conn, {**row, "outcome": "unknown_code"})
    row.update(notice_id=notice["id"], case_id=notice["case_id"])
    if notice["replied_at"] is not None:
        return store.record_reply(conn, {**row, "outcome": "already_rated"})
    if parsed.satisfaction is None:
        return store.record_reply(conn, {**row, "outcome": "unreadable"})
    if notice["kind"] == "enforcement_rating_request":
        outcome = "expired" if keys is None else enforcement_handlers.rate(
            conn, keys, notice["context"]["action_id"], sender, parsed.satisfaction,
            Context(RATING_ACTOR, f"sms-reply-{webhook_id}", now))
        if outcome == "recorded":
            store.update(conn, notice["id"], replied_at=now, updated_at=now)
        log.info("sms_reply", extra={"action_id": notice["context"]["action_id"], "outcome": outcome,
                                     "notice": notice["id"]})
        return store.record_reply(conn, {**row, "outcome": outcome})
    complainant = intake.complainant(notice["case_id"], "核对短信回访回复的号码")
    if complainant.erased or not complainant.phone:
        return store.record_reply(conn, {**row, "outcome": "erased" if complainant.erased else "unknown_case"})
    if notices.normalise_phone(sender) != notices.normalise_phone(complainant.phone):
        return store.record_reply(conn, {**row, "outcome": "not_the_complainant"})
    answer = intake.record_return_visit(notice["case_id"], parsed.satisfaction, "短信回访回复",
                                        idempotency_key=f"sms-reply-{webhook_id}")
    outcome = {200: "recorded", 404: "unknown_case"}.get(answer.status, "refused")
    if outcome == "recorded":
        store.update(conn, notice["id"], replied_at=now, updated_at=now)
    log.info("sms_reply", extra={"case_id": notice["case_id"], "outcome": outcome, "notice": notice["id"],
                                 "intake_status": answer.status})
    return store.record_reply(conn, {**row, "outcome": outcome})
