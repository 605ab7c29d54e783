"""Commands on enforcement and supervision actions and their SMS ratings (执法监督短信评议,
docs/APPRAISALS.md): a unit records an action (its event, its projection and the party's sealed number
in one transaction; the consumer then queues the SMS asking for a rating), and the party's reply
rates it, once, counting as a ballot in each open appraisal round that takes SMS ratings."""
from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from zfcommon import periods
from zfcommon.eventstore import ConcurrencyConflict, EventStore
from zfcommon.sealing import Envelope
from zfcommon.settings import decode_key
from zfcommon.workdays import local_date

from ..adapters import bulletin_projection, directory
from ..adapters import enforcement as store
from ..domain import appraisal, enforcement, publication
from ..domain.notices import normalise_phone
from . import appraisals, bulletins
from .bulletins import Context, Invalid
from .uow import UnitOfWork

log = logging.getLogger(__name__)
Row = dict[str, Any]
KIND = "appraisal"


@dataclass(frozen=True)
class Keys:
    """What keeps the party's number: the envelope that seals it, and the key its hash is keyed with,
    both from ZF_NOTIFY_MASTER_KEY."""
    envelope: Envelope
    hashing: bytes

    @classmethod
    def from_setting(cls, encoded: str) -> "Keys":
        envelope = Envelope.from_setting(encoded, "ZF_NOTIFY_MASTER_KEY")
        master = decode_key(encoded.strip(), "ZF_NOTIFY_MASTER_KEY")
        return cls(envelope, hmac.new(master, b"zhengfeng/enforcement-phone-key/v1", hashlib.sha256).digest())


class UnknownUnit(Exception):
    """The unit named is not an active unit of the directory (422)."""


def _active(uow: UnitOfWork, unit: str) -> Row:
    """The unit's directory entry; UnknownUnit unless it is an active unit."""
    entry = directory.unit(uow.conn, unit)
    if entry is None or not entry["active"]:
        raise UnknownUnit(unit)
    return entry


def record(uow: UnitOfWork, unit: str, body: Row, ctx: Context, keys: Keys) -> Row:
    """Record an action of `unit`: its event, its row, and the party's number sealed until the rating
    or REPLY_DAYS. Raises UnknownUnit or Invalid; the caller commits."""
    entry = _active(uow, unit)
    action_id = str(uuid.uuid4())
    try:
        data = enforcement.recorded(action_id, unit, body, today=local_date(ctx.now),
                                    unit_phones=[c.get("phone") for c in entry["contacts"]], secret=keys.hashing,
                                    staff=(store.roster(uow.conn, unit) or {}).get("staff"))
    except enforcement.Invalid as exc:
        raise Invalid(str(exc), exc.errors, code=exc.code) from None
    if store.asked_that_day(uow.conn, unit, data["phone_key"], body["performed_on"]):
        raise Invalid("执法监督记录未能登记", {"phone": [
            "本单位当天已向这个号码发送过评价短信：同一对象同一天只评价一次"]}, code="enforcement.invalid")
    stream = enforcement.stream(action_id)
    for event in uow.events.record(stream, 0, [(enforcement.RECORDED, data)], correlation_id=ctx.correlation_id,
                                   actor=ctx.actor, time=ctx.now, subject=stream):
        store.apply(uow.conn, event)
    store.keep_phone(uow.conn, keys.envelope, action_id, body["phone"],
                     ctx.now + timedelta(days=enforcement.REPLY_DAYS))
    return store.get(uow.conn, action_id)


def publish_roster(uow: UnitOfWork, unit: str, staff: list[Row], ctx: Context) -> Row:
    """Publish `unit`'s enforcement and supervision staff (公述民评 公示), replacing what was published
    before; an empty list takes the unit off the public page. Raises UnknownUnit or Invalid."""
    _active(uow, unit)
    try:
        data = enforcement.roster(unit, staff)
    except enforcement.Invalid as exc:
        raise Invalid(str(exc), exc.errors, code=exc.code) from None
    stream = enforcement.roster_stream(unit)
    for event in uow.events.record(stream, uow.events.version(stream), [(enforcement.ROSTER, data)],
                                   correlation_id=ctx.correlation_id, actor=ctx.actor, time=ctx.now, subject=stream):
        store.apply(uow.conn, event)
    return store.roster(uow.conn, unit)


