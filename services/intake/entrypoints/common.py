"""What intake's blueprints share: the unit of work, the command context, error mapping."""
from __future__ import annotations

import json

from flask import current_app, request
from marshmallow import Schema

from zfcommon import logs
from zfcommon.auth import Principal, channel_reach
from zfcommon.events import InvalidEvent
from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.idempotency import request_hash, run_command
from zfcommon.problem import Conflict, Forbidden, NotFound, Unprocessable
from zfcommon.web import principal

from ..domain import case as domain
from ..service_layer import handlers
from ..service_layer.uow import UnitOfWork


def uow(write_behind: bool = False) -> UnitOfWork:
    return UnitOfWork(current_app.extensions["zf_pool"], current_app.extensions["zf_master_key"],
                      current_app.extensions["zf_settings"].case_number_prefix, write_behind)


def command_uow() -> UnitOfWork:
    """A command's unit of work: its writes go as one statement at commit (zfcommon.uow)."""
    return uow(write_behind=True)


def context() -> handlers.Context:
    who = principal()
    return handlers.Context(actor=who.actor, correlation_id=logs.correlation_id.get() or "",
                            now=current_app.extensions["zf_clock"].now(), role=who.role, unit=who.unit)


def problems(fn):
    """Map domain errors to problem+json at the edge (house style: 404, 403, 409, 422); each carries
    the domain's stable code and its Chinese message."""
    try:
        return fn()
    except handlers.CaseNotFound as exc:
        raise NotFound(str(exc), code="case.not_found") from None
    except ConcurrencyConflict as exc:
        raise Conflict(f"案件 {exc.stream_id} 已被他人同时修改（版本 {exc.expected_version} 之后）：请重新读取后再试",
                       code="case.version_conflict", reason=str(exc), case_id=exc.stream_id) from None
    except domain.TransitionRefused as exc:
        raise Conflict(str(exc), code=exc.code, state=exc.state, allowed=exc.allowed) from None
    except domain.NotYourCase as exc:
        raise Forbidden(str(exc), code=exc.code) from None
    except domain.InvalidCommand as exc:
        raise Unprocessable(str(exc), code=exc.code, errors=exc.errors, **exc.extensions) from None
    except domain.DomainError as exc:
        raise Unprocessable(str(exc), code=exc.code) from None
    except InvalidEvent as exc:       # the catalogue refused what a command decided: its fields are named
        raise Unprocessable("以下字段不符合要求：" + "、".join(map(str, exc.errors.get("data", exc.errors))),
                            code="event.invalid", reason=str(exc),
                            errors=exc.errors.get("data", exc.errors)) from None


def command(fn, schema: Schema | None = None, errors=problems):
    """Run fn(uow) -> (status, body, headers) under the request's Idempotency-Key, in one transaction,
    its writes sent as one statement; `errors` maps what it raises, at the commit too.

    With `schema`, the body is dumped to its wire form before it is stored, so the first answer and a
    replay are the same JSON (a stored answer holds no dates to dump again); the view's own response
    schema must then not dump it a second time, hence a ready Response."""
    def run(u):
        status, body, headers = fn(u)
        return status, schema.dump(body) if schema is not None else body, headers
    status, body, headers = run_command(
        command_uow, principal().actor, request.headers.get("Idempotency-Key"),
        request_hash(request.method, request.path, request.get_data()), run, errors=errors)
    if schema is None:
        return body, status, headers
    return current_app.response_class(json.dumps(body, ensure_ascii=False), status, headers,
                                      mimetype="application/json")


def visible(case: domain.Case) -> bool:
    """Who may see a case at all: the office and auditors; a unit its own cases; a channel its own
    submissions (zfcommon.auth.channel_reach)."""
    who = principal()
    reach = channel_reach(who)
    return (who.role in ("office", "auditor") or (who.role == "unit" and case.is_unit_of(who.unit))
            or (reach is not None and reach.covers(case.channel, case.facts.get("origin"), case.received_by)))


def reads_full_text(who: Principal) -> bool:
    """The office and auditors read what complainants wrote as they wrote it; everyone else masked."""
    return who.role in ("office", "auditor")


def load_visible(u: UnitOfWork, case_id: str) -> domain.Case:
    case = handlers.load_case(u, case_id)
    if not visible(case):
        raise handlers.CaseNotFound(case_id)      # 404, not 403: do not reveal that the case exists
    return case
