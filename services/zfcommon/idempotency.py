"""Idempotency-Key handling around any command (draft-ietf-httpapi-idempotency-key-header), for every
service that takes POSTs (intake, notify).

A retry with the same key and the same request gets the first answer and writes nothing; the same key
with a different request is refused with 422. The answer is stored in the command's own transaction
(table `idempotency_keys` in the service's schema), so an answer exists exactly when the effects do.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Protocol, TypeVar

import psycopg
from psycopg.types.json import Jsonb

from . import uow
from .problem import Unprocessable

Answer = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status: int
    body: Any
    headers: dict[str, str]


@functools.lru_cache(maxsize=8)
def _lookup(also: tuple[tuple[str, tuple[str, tuple]], ...]) -> tuple[str, tuple]:
    """The key's lookup with the read-along subqueries, and their parameters (built once per set)."""
    extras = "".join(f", {sql} AS {name}" for name, (sql, _) in also)
    return ("SELECT k.request_hash, k.status, k.body, k.headers" + extras
            + " FROM (SELECT) AS one LEFT JOIN idempotency_keys k ON k.principal = %s AND k.key = %s",
            tuple(p for _, (_, params) in also for p in params))


class IdempotencyKeys:
    """Idempotency-Key records: the first answer to (principal, key), stored with the command's effects."""

    def __init__(self, conn: psycopg.Connection, also: dict[str, tuple[str, tuple]] | None = None):
        """`also`: name → (scalar subquery, its parameters) that every command of the service reads
        first, read with the key instead of in a statement of their own; `read_along` holds them for
        the unit of work until it takes them (intake: the directory's version)."""
        self.conn = conn
        self.read_along: dict[str, Any] = {}
        self.also = also or {}
        self.find_sql, self.params = _lookup(tuple(self.also.items()))

    def find(self, principal: str, key: str) -> StoredAnswer | None:
        row = uow.read(self.conn, self.find_sql, (*self.params, principal, key)).fetchone()
        self.read_along = {name: row[name] for name in self.also}
        if row["request_hash"] is None:
            return None
        return StoredAnswer(row["request_hash"], row["status"], row["body"], row["headers"])

    def remember(self, principal: str, key: str, answer: StoredAnswer) -> None:
        """Raises UniqueViolation when a concurrent request with the same key committed first — here,
        or on a write-behind connection when the unit of work sends its writes; the insert waits for
        that transaction, so the caller can then read its answer."""
        uow.write(self.conn,
                  "INSERT INTO idempotency_keys (principal, key, request_hash, status, body, headers)"
                  " VALUES (%s, %s, %s, %s, %s, %s)",
                  (principal, key, answer.request_hash, answer.status, Jsonb(answer.body), Jsonb(answer.headers)))


class UnitOfWork(Protocol):
    """What run_command needs of a service's unit of work: one transaction, entered as a context."""
    idempotency: IdempotencyKeys

    def __enter__(self) -> Any: ...
    def __exit__(self, *exc: Any) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


U = TypeVar("U", bound=UnitOfWork)


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def _replay(stored: StoredAnswer, digest: str, key_name: str = "Idempotency-Key") -> Answer:
    if stored.request_hash != digest:
        raise Unprocessable(f"此 {key_name} 已用于另一个不同的请求", code="idempotency.key_reused",
                            errors={key_name: ["已用于另一个不同的请求"]})
    return stored.status, stored.body, {**stored.headers, "Idempotent-Replayed": "true"}


def run_command(uow_factory: Callable[[], U], principal: str, key: str | None, digest: str,
                command: Callable[[U], Answer], key_name: str = "Idempotency-Key",
                errors: Callable[[Callable[[], Answer]], Answer] | None = None) -> Answer:
    """`key_name` says where the key came from, for errors: a signed webhook's webhook-id is one too.
    `errors` maps what the command raises to the caller's problems; it wraps the commit too, where a
    write-behind unit of work (zfcommon.uow) finds what its held writes ran into."""
    if key is not None and not (1 <= len(key) <= 255):
        raise Unprocessable(f"{key_name} 须为 1 到 255 个字符", code="idempotency.key_invalid",
                            errors={key_name: ["须为 1 到 255 个字符"]})

    def attempt() -> Answer:
        with uow_factory() as u:
            if key:
                stored = u.idempotency.find(principal, key)
                if stored:
                    return _replay(stored, digest, key_name)
            status, body, headers = command(u)
            try:
                if key:
                    u.idempotency.remember(principal, key, StoredAnswer(digest, status, body, headers))
                u.commit()
            except psycopg.errors.UniqueViolation:
                if not key:
                    raise
                # A concurrent request with this key committed first (its answer is there now); ours
                # is rolled back whole.
                u.rollback()
                stored = u.idempotency.find(principal, key)
                if stored is None:
                    raise
                return _replay(stored, digest, key_name)
        return status, body, headers
    return errors(attempt) if errors else attempt()