class _OnConnection:
    """The reply's connection as a unit of work for the event store and the publication commands."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.events = EventStore(conn, service="notify")


def rate(conn: psycopg.Connection, keys: Keys, action_id: str, sender: str, grade: str, ctx: Context) -> str:
    """The party's reply to the rating request of `action_id` (its notice locked by the caller): the
    outcome — recorded, already_rated, expired (the number is no longer kept), not_the_party,
    unknown_code. A recorded rating is the action's rated event, and one ballot of the SMS group in
    each open round of its quarter or year that appraises the unit; the number is then forgotten."""
    action = store.get(conn, action_id)
    if action is None:
        return "unknown_code"
    if action["grade"] is not None:
        return "already_rated"
    number = store.phone(conn, keys.envelope, action_id, ctx.now)
    if number is None:
        return "expired"
    if normalise_phone(sender) != normalise_phone(number):
        return "not_the_party"
    unit_of_work = _OnConnection(conn)
    counted = [row["key"] for row in _open_rounds(conn, action["performed_on"])
               if enforcement.counted_in(row["data"]["round"], action["unit"])
               and _ballot(unit_of_work, row["key"], action, grade, ctx)]
    stream = enforcement.stream(action_id)
    data = {"action_id": action_id, "unit": action["unit"], "performed_on": action["performed_on"].isoformat(),
            "grade": grade, "via": "sms", "counted_in": counted}
    for event in unit_of_work.events.record(stream, action["version"], [(enforcement.RATED, data)],
                                            correlation_id=ctx.correlation_id, actor=ctx.actor, time=ctx.now,
                                            subject=stream):
        store.apply(conn, event)
    store.forget_phone(conn, action_id)
    log.info("enforcement_rated", extra={"action_id": action_id, "unit": action["unit"], "counted_in": counted})
    return "recorded"


def _open_rounds(conn: psycopg.Connection, day) -> list[Row]:
    """The appraisal rounds (the quarter's, the year's) that are open for ballots on the day acted."""
    keys = [periods.quarter_of(day), str(day.year)]
    rows = [bulletin_projection.get(conn, KIND, key) for key in keys]
    return [r for r in rows if r is not None and r["state"] == "opened"]


def _ballot(uow: _OnConnection, key: str, action: Row, grade: str, ctx: Context) -> bool:
    """Enter the rating as a ballot of the round's SMS group (a round that takes SMS ratings and
    appraises the unit); in a savepoint, decided again if a clerk's entry got in first."""
    def entered(row: Row) -> tuple[str, list[Row]]:
        round_ = row["data"]["round"]
        numbers = {b["ballot_no"] for b in appraisals.ballots_in(uow, key)}
        try:
            return "ballot_recorded", appraisal.ballots(round_, numbers, [enforcement.ballot(round_, action, grade)],
                                                        by_sms=True)
        except appraisal.Invalid as exc:
            raise _NotCounted(str(exc)) from None
    for _ in range(5):
        try:
            with uow.conn.transaction():
                bulletins.decide(uow, KIND, key, "ballot", ctx, entered)
            return True
        except ConcurrencyConflict:
            continue
        except (_NotCounted, publication.Refused) as exc:
            log.warning("enforcement_rating_not_counted", extra={"period": key, "reason": str(exc)})
            return False
    return False


class _NotCounted(Exception):
    pass


def forget_expired(uow: UnitOfWork, now: datetime) -> int:
    """The scheduler's part: delete the numbers whose rating requests can no longer be answered."""
    forgotten = store.forget_expired(uow.conn, now)
    uow.commit()
    return forgotten
