"""Command handlers: load the case from its events, let the domain decide, append what it decided."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from zfcommon.events import new_event

from ..domain import case as domain
from .uow import UnitOfWork


@dataclass(frozen=True)
class Context:
    actor: str
    correlation_id: str


class CaseNotFound(Exception):
    def __init__(self, case_id: str):
        super().__init__(f"no case {case_id}")
        self.case_id = case_id


def load_case(uow: UnitOfWork, case_id: str) -> domain.Case:
    history = uow.events.load(case_id)
    if not history:
        raise CaseNotFound(case_id)
    return domain.Case.replay(case_id, [(e.type, e.data) for e in history])


def _store(uow: UnitOfWork, case: domain.Case, decided: list[domain.NewEvent], ctx: Context) -> None:
    events = [new_event(service="intake", type=d.type, subject=case.case_id, data=d.data,
                        streamversion=case.version + i + 1, correlationid=ctx.correlation_id, actor=ctx.actor)
              for i, d in enumerate(decided)]
    uow.events.append(case.case_id, case.version, events)


def receive_case(cmd: domain.ReceiveComplaint, uow: UnitOfWork, ctx: Context) -> str:
    case = domain.Case(str(uuid.uuid4()))
    sealed = uow.contacts.seal(case.case_id, cmd.complainant) if cmd.complainant else None
    _store(uow, case, domain.receive(case, cmd, sealed), ctx)
    return case.case_id
