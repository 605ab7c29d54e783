"""Idempotency-Key records: the first answer to (principal, key), stored with the command's effects."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status: int
    body: Any
    headers: dict[str, str]


class IdempotencyKeys:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def find(self, principal: str, key: str) -> StoredAnswer | None:
        row = self.conn.execute(
            "SELECT request_hash, status, body, headers FROM idempotency_keys WHERE principal = %s AND key = %s",
            (principal, key)).fetchone()
        return StoredAnswer(**row) if row else None

    def remember(self, principal: str, key: str, answer: StoredAnswer) -> None:
        """Raises UniqueViolation when a concurrent request with the same key committed first; the
        insert waits for that transaction, so the caller can then read its answer."""
        self.conn.execute(
            "INSERT INTO idempotency_keys (principal, key, request_hash, status, body, headers)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (principal, key, answer.request_hash, answer.status, Jsonb(answer.body), Jsonb(answer.headers)))
