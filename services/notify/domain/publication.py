"""The life of a publication, a monthly bulletin, a quarterly disclosure or an appraisal's results: its
states, what may be done in each, and the fold of its events into what readers see. Pure.

A bulletin, monthly or interim (over any period), is drafted (its data snapshot taken), reviewed by
the office (approved, or sent back with comments, after which it is redrafted), and published only
once approved; publishing gives it its document number (domain/document.py). A disclosure is simpler:
drafted, redrafted at will, published. An appraisal (民主评议, domain/appraisal.py) is opened first and
collects ballots; drafting closes the ballot box and takes its results, reviewed and published as a
bulletin's. Publishing ends all of them: a published text is never changed.
The stream is `bulletin-<YYYY-MM>`, `interim-<first day>_<last day>` or `disclosure-<YYYY>-Q<n>`; each decision is taken on the stream's
state folded from its events and appended at its version, so two racing offices cannot both publish.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any, Mapping

from zfcommon import periods

Row = dict[str, Any]
PREFIX = "cn.zhengfeng."
STATES = {"opened": "收集评议票中", "drafted": "待审核", "changes_requested": "退回修改", "approved": "已审核",
          "published": "已发布"}
KINDS = ("bulletin", "disclosure", "interim", "appraisal")
KIND_NAMES = {"bulletin": "月通报", "disclosure": "热线办理情况公布", "interim": "阶段性通报",
              "appraisal": "民主评议结果"}
ACTIONS = {"draft": "起草", "redraft": "重新起草", "review": "审核", "publish": "发布", "redact": "脱敏",
           "approve": "审核通过", "withdraw": "撤回", "open": "发起", "ballot": "录入评议票"}
# The monthly bulletin and the interim report over any period (阶段性通报) share one lifecycle.
REVIEWED = {None: ("draft",), "drafted": ("redraft", "review"), "changes_requested": ("redraft",),
            "approved": ("redraft", "publish"), "published": ()}
# What may be done in each state (None: nothing was drafted yet).
ALLOWED = {"bulletin": REVIEWED, "interim": REVIEWED,
           "disclosure": {None: ("draft",), "drafted": ("draft", "publish"), "published": ()},
           # Ballots are taken while the round is open; drafting closes the box and takes the results.
           "appraisal": {**REVIEWED, None: ("open",), "opened": ("ballot", "draft")}}


class SameReviewer(Exception):
    """Four eyes: whoever prepared a text (drafted a bulletin, redacted an exposure) may not approve it
    (HTTP 403)."""

    def __init__(self, actor: str, did: str):
        super().__init__(f"{actor} {did}，须由另一位正风办人员审核通过（双人审核）")


def check_reviewer(row: Row, actor: str, decision: str) -> None:
    if decision == "approved" and actor == row["drafted_by"]:
        raise SameReviewer(actor, "起草了这份稿件")


class Refused(Exception):
    """The action does not fit the publication's state (an HTTP 409 naming the state)."""

    def __init__(self, kind: str, key: str, state: str | None, action: str):
        self.state, self.allowed = state or "none", list(ALLOWED[kind][state])
        self.code = f"{kind}.transition_refused"
        what = f"{key} {KIND_NAMES[kind]}"
        super().__init__(f"{what}尚未起草" if state is None else
                         f"{what}当前为“{STATES.get(self.state, self.state)}”，不能{ACTIONS.get(action, action)}"
                         + (f"（现在可以：{'、'.join(ACTIONS.get(a, a) for a in self.allowed)}）" if self.allowed else ""))


def stream(kind: str, key: str) -> str:
    return f"{kind}-{key}"


def check(kind: str, key: str, state: str | None, action: str) -> None:
    if action not in ALLOWED[kind][state]:
        raise Refused(kind, key, state, action)


def title(kind: str, key: str) -> str:
    """The publication's Chinese title, as the published event and every rendering give it."""
    if kind == "bulletin":
        year, month = key.split("-")
        return f"{year}年{int(month)}月作风建设工作通报"
    if kind == "interim":
        first, last = interim_period(key)
        ending = f"{last.month}月{last.day}日" if last.year == first.year else f"{last.year}年{last.month}月{last.day}日"
        return f"{first.year}年{first.month}月{first.day}日至{ending}作风建设工作阶段性通报"
    if kind == "appraisal":
        return f"{appraisal_period_label(key)}政风行风民主评议结果通报"
    year, quarter = key.split("-Q")
    return f"{year}年第{quarter}季度12345热线群众诉求办理情况公布"


def appraisal_period_label(key: str) -> str:
    """An appraisal's period as people write it: 2026年第四季度, or 2026年度 for a year's."""
    return periods.quarter_label(key) if "-Q" in key else f"{key}年度"


def interim_key(first: date, last: date) -> str:
    return f"{first.isoformat()}_{last.isoformat()}"


def period_fields(kind: str, key: str) -> Row:
    """How a bulletin's events name what they are about: its month, or an interim report's first and
    last day."""
    if kind == "interim":
        first, last = interim_period(key)
        return {"from": first.isoformat(), "to": last.isoformat()}
    if kind == "appraisal":
        return {"period": key}
    return {"month": key}


def interim_period(key: str) -> tuple[date, date]:
    """The first and last day of an interim report's key (ValueError when it is not one)."""
    first, last = key.split("_")
    return date.fromisoformat(first), date.fromisoformat(last)


def digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of the draft's data in the canonical JSON form of docs/CANONICAL.md: a published
    bulletin names exactly what was approved, and anyone holding the data can check it."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def evolve(row: Row | None, kind: str, key: str, event_type: str, data: Mapping[str, Any], *, version: int,
           time: datetime, actor: str) -> Row | None:
    """The publication after one of its events, or None when the event is not newer than the row
    (a redelivery, or our own event coming back after the command already applied it)."""
    if row is not None and version <= row["version"]:
        return None
    name = event_type.removeprefix(f"{PREFIX}{kind}.").rsplit(".", 1)[0]
    row = dict(row or {"key": key, "reviews": [], "published_at": None, "published_by": None, "digest": None,
                       "on_time": None, "document": None})
    row["version"] = version
    if name == "opened":
        row.update(state="opened", revision=version, data={"round": dict(data), "ballots": 0}, drafted_at=None,
                   drafted_by=None)
    elif name == "ballot_recorded":
        row["data"] = {**row["data"], "ballots": row["data"]["ballots"] + 1}
    elif name == "drafted":
        row.update(state="drafted", revision=version, data=dict(data), drafted_at=time, drafted_by=actor)
    elif name == "reviewed":
        row["reviews"] = [*row["reviews"], {"revision": data["revision"], "decision": data["decision"],
                                            "comments": data["comments"], "by": actor, "at": time.isoformat()}]
        row["state"] = "approved" if data["decision"] == "approved" else "changes_requested"
    elif name == "published":
        row.update(state="published", published_at=time, published_by=actor, digest=data["digest"],
                   on_time=data.get("on_time"), document=data.get("document"))
    return row
