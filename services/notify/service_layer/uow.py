"""Unit of work: one PostgreSQL transaction around one notify decision (an escalation step, a report
filed, a bulletin published): its events and any of notify's own rows commit together or not at all."""
from __future__ import annotations

from psycopg_pool import ConnectionPool

from zfcommon.eventstore import EventStore
from zfcommon.idempotency import IdempotencyKeys


class UnitOfWork:
    def __init__(self, pool: ConnectionPool):
        self.pool = pool

    def __enter__(self) -> "UnitOfWork":
        self.conn = self.pool.getconn()
        self.events = EventStore(self.conn, service="notify")
        self.idempotency = IdempotencyKeys(self.conn)      # API commands' Idempotency-Key answers
        return self

    def __exit__(self, *exc) -> None:
        # Anything not committed explicitly is rolled back: a failed decision leaves no trace.
        try:
            self.conn.rollback()
        finally:
            self.pool.putconn(self.conn)

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()
