"""Builders and in-memory fakes shared by the unit tests: no database, broker or network behind them."""
from __future__ import annotations

import base64
import json
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Any

import psycopg

from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.idempotency import StoredAnswer
from intake.domain.case import RECEIVED, ReceiveComplaint
from zfcommon.events import Event, new_event, serialize_event
from zfcommon.workdays import local_date

JWT_SECRET = "unit-test-jwt-secret-long-enough-for-hs256-and-for-hs512-which-wants-64-bytes"
MASTER_KEY = base64.b64encode(bytes(range(32))).decode()
RECEIVED_AT = datetime(2024, 5, 6, 9, 30, tzinfo=timezone.utc)
class _Missing:
    def __repr__(self) -> str:      # a stable test id (pytest-xdist's workers must collect the same ids)
        return "MISSING"


MISSING = _Missing()   # an `envelope()` override that removes the attribute


def received_data(**overrides: Any) -> dict[str, Any]:
    """The data of a valid cn.zhengfeng.case.received.v1 event."""
    data = {"channel": "hotline", "category": "作风问题", "description": "窗口人员推诿扯皮",
            "subject_unit": "市住建局", "priority": "normal", "location": None,
            "anonymous": True, "complainant": None}
    return {**data, **overrides}


def received_event(case_id: str = "case-1", version: int = 1, **data: Any) -> Event:
    return new_event(service="intake", type=RECEIVED, subject=case_id, data=received_data(**data),
                     streamversion=version, correlationid="corr-1", actor="office:li", time=RECEIVED_AT)


def envelope(**overrides: Any) -> dict[str, Any]:
    """A valid event as decoded JSON, with attributes replaced (or removed with MISSING)."""
    body = json.loads(serialize_event(received_event()))
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not MISSING}


def complaint(**overrides: Any) -> ReceiveComplaint:
    fields = {"channel": "petition", "category": "吃拿卡要", "description": "办证时被索要好处费",
              "subject_unit": "某区市场监管局", "priority": "urgent"}
    return ReceiveComplaint(**{**fields, **overrides})


class FakeEventStore:
    """EventStore's contract: append after an expected version, or ConcurrencyConflict."""

    def __init__(self, streams: dict[str, list[Event]] | None = None):
        self.streams = streams or {}
        self.appends: list[tuple[str, int, list[Event]]] = []

    def load(self, stream_id: str, after: int = 0) -> list[Event]:
        return list(self.streams.get(stream_id, []))[after:]

    def version(self, stream_id: str) -> int:
        return len(self.streams.get(stream_id, []))

    def append(self, stream_id: str, expected_version: int, events: list[Event]) -> None:
        stream = self.streams.setdefault(stream_id, [])
        if expected_version != len(stream):
            raise ConcurrencyConflict(stream_id, expected_version)
        stream.extend(events)
        self.appends.append((stream_id, expected_version, events))


class FakeContacts:
    def __init__(self):
        self.sealed: list[tuple[str, dict[str, Any]]] = []

    def seal(self, case_id: str, contact: dict[str, Any]) -> dict[str, str]:
        self.sealed.append((case_id, contact))
        return {"kid": f"case:{case_id}", "nonce": "bm9uY2U=", "ciphertext": "c2VhbGVk"}


class FakeCaseNumbers:
    """One office's numbers, in order (the real ones come from a PostgreSQL sequence per year)."""

    def __init__(self, prefix: str = "ZF"):
        self.prefix, self.issued = prefix, []

    def issue(self, received_at: datetime) -> str:
        self.issued.append(f"{self.prefix}-{local_date(received_at).year}-{len(self.issued) + 1:06d}")
        return self.issued[-1]


class FakeUnitOfWork:
    def __init__(self, streams: dict[str, list[Event]] | None = None):
        self.events = FakeEventStore(streams)
        self.contacts = FakeContacts()
        self.case_numbers = FakeCaseNumbers()
        self.idempotency = FakeIdempotencyKeys({})


