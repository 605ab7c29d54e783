"""The case aggregate (问题线索). Pure: it changes only by applying its events, and decisions return
new events without touching any I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RECEIVED = "cn.zhengfeng.case.received.v1"


class DomainError(Exception):
    """A command the case's history does not allow."""


class TransitionRefused(DomainError):
    def __init__(self, case: "Case", command: str):
        super().__init__(f"{command} is not allowed while the case is {case.status or 'new'}")
        self.state = case.status
        self.command = command


@dataclass(frozen=True)
class NewEvent:
    """An event decided by the domain, not yet enveloped or stored."""
    type: str
    data: dict[str, Any]


@dataclass
class Case:
    case_id: str
    version: int = 0
    status: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def replay(cls, case_id: str, history: list[tuple[str, dict[str, Any]]]) -> "Case":
        case = cls(case_id)
        for event_type, data in history:
            case.apply(event_type, data)
        return case

    def apply(self, event_type: str, data: dict[str, Any]) -> None:
        self.version += 1
        if event_type == RECEIVED:
            self.status = "received"
            self.facts = dict(data)


@dataclass(frozen=True)
class ReceiveComplaint:
    channel: str
    category: str
    description: str
    subject_unit: str
    priority: str = "normal"
    location: dict[str, Any] | None = None
    complainant: dict[str, Any] | None = None


def receive(case: Case, cmd: ReceiveComplaint, sealed_complainant: dict[str, Any] | None) -> list[NewEvent]:
    """A lead goes on the ledger. Anonymous leads are welcome; a complainant's identity travels sealed."""
    if case.version:
        raise TransitionRefused(case, "receive")
    return [NewEvent(RECEIVED, {
        "channel": cmd.channel, "category": cmd.category, "description": cmd.description,
        "subject_unit": cmd.subject_unit, "priority": cmd.priority, "location": cmd.location,
        "anonymous": cmd.complainant is None, "complainant": sealed_complainant,
    })]
