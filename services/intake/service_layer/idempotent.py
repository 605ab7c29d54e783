"""Idempotency-Key handling around any command (draft-ietf-httpapi-idempotency-key-header).

A retry with the same key and the same request gets the first answer and writes nothing; the same key
with a different request is refused with 422. The answer is stored in the command's own transaction,
so an answer exists exactly when the effects do.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

import psycopg

from zfcommon.problem import Unprocessable

from ..adapters.idempotency import StoredAnswer
from .uow import UnitOfWork

Answer = tuple[int, Any, dict[str, str]]


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def _replay(stored: StoredAnswer, digest: str, key_name: str = "Idempotency-Key") -> Answer:
    if stored.request_hash != digest:
        raise Unprocessable(f"this {key_name} was already used for a different request",
                            errors={key_name: ["already used for a different request"]})
    return stored.status, stored.body, {**stored.headers, "Idempotent-Replayed": "true"}


def run_command(uow_factory: Callable[[], UnitOfWork], principal: str, key: str | None, digest: str,
                command: Callable[[UnitOfWork], Answer], key_name: str = "Idempotency-Key") -> Answer:
    """`key_name` says where the key came from, for errors: a signed webhook's webhook-id is one too."""
    if key is not None and not (1 <= len(key) <= 255):
        raise Unprocessable(f"{key_name} must be 1 to 255 characters",
                            errors={key_name: ["must be 1 to 255 characters"]})
    with uow_factory() as uow:
        if key:
            stored = uow.idempotency.find(principal, key)
            if stored:
                return _replay(stored, digest, key_name)
        status, body, headers = command(uow)
        if key:
            try:
                uow.idempotency.remember(principal, key, StoredAnswer(digest, status, body, headers))
            except psycopg.errors.UniqueViolation:
                # A concurrent request with this key committed first; ours is rolled back whole.
                uow.rollback()
                stored = uow.idempotency.find(principal, key)
                return _replay(stored, digest, key_name)
        uow.commit()
    return status, body, headers
