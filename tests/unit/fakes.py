"""Builders and in-memory fakes shared by the unit tests: no database, broker or network behind them."""
from __future__ import annotations

import base64
import json
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Any

import psycopg

from intake.adapters.eventstore import ConcurrencyConflict
from intake.adapters.idempotency import StoredAnswer
from intake.domain.case import RECEIVED, ReceiveComplaint
from zfcommon.events import Event, new_event, serialize_event

JWT_SECRET = "unit-test-jwt-secret-long-enough-for-hs256-and-for-hs512-which-wants-64-bytes"
MASTER_KEY = base64.b64encode(bytes(range(32))).decode()
RECEIVED_AT = datetime(2024, 5, 6, 9, 30, tzinfo=timezone.utc)
MISSING = object()   # an `envelope()` override that removes the attribute


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

    def load(self, stream_id: str) -> list[Event]:
        return list(self.streams.get(stream_id, []))

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


class FakeUnitOfWork:
    def __init__(self, streams: dict[str, list[Event]] | None = None):
        self.events = FakeEventStore(streams)
        self.contacts = FakeContacts()


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
