"""The case aggregate (问题线索). Pure: it changes only by applying its events; decisions live in
lifecycle.py and return new events without touching any I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

PREFIX = "cn.zhengfeng.case."
OPEN = ("received", "assigned", "returned", "in_progress", "rectification_reported", "dismissal_reported")
TERMINAL = ("closed", "dismissed", "merged")


class DomainError(Exception):
    """A command the case's history or the directory does not allow."""


class TransitionRefused(DomainError):
    """409: the command is not allowed in the case's current state."""

    def __init__(self, case: "Case", command: str, allowed: list[str], why: str = ""):
        state = case.status or "new"
        super().__init__(why or f"{command} is not allowed while the case is {state}")
        self.state, self.command, self.allowed = state, command, allowed


class InvalidCommand(DomainError):
    """422: a command whose content is wrong (unknown unit, a deadline in the past …); `errors` per field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class NotYourCase(DomainError):
    """403: a unit acting on a case where it is not the (lead) unit."""


@dataclass(frozen=True)
class NewEvent:
    """An event decided by the domain, not yet enveloped or stored. `stream` defaults to the case."""
    type: str
    data: dict[str, Any]
    stream: str | None = None


def _date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass
class Case:
    case_id: str
    version: int = 0
    status: str | None = None
    channel: str | None = None
    priority: str = "normal"
    lead_unit: str | None = None
    cooperating_units: list[str] = field(default_factory=list)
    handling_mode: str | None = None
    deadline: date | None = None
    sign_for_due: date | None = None
    extension_pending: bool = False
    requested_deadline: date | None = None
    rework_count: int = 0
    recheck_pending: bool = False
    dismissal_count: int = 0
    last_satisfaction: str | None = None
    merged_into: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def replay(cls, case_id: str, history: list[tuple[str, dict[str, Any]]]) -> "Case":
        case = cls(case_id)
        for event_type, data in history:
            case.apply(event_type, data)
        return case

    @property
    def exists(self) -> bool:
        return self.version > 0

    def is_unit_of(self, unit: str | None) -> bool:
        return unit is not None and (unit == self.lead_unit or unit in self.cooperating_units)

    def apply(self, event_type: str, data: dict[str, Any]) -> None:
        self.version += 1
        name = event_type.removeprefix(PREFIX).rsplit(".", 1)[0]
        getattr(self, f"_on_{name}", lambda d: None)(data)

    def _on_received(self, d):
        self.status, self.channel, self.priority, self.facts = "received", d["channel"], d["priority"], dict(d)

    def _on_assigned(self, d):
        self.status = "assigned"
        self.lead_unit, self.cooperating_units = d["lead_unit"], list(d["cooperating_units"])
        self.handling_mode, self.deadline = d["handling_mode"], _date(d["deadline"])
        self.sign_for_due, self.extension_pending = _date(d["sign_for_due"]), False

    _on_reassigned = _on_assigned

    def _on_accepted(self, d):
        self.status = "in_progress"

    def _on_returned(self, d):
        self.status = "returned"

    def _on_extension_requested(self, d):
        self.extension_pending, self.requested_deadline = True, _date(d["requested_deadline"])

    def _on_extension_approved(self, d):
        self.extension_pending, self.deadline = False, _date(d["new_deadline"])

    def _on_extension_denied(self, d):
        self.extension_pending = False

    def _on_rectification_reported(self, d):
        self.status, self.extension_pending = "rectification_reported", False

    def _on_dismissal_reported(self, d):
        self.status, self.extension_pending = "dismissal_reported", False

    def _on_closed(self, d):
        self.status = "closed"

    def _on_rework_ordered(self, d):
        self.status, self.deadline, self.rework_count = "in_progress", _date(d["new_deadline"]), d["rework_count"]

    def _on_dismissal_accepted(self, d):
        self.status, self.recheck_pending = "dismissed", d["recheck"]["selected"]
        self.dismissal_count += 1

    def _on_recheck_upheld(self, d):
        self.recheck_pending = False

    def _on_recheck_overturned(self, d):
        self.status, self.recheck_pending, self.deadline = "in_progress", False, _date(d["new_deadline"])

    def _on_return_visit_recorded(self, d):
        self.last_satisfaction = d["satisfaction"]

    def _on_rehandling_ordered(self, d):
        self.status, self.deadline, self.last_satisfaction = "in_progress", _date(d["new_deadline"]), None

    def _on_complainant_erased(self, d):
        self.facts["complainant_erased"] = True

    def _on_campaign_set(self, d):
        self.facts["campaign_id"] = d["campaign_id"]

    def _on_duplicate_dismissed(self, d):
        self.facts.setdefault("dismissed_duplicates", []).append(d["candidate_case_id"])

    def _on_merged(self, d):
        self.status, self.merged_into = "merged", d["into_case_id"]


RECEIVED = PREFIX + "received.v1"


@dataclass(frozen=True)
class ReceiveComplaint:
    channel: str
    category: str
    description: str
    subject_unit: str
    priority: str = "normal"
    location: dict[str, Any] | None = None
    complainant: dict[str, Any] | None = None
    origin: dict[str, Any] | None = None     # catalogue.OriginData: set by channel adapters, not by users
    attachments: list[dict[str, Any]] | None = None   # evidence that came with the lead (catalogue.Evidence)
    campaign_id: str | None = None           # the campaign (专项行动) it belongs to (checked by the handler)


def receive(case: Case, cmd: ReceiveComplaint, sealed_complainant: dict[str, Any] | None) -> list[NewEvent]:
    """A lead goes on the ledger. Anonymous leads are welcome; a complainant's identity travels sealed."""
    if case.exists:
        raise TransitionRefused(case, "receive", [])
    return [NewEvent(RECEIVED, {
        "channel": cmd.channel, "category": cmd.category, "description": cmd.description,
        "subject_unit": cmd.subject_unit, "priority": cmd.priority, "location": cmd.location,
        "anonymous": cmd.complainant is None, "complainant": sealed_complainant,
        **({"origin": cmd.origin} if cmd.origin else {}),
        **({"attachments": cmd.attachments} if cmd.attachments else {}),
        **({"campaign_id": cmd.campaign_id} if cmd.campaign_id else {}),
    })]


def erase_complainant(case: Case, reason: str) -> list[NewEvent]:
    """PIPL erasure request: only a case that holds sealed complainant data, and only once."""
    sealed = case.facts.get("complainant")
    if not sealed or case.facts.get("complainant_erased"):
        raise InvalidCommand({"complainant": ["this case holds no complainant data to erase"]})
    return [NewEvent(PREFIX + "complainant_erased.v1", {"kid": sealed["kid"], "reason": reason})]
