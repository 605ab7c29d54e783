"""Unit of work: one PostgreSQL transaction from a service's pool around one command or decision.

Each service's own unit of work adds the stores it works with (event store, idempotency answers, …),
all on the same connection, so whatever one command does commits together or not at all.

A unit of work opened with `write_behind=True` holds its writes back (`WriteBehind`): the stores
hand them over as parts of one statement, and `commit()` sends them all as that one statement. A
command that only read before it wrote — a receipt: the Idempotency-Key, the directory's version,
the case number — then costs its reads and one write, without BEGIN and COMMIT: a single statement
is a transaction of its own in PostgreSQL. Everything else is as before: any other statement
(anything sent with `execute`, a lock, a read after a write) first opens the transaction and sends
what is held, so the command reads its own writes and its locks last to the end.
docs/DECISIONS.md, "One statement per command".
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence

import psycopg
from psycopg_pool import ConnectionPool

from . import tracing


class HeldWrite(Protocol):
    """Writes a store holds back until the unit of work flushes."""

    def parts(self, prefix: str) -> tuple[list[tuple[str, str]], Sequence[Any]]:
        """(name, statement) pairs — data-modifying statements, each named `prefix…` and referring to
        its own earlier parts by those names — and their parameters, in order."""

    def sent(self) -> None:
        """The statement carrying these parts succeeded."""

    def failed(self, exc: psycopg.Error) -> None:
        """The statement failed: raise what the callers should see instead of `exc`, or return."""


class Insert:
    """One held INSERT (or any other single data-modifying statement) and its parameters."""
    __slots__ = ("statement", "params")

    def __init__(self, statement: str, params: Sequence[Any]):
        self.statement, self.params = statement, params

    def parts(self, prefix: str) -> tuple[list[tuple[str, str]], Sequence[Any]]:
        return [(prefix, self.statement)], self.params

    def sent(self) -> None:
        pass

    def failed(self, exc: psycopg.Error) -> None:
        pass


def statement_of(parts: list[tuple[str, str]]) -> str:
    """The held parts as one statement: every part a WITH query (each runs exactly once, to
    completion, whether or not anything reads it), the last one as the statement itself."""
    *withs, (_, last) = parts
    return ("WITH " + ", ".join(f"{name} AS ({sql})" for name, sql in withs) + " " + last) if withs else last


def send(conn: psycopg.Connection, writes: list[HeldWrite]) -> None:
    """Send writes as one statement now; each hears whether it went (`sent`) or not (`failed`)."""
    parts: list[tuple[str, str]] = []
    params: list[Any] = []
    for i, write in enumerate(writes):
        p, values = write.parts(f"w{i}_")
        parts += p
        params += values
    try:
        conn.execute(statement_of(parts), params)
    except psycopg.Error as exc:
        for write in writes:
            write.failed(exc)
        raise
    for write in writes:
        write.sent()


class WriteBehind:
    """A unit of work's connection that holds writes back and sends them as one statement.

    While nothing has been written, `read` runs outside a transaction (autocommit): under READ
    COMMITTED every statement takes its own snapshot anyway, so a command's plain reads lose nothing
    by it. Stores hand their writes over with `hold`. Anything else — `execute`, `cursor`, a read
    once writes are held — first opens the transaction and sends what is held."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.held: list[HeldWrite] = []
        self.in_transaction = False
        conn.autocommit = True

    # -- what the stores call -------------------------------------------------------------------
    def read(self, query: Any, params: Any = None) -> psycopg.Cursor:
        """A plain read (no lock, nothing written): outside a transaction while none is needed."""
        if self.held:
            self.begin()
        return self.conn.execute(query, params)

    def hold(self, write: HeldWrite) -> None:
        self.held.append(write)

    def holds(self, write: HeldWrite) -> bool:
        """Whether `write` is still held (not sent, not forgotten by a rollback)."""
        return any(w is write for w in self.held)

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> psycopg.Cursor:
        self.begin()
        return self.conn.execute(query, params, **kwargs)

    def cursor(self, *args: Any, **kwargs: Any) -> psycopg.Cursor:
        self.begin()
        return self.conn.cursor(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    # -- the transaction ------------------------------------------------------------------------
    def begin(self) -> None:
        """From here on, in one transaction: psycopg sends BEGIN with the next statement; what is held
        goes first."""
        if not self.in_transaction:
            self.conn.autocommit = False
            self.in_transaction = True
        self.flush()

    def flush(self) -> None:
        if self.held:
            held, self.held = self.held, []
            send(self.conn, held)

    def commit(self) -> None:
        """Send what is held — alone, it is a transaction of its own — and commit."""
        self.flush()
        self.conn.commit()

    def rollback(self) -> None:
        """Forget what is held and roll back what was sent; the next command starts afresh."""
        self.held = []
        self.conn.rollback()
        self.in_transaction = False
        self.conn.autocommit = True

    def close(self) -> None:
        """Give the connection back as the pool lent it: idle, not in autocommit. A connection that was
        lost raises its OperationalError here (the request's 503) and is left as it is: the pool
        discards it."""
        self.held = []
        self.conn.rollback()
        self.conn.autocommit = False


def read(conn: Any, query: Any, params: Any = None) -> psycopg.Cursor:
    """A plain read on a store's connection: outside a transaction when the connection holds writes
    back (WriteBehind.read), else as any statement."""
    return conn.read(query, params) if isinstance(conn, WriteBehind) else conn.execute(query, params)


def hold(conn: Any, write: HeldWrite) -> bool:
    """Hand a write to a write-behind connection; False when `conn` sends writes at once (the caller
    sends it itself)."""
    if isinstance(conn, WriteBehind):
        conn.hold(write)
        return True
    return False


def write(conn: Any, statement: str, params: Sequence[Any]) -> None:
    """One INSERT (or other single write): held back on a write-behind connection, sent now on any other."""
    if not hold(conn, Insert(statement, params)):
        conn.execute(statement, params)


class UnitOfWork:
    def __init__(self, pool: ConnectionPool, write_behind: bool = False):
        self.pool = pool
        self.write_behind = write_behind

    def open(self) -> None:
        """Set up the stores on `self.conn` (subclasses)."""

    def __enter__(self):
        self.traced = tracing.transaction()
        self.raw = self.pool.getconn()
        self.conn = WriteBehind(self.raw) if self.write_behind else self.raw
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        # Anything not committed explicitly is rolled back: a failed command leaves no trace.
        try:
            if isinstance(self.conn, WriteBehind):
                self.conn.close()
            else:
                self.conn.rollback()
        finally:
            self.pool.putconn(self.raw)
            tracing.finish(self.traced, *exc)

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()
