"""The case aggregate (问题线索). Pure: it changes only by applying its events; decisions live in
lifecycle.py and return new events without touching any I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from zfcommon import outsiders
from zfcommon.redaction import Identity
from zfcommon.caseview import STATUS_LABELS

PREFIX = "cn.zhengfeng.case."
OPEN = ("received", "assigned", "returned", "in_progress", "rectification_reported", "dismissal_reported")
TERMINAL = ("closed", "dismissed", "merged")


# What each command is called in the office's words (problem details name the command refused).
COMMAND_LABELS = {
    "receive": "受理", "assign": "交办", "reassign": "改派", "merge": "并单", "accept": "签收", "return": "退回",
    "note_progress": "报送进展", "request_extension": "申请延期", "approve_extension": "批准延期",
    "deny_extension": "驳回延期", "report_rectified": "报送整改", "report_not_substantiated": "报送查否",
    "close": "销号", "order_rework": "退回重办", "accept_dismissal": "同意查否", "record_recheck": "记录复查",
    "choose_recheck": "选定复查", "record_return_visit": "记录回访", "order_rehandling": "责令重办",
    "correct_summary": "更正摘要", "set_campaign": "设定专项行动", "dismiss_duplicate": "排除并单建议",
}


class DomainError(Exception):
    """A command the case's history or the directory does not allow. The message is Chinese (what the
    office reads); `code` is the stable machine code the problem carries."""
    code = "case.refused"

    def __init__(self, message: str = "", code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class TransitionRefused(DomainError):
    """409: the command is not allowed in the case's current state."""
    code = "case.transition_refused"

    def __init__(self, case: "Case", command: str, allowed: list[str], why: str = ""):
        state = case.status or "new"
        shown = "新建" if state == "new" else STATUS_LABELS.get(state, state)
        super().__init__(why or f"案件当前状态为“{shown}”，不能{COMMAND_LABELS.get(command, command)}")
        self.state, self.command, self.allowed = state, command, allowed


class InvalidCommand(DomainError):
    """422: a command whose content is wrong (unknown unit, a deadline in the past …); `errors` per field,
    optionally a zh-CN `detail` (else one made of the errors), a stable `code` and extensions for the
    problem (`missing_years` of calendar.year_missing)."""
    code = "case.invalid_command"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None, code: str | None = None,
                 **extensions: Any):
        super().__init__(detail or "；".join(f"{k}：{'，'.join(v)}" for k, v in errors.items()), code)
        self.errors, self.extensions = errors, extensions


class NotYourCase(DomainError):
    """403: a unit acting on a case where it is not the (lead) unit."""
    code = "case.not_your_case"


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
    recheck_basis: str | None = None     # draw | chosen: why the current dismissal is to be re-checked
    rechecked: bool = False              # the current dismissal was re-checked
    dismissal_count: int = 0
    last_satisfaction: str | None = None
    merged_into: str | None = None
    received_by: str | None = None          # the actor that recorded the receipt (its submitter)
    facts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def replay(cls, case_id: str, history: list[tuple[str, dict[str, Any]]], received_by: str | None = None) -> "Case":
        case = cls(case_id, received_by=received_by)
        for event_type, data in history:
            case.apply(event_type, data)
        return case

    @property
    def exists(self) -> bool:
        return self.version > 0

    @property
    def case_number(self) -> str | None:
        """The human number (案件编号); None only for a case received before numbers, until numbered."""
        return self.facts.get("case_number")

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
        self.recheck_basis, self.rechecked = ("draw" if d["recheck"]["selected"] else None), False
        self.dismissal_count += 1

    def _on_recheck_chosen(self, d):
        self.recheck_pending, self.recheck_basis = True, "chosen"

    def _on_recheck_upheld(self, d):
        self.recheck_pending, self.rechecked = False, True

    def _on_recheck_overturned(self, d):
        self.status, self.recheck_pending, self.deadline = "in_progress", False, _date(d["new_deadline"])
        self.rechecked = True

    def _on_return_visit_recorded(self, d):
        self.last_satisfaction = d["satisfaction"]

    def _on_rehandling_ordered(self, d):
        self.status, self.deadline, self.last_satisfaction = "in_progress", _date(d["new_deadline"]), None

    def _on_complainant_erased(self, d):
        self.facts["complainant_erased"] = True

    def _on_summary_corrected(self, d):
        self.facts["summary"] = d["summary"]

    def _on_campaign_set(self, d):
        self.facts["campaign_id"] = d["campaign_id"]

    def _on_duplicate_dismissed(self, d):
        self.facts.setdefault("dismissed_duplicates", []).append(d["candidate_case_id"])

    def _on_merged(self, d):
        self.status, self.merged_into = "merged", d["into_case_id"]

    def _on_numbered(self, d):
        self.facts["case_number"] = d["case_number"]


RECEIVED = PREFIX + "received.v1"
NUMBERED = PREFIX + "numbered.v1"


def case_number(prefix: str, year: int, serial: int) -> str:
    """ZF-2026-000123: the office's prefix, the receipt's year in China, the year's serial (six digits
    at least: a seventh appears after the millionth case of a year, never a reused number)."""
    return f"{prefix}-{year}-{serial:06d}"


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


def receive(case: Case, cmd: ReceiveComplaint, sealed_complainant: dict[str, Any] | None,
            number: str | None = None) -> list[NewEvent]:
    """A lead goes on the ledger under its case number. Anonymous leads are welcome; a complainant's
    identity travels sealed, and is masked here, while it is in clear, in the summary and free text
    others read (outsiders). `number` is given by the adapter that writes the event (a dry run, which
    writes nothing, decides without one)."""
    if case.exists:
        raise TransitionRefused(case, "receive", [])
    return [NewEvent(RECEIVED, outsiders.with_masks(RECEIVED, {
        **({"case_number": number} if number else {}),
        "channel": cmd.channel, "category": cmd.category, "description": cmd.description,
        "subject_unit": cmd.subject_unit, "priority": cmd.priority, "location": cmd.location,
        "anonymous": cmd.complainant is None, "complainant": sealed_complainant,
        **({"origin": cmd.origin} if cmd.origin else {}),
        **({"attachments": cmd.attachments} if cmd.attachments else {}),
        **({"campaign_id": cmd.campaign_id} if cmd.campaign_id else {}),
    }, Identity.of(cmd.complainant)))]


def erase_complainant(case: Case, reason: str) -> list[NewEvent]:
    """PIPL erasure request: only a case that holds sealed complainant data, and only once."""
    sealed = case.facts.get("complainant")
    if not sealed or case.facts.get("complainant_erased"):
        raise InvalidCommand({"complainant": ["此案件没有可删除的举报人信息（匿名，或已删除）"]},
                             code="case.no_complainant_data")
    return [NewEvent(PREFIX + "complainant_erased.v1", {"kid": sealed["kid"], "reason": reason})]


def with_number(decided: list[NewEvent], number: str) -> list[NewEvent]:
    """The events of a receipt decided without its number (a ledger import plans before it writes), with it."""
    return [NewEvent(e.type, {"case_number": number, **e.data}, e.stream) if e.type == RECEIVED else e
            for e in decided]


def number_case(case: Case, number: str) -> list[NewEvent]:
    """A case received before case numbers existed gets its number: once (docs/DECISIONS.md)."""
    if not case.exists or case.case_number:
        raise TransitionRefused(case, "number", [], f"case {case.case_id} has its number already"
                                if case.exists else f"no case {case.case_id}")
    return [NewEvent(NUMBERED, {"case_number": number})]
