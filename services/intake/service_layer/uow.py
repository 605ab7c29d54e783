"""Unit of work: one PostgreSQL transaction around one command; with `write_behind`, a command's
writes go as one statement at commit (zfcommon.uow)."""
from __future__ import annotations

from psycopg_pool import ConnectionPool

from zfcommon import uow
from zfcommon.sealing import Envelope

from ..adapters.case_numbers import CaseNumbers
from ..adapters.contacts import ContactVault
from zfcommon.idempotency import IdempotencyKeys
from ..adapters.request_index import IndexedEventStore
from ..adapters.robots import RobotVault


class UnitOfWork(uow.UnitOfWork):
    def __init__(self, pool: ConnectionPool, master_key: Envelope, case_number_prefix: str,
                 write_behind: bool = False):
        super().__init__(pool, write_behind)
        self.master_key = master_key
        self.case_number_prefix = case_number_prefix

    def open(self) -> None:
        self.case_numbers = CaseNumbers(self.conn, self.case_number_prefix)
        # The store also records the numbers its events give and keeps the Open311 request index.
        self.events = IndexedEventStore(self.conn, self.case_numbers)
        self.contacts = ContactVault(self.conn, self.master_key)
        self.robots = RobotVault(self.conn, self.master_key)
        self.idempotency = IdempotencyKeys(self.conn)