class _Rows:
    def __init__(self, row: dict[str, Any] | None):
        self.row = row

    def fetchone(self) -> dict[str, Any] | None:
        return self.row


class FakeKeyConnection:
    """Serves ContactVault's two statements from a dict of kid -> wrapped data key."""

    def __init__(self):
        self.keys: dict[str, bytes] = {}
        self.statements: list[str] = []

    def execute(self, query: str, params: tuple) -> _Rows:
        self.statements.append(query)
        if query.startswith("INSERT INTO contact_keys"):
            kid, wrapped = params
            self.keys[kid] = wrapped
            return _Rows(None)
        if query.startswith("SELECT wrapped FROM contact_keys"):
            wrapped = self.keys.get(params[0])
            return _Rows(None if wrapped is None else {"wrapped": wrapped})
        raise AssertionError(f"unexpected statement: {query}")


class FakeIdempotencyKeys:
    """Answers become visible to other units of work only when their transaction commits."""

    def __init__(self, committed: dict[tuple[str, str], StoredAnswer]):
        self.committed = committed
        self.pending: dict[tuple[str, str], StoredAnswer] = {}
        self.read_along: dict[str, Any] = {}        # nothing is read along with a key here

    def find(self, principal: str, key: str) -> StoredAnswer | None:
        return self.pending.get((principal, key)) or self.committed.get((principal, key))

    def remember(self, principal: str, key: str, answer: StoredAnswer) -> None:
        if (principal, key) in self.committed:
            raise psycopg.errors.UniqueViolation("duplicate key value violates idempotency_keys_pkey")
        self.pending[(principal, key)] = answer


class FakeTransactionalUow:
    """What run_command needs of a unit of work: idempotency keys, savepoints, commit and rollback."""

    def __init__(self, committed: dict[tuple[str, str], StoredAnswer]):
        self.idempotency = FakeIdempotencyKeys(committed)
        self.conn = self
        self.committed = self.rolled_back = False

    def transaction(self) -> nullcontext:
        return nullcontext()

    def commit(self) -> None:
        self.idempotency.committed.update(self.idempotency.pending)
        self.committed = True

    def rollback(self) -> None:
        self.idempotency.pending.clear()
        self.rolled_back = True

    def __enter__(self) -> "FakeTransactionalUow":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.idempotency.pending.clear()


class UowFactory:
    """Hands out units of work over one shared store of committed answers, and keeps them for inspection."""

    def __init__(self):
        self.answers: dict[tuple[str, str], StoredAnswer] = {}
        self.made: list[FakeTransactionalUow] = []

    def __call__(self) -> FakeTransactionalUow:
        self.made.append(FakeTransactionalUow(self.answers))
        return self.made[-1]


# --- Case lifecycle: cases built by playing commands as the service plays them -------------------------
# receive(), then lifecycle.decide() and Case.apply() for every step, so a test's case has a realistic
# history instead of poked attributes. Dates sit around National Day 2026: Mid-Autumn 09-25…27 and
# National Day 10-01…07 off, make-up working days Sunday 09-20 and Saturday 10-10.
import itertools  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import date, timedelta  # noqa: E402

from intake.domain import directory as directory_domain  # noqa: E402
from intake.domain import lifecycle  # noqa: E402
from intake.domain.case import Case, NewEvent, receive  # noqa: E402
from zfcommon.redaction import Identity  # noqa: E402
from zfcommon.workdays import YearSchedule  # noqa: E402

