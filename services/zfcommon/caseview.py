"""A case as its events say: how each case event changes the view of a case. Pure: returns the new
row, or None.

One fold for every reader: ledger projects live events with it (its consumer) and rebuilds past
states from its timeline (as-of); audit rebuilds any case as of any time from the trail. So the
views can never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Mapping, Protocol

from . import outsiders

Row = dict[str, Any]
RECEIVED = "cn.zhengfeng.case.received.v1"
PUBLIC_FIELDS = ("channel", "category", "description", "subject_unit", "priority", "location", "anonymous")
# Lifecycle fields and their values before assignment.
LIFECYCLE: Mapping[str, Any] = {
    "lead_unit": None, "cooperating_units": (), "handling_mode": None, "deadline": None,
    "sign_for_due": None, "assigned_at": None, "accepted_at": None, "sign_for_on_time": None,
    "last_progress_at": None, "extension_pending": False, "extension_count": 0, "closed_at": None,
    "closed_on_time": None, "rework_count": 0, "reopen_count": 0, "recheck_selected": None,
    "recheck_pending": False, "recheck_basis": None, "recheck_outcome": None, "satisfaction": None, "visit_count": 0,
    "merged_into": None, "duplicates": (),
    # docs/CAMPAIGNS.md: the campaign the case belongs to; suggested duplicates the office dismissed
    "campaign_id": None, "dismissed_duplicates": (),
}
# summary: what units, channels and the public read as the description; redacted: the received event's
# masks of the location and origin (zfcommon.outsiders); received_by: who recorded the receipt.
COLUMNS = ("case_id", "case_number", "status", *PUBLIC_FIELDS, "summary", "redacted", "received_by", "origin",
           "received_at", "updated_at", "version", *LIFECYCLE)
# The statuses the fold gives a case, with the Chinese names people (and the hotline) read.
STATUS_LABELS: Mapping[str, str] = {
    "received": "已受理",
    "assigned": "已交办",
    "returned": "已退回",
    "in_progress": "整改中",
    "rectification_reported": "已报整改",
    "dismissal_reported": "已报查否",
    "closed": "已销号",
    "dismissed": "已查否",
    "merged": "已并单",
}


class Change(Protocol):
    """What evolve reads of an event: a live zfcommon Event and a stored `Recorded` entry both fit."""
    type: str
    subject: str
    time: datetime
    streamversion: int
    actor: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Recorded:
    """A case_events row read back, in the shape evolve reads."""
    type: str
    subject: str
    time: datetime
    streamversion: int
    actor: str
    data: Mapping[str, Any]


class UnknownChange(Exception):
    """A case event type the ledger has no rule for (the consumer dead-letters it)."""


def case_type(name: str) -> str:
    return f"cn.zhengfeng.case.{name}.v1"


def _date(value: str) -> date:
    return date.fromisoformat(value)


def _assigned(row: Row, d: Mapping, at: datetime) -> Row:
    return {"status": "assigned", "lead_unit": d["lead_unit"], "cooperating_units": list(d["cooperating_units"]),
            "handling_mode": d["handling_mode"], "deadline": _date(d["deadline"]),
            "sign_for_due": _date(d["sign_for_due"]), "assigned_at": at}


def _reassigned(row: Row, d: Mapping, at: datetime) -> Row:
    # The new lead unit has not signed for it yet; the previous unit's signature says nothing about it.
    return {**_assigned(row, d, at), "accepted_at": None, "sign_for_on_time": None}


def _reopened(row: Row, d: Mapping) -> Row:
    return {"status": "in_progress", "deadline": _date(d["new_deadline"]), "reopen_count": row["reopen_count"] + 1}


def _absorbed(row: Row, d: Mapping) -> list[str]:
    duplicate = d["duplicate_case_id"]
    return row["duplicates"] if duplicate in row["duplicates"] else [*row["duplicates"], duplicate]


def _dismissed(row: Row, d: Mapping) -> list[str]:
    other = d["candidate_case_id"]
    return row["dismissed_duplicates"] if other in row["dismissed_duplicates"] else [*row["dismissed_duplicates"], other]


RULES: dict[str, Callable[[Row, Mapping, datetime], Row]] = {
    case_type("assigned"): _assigned,
    case_type("reassigned"): _reassigned,
    case_type("accepted"): lambda row, d, at: {"status": "in_progress", "accepted_at": at,
                                               "sign_for_on_time": d["on_time"]},
    case_type("returned"): lambda row, d, at: {"status": "returned"},
    case_type("progress_noted"): lambda row, d, at: {"last_progress_at": at},
    case_type("extension_requested"): lambda row, d, at: {"extension_pending": True},
    case_type("extension_approved"): lambda row, d, at: {"deadline": _date(d["new_deadline"]),
                                                         "extension_pending": False,
                                                         "extension_count": row["extension_count"] + 1},
    case_type("extension_denied"): lambda row, d, at: {"extension_pending": False},
    case_type("rectification_reported"): lambda row, d, at: {"status": "rectification_reported"},
    case_type("dismissal_reported"): lambda row, d, at: {"status": "dismissal_reported"},
    case_type("closed"): lambda row, d, at: {"status": "closed", "closed_at": at, "closed_on_time": d["on_time"]},
    case_type("rework_ordered"): lambda row, d, at: {"status": "in_progress", "deadline": _date(d["new_deadline"]),
                                                     "rework_count": d["rework_count"]},
    case_type("dismissal_accepted"): lambda row, d, at: {"status": "dismissed",
                                                         "recheck_selected": d["recheck"]["selected"],
                                                         "recheck_pending": d["recheck"]["selected"],
                                                         "recheck_basis": "draw" if d["recheck"]["selected"]
                                                         else None},
    case_type("recheck_chosen"): lambda row, d, at: {"recheck_pending": True, "recheck_basis": "chosen"},
    case_type("recheck_upheld"): lambda row, d, at: {"status": "dismissed", "recheck_pending": False,
                                                     "recheck_outcome": "upheld"},
    case_type("recheck_overturned"): lambda row, d, at: {**_reopened(row, d), "recheck_pending": False,
                                                         "recheck_outcome": "overturned"},
    case_type("return_visit_recorded"): lambda row, d, at: {"satisfaction": d["satisfaction"],
                                                            "visit_count": row["visit_count"] + 1},
    # A reopened case is no longer signed off: its closing facts would otherwise count it as closed.
    case_type("rehandling_ordered"): lambda row, d, at: {**_reopened(row, d), "closed_at": None,
                                                         "closed_on_time": None},
    case_type("merged"): lambda row, d, at: {"status": "merged", "merged_into": d["into_case_id"]},
    case_type("duplicate_absorbed"): lambda row, d, at: {"duplicates": _absorbed(row, d)},
    case_type("campaign_set"): lambda row, d, at: {"campaign_id": d["campaign_id"]},
    case_type("duplicate_dismissed"): lambda row, d, at: {"dismissed_duplicates": _dismissed(row, d)},
    # The ledger never held the complainant's data; the erasure is on the timeline.
    case_type("complainant_erased"): lambda row, d, at: {},
    case_type("summary_corrected"): lambda row, d, at: {"summary": d["summary"]},
    # A number given to a case received before numbers: the case itself did not change, so its
    # updated_at stays (see evolve).
    case_type("numbered"): lambda row, d, at: {"case_number": d["case_number"]},
}
NOT_A_CHANGE = (case_type("numbered"),)
CASE_TYPES = (RECEIVED, *RULES)


def timeline_entry(event) -> dict[str, Any]:
    """What the timeline keeps of an event. Sealed complainant data never enters the ledger."""
    data = {k: v for k, v in event.data.items() if k != "complainant"}
    return {"case_id": event.subject, "version": event.streamversion, "event_id": event.id,
            "type": event.type, "time": event.time, "actor": event.actor, "data": data}


def _started(change: Change) -> Row:
    masks = outsiders.masks_of(RECEIVED, change.data)
    return {"case_id": change.subject, "case_number": change.data.get("case_number"), "status": "received",
            **{k: change.data[k] for k in PUBLIC_FIELDS}, "summary": outsiders.summary_of(change.data),
            "redacted": masks, "received_by": change.actor, "origin": change.data.get("origin"),
            "received_at": change.time, "updated_at": change.time, "version": change.streamversion,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in LIFECYCLE.items()},  # rows own their lists
            "campaign_id": change.data.get("campaign_id")}


def follow(rules: Mapping[str, Callable[[Row, Mapping, datetime], Row]], row: Row | None, change: Change,
           not_a_change: tuple[str, ...] = ()) -> Row | None:
    """A stream's row after a change that is not its first event: `rules` say what each type changes;
    an event for a row never started, or one not newer than the row (a redelivery), changes nothing; a
    type in `not_a_change` keeps the row's updated_at. Shared by every fold of a stream into a row
    (cases here, tasks in zfcommon.taskview)."""
    rule = rules.get(change.type)
    if rule is None:
        raise UnknownChange(f"the ledger has no rule for {change.type}")
    if row is None or change.streamversion <= row["version"]:
        return None
    updated = row["updated_at"] if change.type in not_a_change else change.time
    return {**row, **rule(row, change.data, change.time), "updated_at": updated, "version": change.streamversion}


def evolve(row: Row | None, change: Change) -> Row | None:
    """The case after `change`, or None when it changes nothing: a second `received`, a change for a
    case the ledger never saw received, or one not newer than the row (a redelivery)."""
    if change.type == RECEIVED:
        return _started(change) if row is None else None
    return follow(RULES, row, change, NOT_A_CHANGE)


def replay(changes: list[Change]) -> Row | None:
    """The case after all `changes`, in stream order (None if they never received it)."""
    row = None
    for change in sorted(changes, key=lambda c: c.streamversion):
        row = evolve(row, change) or row
    return row
