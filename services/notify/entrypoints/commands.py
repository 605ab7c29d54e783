"""The one way notify's POST/PUT endpoints run a command: in one transaction under the request's
Idempotency-Key (zfcommon.idempotency), so a retry with the same key gets the first answer and
stores nothing again."""
from __future__ import annotations

from typing import Any, Callable

from flask import current_app, request

from zfcommon.idempotency import request_hash, run_command
from zfcommon.web import principal

from ..service_layer.uow import UnitOfWork


def idempotent(run: Callable[[UnitOfWork], tuple[int, Any, dict]], content: bytes | None = None) -> tuple[Any, int, dict]:
    """run(uow) -> (status, body already dumped, headers); returns Flask's (body, status, headers).
    `content`: what the request's hash covers when it is not the body as read (an uploaded file)."""
    pool = current_app.extensions["zf_pool"]
    status, body, headers = run_command(lambda: UnitOfWork(pool), principal().actor,
                                        request.headers.get("Idempotency-Key"),
                                        request_hash(request.method, request.full_path if content is not None
                                                     else request.path,
                                                     request.get_data() if content is None else content), run)
    return body, status, headers