LEAD_UNIT, COOPERATING_UNIT, OTHER_UNIT, RETIRED_UNIT = "城关镇人民政府", "县市场监管局", "县住建局", "县粮食局"
OFFICE = lifecycle.Actor("office", None, "office:王主任")
LEAD = lifecycle.Actor("unit", LEAD_UNIT, "unit:李科长")
COOPERATING = lifecycle.Actor("unit", COOPERATING_UNIT, "unit:张干事")
OTHER = lifecycle.Actor("unit", OTHER_UNIT, "unit:赵股长")
HOTLINE = lifecycle.Actor("channel", None, "channel:12345")
AUDITOR = lifecycle.Actor("auditor", None, "auditor:县审计局")
DAY = date(2026, 9, 18)      # a Friday; the next working day is the make-up Sunday 2026-09-20
# An office-entered 2027 (New Year's Day Friday 01-01 to Sunday 01-03 off), as the State Council would publish it.
SCHEDULE_2027 = YearSchedule(2027, {date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)}, set())


def case_event(name: str) -> str:
    return f"cn.zhengfeng.case.{name}.v1"


def office_directory(*, years: tuple[YearSchedule, ...] = (), **limits: Any) -> directory_domain.Directory:
    """A directory as an office builds it: the seed events, four units (one retired), then any `limits`
    (limits / sign_for_days / recheck_ratio / calendar_fallback) and entered calendar `years`."""
    directory = directory_domain.Directory()

    def play(events: list[NewEvent]) -> None:
        for event in events:
            directory.apply(event.type, event.data)

    play(directory_domain.seed_events())
    for name, kind, active in [(LEAD_UNIT, "township", True), (COOPERATING_UNIT, "government_department", True),
                               (OTHER_UNIT, "government_department", True),
                               (RETIRED_UNIT, "government_department", False)]:
        play(directory_domain.register_unit(directory, {"name": name, "kind": kind, "active": active,
                                                        "supervising_channel": "县纪委监委"}))
    if limits:
        play(directory_domain.set_limits(directory, {
            "limits": directory.limits, "sign_for_days": directory.sign_for_days,
            "recheck_ratio": directory.recheck_ratio, "calendar_fallback": directory.calendar_fallback, **limits}))
    for schedule in years:
        play(directory_domain.set_calendar_year(directory, schedule))
    return directory


def command_args(command: str, case: Case) -> dict[str, Any]:
    """Valid arguments for `command` on `case`, as the HTTP schemas would pass them on."""
    assignment = {"lead_unit": LEAD_UNIT, "cooperating_units": [COOPERATING_UNIT], "handling_mode": "deadline"}
    return {
        "assign": assignment,
        "reassign": {**assignment, "reason": "职能划转，改由城关镇办理"},
        "merge": {"reason": "同一窗口同一事项重复反映"},
        "accept": {},
        "return": {"reason": "该事项不属本单位职责"},
        "note_progress": {"note": "已约谈窗口负责人，正在整改"},
        "request_extension": {"reason": "需协调多个部门", "requested_deadline": (case.deadline or DAY) + timedelta(14)},
        "approve_extension": {},
        "deny_extension": {"reason": "延期理由不充分"},
        "report_rectified": {"text": "已整改到位，窗口推行首问负责制",
                             "attachments": [{"name": "整改照片.jpg", "url": "https://files.example/1.jpg"}]},
        "report_not_substantiated": {"text": "经调阅监控核查，反映问题不属实", "attachments": []},
        "close": {"comment": "验收合格，予以销号"},
        "order_rework": {"reason": "整改不彻底，退回重办"},
        "accept_dismissal": {"comment": "同意查否"},
        "choose_recheck": {"reason": "群众对查否结论有异议，决定复查"},
        "record_recheck": {"outcome": "upheld", "findings": "复查确认反映不实"},
        "record_return_visit": {"satisfaction": "satisfied", "comment": "群众表示满意"},
        "order_rehandling": {"reason": "群众不满意，重新办理"},
        "correct_summary": {"summary": "反映县自然资源局窗口推诿扯皮，办证多次往返"},
    }[command]


