"""Unit of work: one PostgreSQL transaction around one command."""
from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg_pool import ConnectionPool

from ..adapters.contacts import ContactVault
from ..adapters.idempotency import IdempotencyKeys
from ..adapters.request_index import IndexedEventStore


class UnitOfWork:
    def __init__(self, pool: ConnectionPool, master_key: AESGCM):
        self.pool = pool
        self.master_key = master_key

    def __enter__(self) -> "UnitOfWork":
        self.conn = self.pool.getconn()
        self.events = IndexedEventStore(self.conn)     # also keeps the Open311 request index
        self.contacts = ContactVault(self.conn, self.master_key)
        self.idempotency = IdempotencyKeys(self.conn)
        return self

    def __exit__(self, *exc) -> None:
        # Anything not committed explicitly is rolled back: a failed command leaves no trace.
        try:
            self.conn.rollback()
        finally:
            self.pool.putconn(self.conn)

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()
