"""Unit of work: one PostgreSQL transaction from a service's pool around one command or decision.

Each service's own unit of work adds the stores it works with (event store, idempotency answers, …),
all on the same connection, so whatever one command does commits together or not at all."""
from __future__ import annotations

from psycopg_pool import ConnectionPool

from . import tracing


class UnitOfWork:
    def __init__(self, pool: ConnectionPool):
        self.pool = pool

    def open(self) -> None:
        """Set up the stores on `self.conn` (subclasses)."""

    def __enter__(self):
        self.traced = tracing.transaction()
        self.conn = self.pool.getconn()
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        # Anything not committed explicitly is rolled back: a failed command leaves no trace.
        try:
            self.conn.rollback()
        finally:
            self.pool.putconn(self.conn)
            tracing.finish(self.traced, *exc)

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()
