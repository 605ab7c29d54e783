"""Idempotency-Key handling around any command: shared with notify, so it lives in zfcommon.idempotency."""
from zfcommon.idempotency import StoredAnswer, _replay, request_hash, run_command

__all__ = ["StoredAnswer", "_replay", "request_hash", "run_command"]
