"""Unit of work: one PostgreSQL transaction around one command; with `write_behind`, a command's
writes go as one statement at commit (zfcommon.uow)."""
from __future__ import annotations

from psycopg_pool import ConnectionPool

from zfcommon import uow
from zfcommon.events.catalogue import DIRECTORY_STREAM
from zfcommon.eventstore import VERSION
from zfcommon.sealing import Envelope

from ..adapters.case_numbers import CaseNumbers
from ..adapters.contacts import ContactVault
from zfcommon.idempotency import IdempotencyKeys
from ..adapters.request_index import IndexedEventStore
from ..adapters.robots import RobotVault


DIRECTORY_VERSION = (f"({VERSION})", (DIRECTORY_STREAM,))


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
        # Every command reads the directory's version (handlers.DirectoryCache): with the key's lookup.
        self.idempotency = IdempotencyKeys(self.conn, also={"directory_version": DIRECTORY_VERSION})
