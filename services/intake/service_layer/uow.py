"""Unit of work: one PostgreSQL transaction around one command."""
from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg_pool import ConnectionPool

from zfcommon import uow

from ..adapters.contacts import ContactVault
from zfcommon.idempotency import IdempotencyKeys
from ..adapters.request_index import IndexedEventStore


class UnitOfWork(uow.UnitOfWork):
    def __init__(self, pool: ConnectionPool, master_key: AESGCM):
        super().__init__(pool)
        self.master_key = master_key

    def open(self) -> None:
        self.events = IndexedEventStore(self.conn)     # also keeps the Open311 request index
        self.contacts = ContactVault(self.conn, self.master_key)
        self.idempotency = IdempotencyKeys(self.conn)
