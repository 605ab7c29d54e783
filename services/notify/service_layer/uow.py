"""Unit of work: one PostgreSQL transaction around one notify decision (an escalation step, a report
filed, a bulletin published): its events and any of notify's own rows commit together or not at all."""
from __future__ import annotations

from zfcommon import uow
from zfcommon.eventstore import EventStore
from zfcommon.idempotency import IdempotencyKeys


class UnitOfWork(uow.UnitOfWork):
    def open(self) -> None:
        self.events = EventStore(self.conn, service="notify")
        self.idempotency = IdempotencyKeys(self.conn)      # API commands' Idempotency-Key answers
