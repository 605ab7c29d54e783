"""Idempotency-Key records: shared with notify, so they live in zfcommon.idempotency."""
from zfcommon.idempotency import IdempotencyKeys, StoredAnswer

__all__ = ["IdempotencyKeys", "StoredAnswer"]
