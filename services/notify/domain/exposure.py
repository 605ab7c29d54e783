"""The life of a public exposure of a typical case (典型案例曝光): its states, what may be done in each,
who may approve, and the fold of its events. Pure.

selected → redacted (again at will) → approved by a second office user → published → withdrawn.
Redacting again after approval voids the approval: what is published is always a text a second
person approved as it stands. Withdrawal ends any state; a withdrawn exposure is never shown again.
The stream is `exposure-<id>`; each decision is taken on the state folded from the stream and
appended at its version, so two racing offices cannot both publish or both approve.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from . import publication

Row = dict[str, Any]
PREFIX = "cn.zhengfeng.exposure."
SameReviewer = publication.SameReviewer
STATES = {"selected": "已选定", "redacted": "已脱敏待审核", "approved": "已审核", "published": "已发布",
          "withdrawn": "已撤回"}
ALLOWED: dict[str, tuple[str, ...]] = {
    "selected": ("redact", "withdraw"),
    "redacted": ("redact", "approve", "withdraw"),
    "approved": ("redact", "publish", "withdraw"),
    "published": ("withdraw",),
    "withdrawn": (),
}


class Refused(Exception):
    """The action does not fit the exposure's state (an HTTP 409 naming the state)."""

    code = "exposure.transition_refused"

    def __init__(self, exposure_id: str, state: str, action: str):
        self.state, self.allowed = state, list(ALLOWED[state])
        shown = publication.ACTIONS
        super().__init__(f"典型案例曝光 {exposure_id} 当前为“{STATES[state]}”，不能{shown.get(action, action)}"
                         + (f"（现在可以：{'、'.join(shown.get(a, a) for a in self.allowed)}）" if self.allowed else ""))


def stream(exposure_id: str) -> str:
    return f"exposure-{exposure_id}"


def check(row: Row, action: str) -> None:
    if action not in ALLOWED[row["state"]]:
        raise Refused(row["id"], row["state"], action)


def check_approver(row: Row, actor: str) -> None:
    if actor == row["redacted_by"]:
        raise SameReviewer(actor, "对这段文字做了脱敏")


def digest(public: Mapping[str, Any]) -> str:
    """SHA-256 of the public fields in the canonical JSON form of docs/CANONICAL.md: the published
    event names exactly the text that went out, and anyone holding the page can check it."""
    text = json.dumps(public, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _name(event_type: str) -> str:
    return event_type.removeprefix(PREFIX).rsplit(".", 1)[0]


def is_exposure(event_type: str) -> bool:
    return event_type.startswith(PREFIX)


def evolve(row: Row | None, event_type: str, data: Mapping[str, Any], *, version: int, time: Any,
           actor: str) -> Row | None:
    """The exposure after one of its events, or None when the event is not newer than the row (a
    redelivery, or our own event coming back after the command already applied it)."""
    if row is not None and version <= row["version"]:
        return None
    name = _name(event_type)
    if row is None:
        if name != "selected":
            return None         # a stream the projection never saw begin: the rebuild fills it
        row = {"id": data["exposure_id"], "case_id": data["case_id"], "title": data["title"],
               "category": data["category"], "lesson": data["lesson"], "case": dict(data["case"]),
               "selected_by": actor, "selected_at": time, "draft": None, "removed": [],
               "complainant_checked": None, "revision": None, "redacted_by": None, "redacted_at": None,
               "approved_revision": None, "approved_by": None, "approved_at": None, "published": None,
               "digest": None, "published_at": None, "published_by": None, "withdrawn_at": None,
               "withdrawn_by": None, "withdraw_reason": None, "state": "selected"}
    row = {**row, "version": version}
    if name == "redacted":
        row.update(state="redacted", draft=dict(data["public"]), removed=list(data["removed"]),
                   complainant_checked=data["complainant_checked"], revision=version, redacted_by=actor,
                   redacted_at=time, approved_revision=None, approved_by=None, approved_at=None)
    elif name == "approved":
        row.update(state="approved", approved_revision=data["revision"], approved_by=actor, approved_at=time)
    elif name == "published":
        row.update(state="published", published=dict(data["public"]), digest=data["digest"], published_at=time,
                   published_by=actor)
    elif name == "withdrawn":
        row.update(state="withdrawn", withdrawn_at=time, withdrawn_by=actor, withdraw_reason=data["reason"])
    return row


def replay(events: list[Any]) -> Row | None:
    """The exposure after its stream's events (zfcommon Events), in order."""
    row = None
    for e in events:
        row = evolve(row, e.type, e.data, version=e.streamversion, time=e.time, actor=e.actor) or row
    return row
