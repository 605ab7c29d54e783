"""What the blueprints of the office's own aggregates (inspections, monitoring points, campaigns,
tasks, projects, look-backs) share: error mapping, commands with Idempotency-Key and If-Match, reads."""
from __future__ import annotations

from typing import Callable

from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.problem import Conflict, Forbidden, NotFound, Unprocessable
from zfcommon.web import expected_version

from ..domain import refusals
from ..service_layer import aggregates
from .common import command, problems, uow

RETRIES = 3


class Raced(Conflict):
    """Another command appended to the same aggregate first."""


def mapped(fn):
    """The campaign machinery's refusals carry a Chinese detail and a code; the rest map as for cases."""
    try:
        return fn()
    except aggregates.SourceNotFound as exc:
        raise NotFound(str(exc), code=exc.code) from None
    except ConcurrencyConflict as exc:
        raise Raced(f"{exc.stream_id} 在版本 {exc.expected_version} 之后已被他人修改：请重新读取后再试",
                    code="source.version_conflict", stream_id=exc.stream_id) from None
    except refusals.Invalid as exc:
        raise Unprocessable(exc.detail, errors=exc.errors, code=exc.code, **exc.extra) from None
    except refusals.Refused as exc:
        raise Conflict(exc.detail, state=exc.state, allowed=exc.allowed, code=exc.code) from None
    except refusals.NotYours as exc:
        raise Forbidden(exc.detail, code=exc.code) from None


def aggregate_command(fn: Callable):
    """command() (Idempotency-Key, one transaction) for fn(uow, expected_version). Without If-Match the
    caller did not ask to act on a version: a race lost to a concurrent command (the unique stream
    version refused our append and rolled everything back, a case it opened included) is decided again."""
    expected = expected_version()
    for attempt in range(RETRIES):
        try:
            return command(lambda u: fn(u, expected), errors=lambda f: problems(lambda: mapped(f)))
        except Raced:
            if expected is not None or attempt == RETRIES - 1:
                raise


def read(fn: Callable):
    with uow() as u:
        return mapped(lambda: problems(lambda: fn(u)))


def etag(version: int) -> dict:
    return {"ETag": f'"{version}"'}


def iso(value) -> str | None:
    return value and value.isoformat()


def evidence_wire(items) -> list[dict]:
    """Evidence as events hold it: `taken_at` as RFC 3339 text."""
    return [{**e, "taken_at": e["taken_at"] and e["taken_at"].isoformat()} for e in items]
