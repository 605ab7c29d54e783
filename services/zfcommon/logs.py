"""Structured JSON logs: one event name per line, with the case id and correlation id in context (and,
while tracing is on, the current span's trace_id and span_id)."""
from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import datetime, timezone

from . import tracing

case_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("case_id", default=None)
correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "event": record.getMessage(),
            "logger": record.name,
        }
        if (cid := case_id.get()) is not None:
            line["case_id"] = cid
        if (corr := correlation_id.get()) is not None:
            line["correlation_id"] = corr
        line.update(tracing.log_ids())
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kafka-python logs every reconnect attempt at INFO/WARNING; keep its noise out of ours.
    logging.getLogger("kafka").setLevel(logging.ERROR)


_SAID: set[tuple] = set()
SAID_LIMIT = 10_000


def warn_once(logger: logging.Logger, event: str, key: tuple, **extra) -> None:
    """A warning about a standing condition that a loop meets at every pass (a calendar year nobody
    entered: the scheduler passes every few seconds), logged the first time this process meets it for
    `key` and at debug afterwards, so the log says it once rather than thousands of times a day. What
    the office must act on is shown where it works (the console's dashboard), not only here."""
    said = (event, *key)
    if said in _SAID:
        logger.debug(event, extra=extra)
        return
    if len(_SAID) >= SAID_LIMIT:
        _SAID.clear()
    _SAID.add(said)
    logger.warning(event, extra=extra)