def actor_for(command: str) -> lifecycle.Actor:
    """Who normally gives `command`: the office, the lead unit, or the hotline for return visits."""
    return {"office": OFFICE, "lead": LEAD, "unit": LEAD, "visit": HOTLINE}[lifecycle.RULES[command].who]


class CaseStory:
    """One case and the office around it. `decide` asks the domain; `do` also applies what it decided.
    Events for other streams (a merge target, an accountability record) are kept in `elsewhere`."""

    def __init__(self, case_id: str = "case-1", *, today: date = DAY, directory: Any = None,
                 channel: str = "hotline", priority: str = "normal", received: bool = True):
        self.case, self.today = Case(case_id), today
        self.directory = directory or office_directory()
        self.elsewhere: list[NewEvent] = []
        self._ids = (f"accountability-{i}" for i in itertools.count(1))
        if received:
            self.play(receive(self.case, ReceiveComplaint(
                channel=channel, category="推诿扯皮", description="窗口人员推诿扯皮，办证跑了五趟",
                subject_unit=LEAD_UNIT, priority=priority), None))

    def context(self, actor: lifecycle.Actor, nonce: str = "nonce-1", directory: Any = None) -> lifecycle.Context:
        return lifecycle.Context(today=self.today, directory=directory or self.directory, actor=actor,
                                 nonce=nonce, new_id=lambda: next(self._ids))

    def decide(self, command: str, *, actor: lifecycle.Actor | None = None, target: Case | None = None,
               nonce: str = "nonce-1", directory: Any = None, identity: Identity | None = None,
               **args: Any) -> list[NewEvent]:
        """`args` override command_args(); a merge goes by default into another received case, case-2;
        `identity`: the complainant intake would open from the sealed record."""
        if command == "merge" and target is None:
            target = CaseStory("case-2", today=self.today, directory=self.directory).case
        return lifecycle.decide(self.case, command, {**command_args(command, self.case), **args},
                                replace(self.context(actor or actor_for(command), nonce, directory), identity=identity),
                                target)

    def do(self, command: str, **kw: Any) -> "CaseStory":
        self.play(self.decide(command, **kw))
        return self

    def on(self, day: date | str) -> "CaseStory":
        self.today = day if isinstance(day, date) else date.fromisoformat(day)
        return self

    def play(self, events: list[NewEvent]) -> None:
        for event in events:
            if event.stream in (None, self.case.case_id):
                self.case.apply(event.type, event.data)
            else:
                self.elsewhere.append(event)


_ACCEPTED = ["assign", "accept"]
STORIES: dict[str, list] = {
    "new": [],
    "received": [],
    "assigned": ["assign"],
    "returned": ["assign", "return"],
    "in_progress": _ACCEPTED,
    "extension_pending": [*_ACCEPTED, "request_extension"],
    "rectification_reported": [*_ACCEPTED, "report_rectified"],
    "dismissal_reported": [*_ACCEPTED, "report_not_substantiated"],
    "closed": [*_ACCEPTED, "report_rectified", "close"],
    "closed_unsatisfied": [*_ACCEPTED, "report_rectified", "close",
                           ("record_return_visit", {"satisfaction": "unsatisfied"})],
    # Drawn for re-check (ratio 1.0 at the time of the decision), or not (ratio 0.0).
    "dismissed": [*_ACCEPTED, "report_not_substantiated",
                  ("accept_dismissal", {"directory": office_directory(recheck_ratio=1.0)})],
    "dismissed_unselected": [*_ACCEPTED, "report_not_substantiated",
                             ("accept_dismissal", {"directory": office_directory(recheck_ratio=0.0)})],
    "merged": ["merge"],
}


def story(name: str, **kw: Any) -> CaseStory:
    """A case brought to the situation `name` (a key of STORIES) by its commands, all on the story's day."""
    s = CaseStory(received=name != "new", **kw)
    for step in STORIES[name]:
        command, args = (step, {}) if isinstance(step, str) else step
        s.do(command, **args)
    return s
