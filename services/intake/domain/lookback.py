"""Look-back (回头看, seed 000: 防止反弹): the office draws closed cases and signed-off tasks at a set
ratio, filtered by campaign, unit, category and when they were closed, and checks each drawn item
again: held (巩固) or rebounded (反弹). A rebound opens a new case linked to the original (channel
`lookback`), in the same transaction as the finding. One stream per look-back (`lookback-<uuid>`).

The draw is the existing SHA-256 draw (zfcommon.draw) and reproducible from its event alone:
seed = nonce + ":" + SHA-256 of the sorted candidate lines (`kind:id`) joined by newlines; each
candidate's draw = draw(seed + ":" + kind + ":" + id); the ⌈ratio × n⌉ candidates with the lowest
draws (ties by kind and id) are selected, so the ratio holds exactly, not only on average. Pure."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from zfcommon.draw import draw as sha_draw

from .case import NewEvent, ReceiveComplaint
from .inspection import Folded
from .refusals import Invalid, Refused

PREFIX = "cn.zhengfeng.lookback."
DRAWN, FINDING = PREFIX + "drawn.v1", PREFIX + "finding_recorded.v1"
STREAM_PREFIX = "lookback-"
CHANNEL = "lookback"


@dataclass
class Lookback(Folded):
    lookback_id: str
    version: int = 0
    facts: dict[str, Any] = field(default_factory=dict)
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)     # item id -> finding
    drawn_at: datetime | None = None

    def apply(self, event_type: str, data: dict[str, Any], at: datetime | None = None) -> None:
        self.version += 1
        if event_type == DRAWN:
            self.facts, self.drawn_at = dict(data), at
        elif event_type == FINDING:
            self.findings[data["id"]] = {**data, "recorded_at": at}

    @property
    def exists(self) -> bool:
        return bool(self.facts)

    def item(self, item_id: str) -> dict[str, Any] | None:
        return next((c for c in self.facts.get("candidates", []) if c["id"] == item_id), None)

    @property
    def status(self) -> str:
        pending = [i for i in self.facts.get("selected", []) if i not in self.findings]
        return "checking" if pending else "completed"

    def allowed_commands(self) -> list[str]:
        return ["record_finding"] if self.status == "checking" else []


def seed_of(nonce: str, candidates: Iterable[dict[str, Any]]) -> str:
    lines = sorted(f"{c['kind']}:{c['id']}" for c in candidates)
    return f"{nonce}:{hashlib.sha256(chr(10).join(lines).encode('utf-8')).hexdigest()}"


def draw(title: str, filters: dict[str, Any], ratio: float, nonce: str,
         candidates: list[dict[str, Any]]) -> list[NewEvent]:
    """Record every candidate with its draw and the selected ones. Candidates come from the ledger:
    {kind, id, unit, campaign_id, category, closed_on}."""
    if not candidates:
        raise Invalid("没有符合条件的已销号案件或任务，无法抽取回头看", {"filters": ["没有符合条件的对象"]},
                      "lookback.no_candidates")
    seed = seed_of(nonce, candidates)
    drawn = [{**c, "draw": sha_draw(f"{seed}:{c['kind']}:{c['id']}")} for c in candidates]
    drawn.sort(key=lambda c: (c["kind"], c["id"]))
    wanted = math.ceil(ratio * len(drawn))
    selected = sorted(drawn, key=lambda c: (c["draw"], c["kind"], c["id"]))[:wanted]
    return [NewEvent(DRAWN, {"title": title, "filters": filters, "ratio": ratio, "nonce": nonce, "seed": seed,
                             "candidates": drawn, "selected": [c["id"] for c in selected]})]


def check_finding(lookback: Lookback, item_id: str) -> dict[str, Any]:
    """The drawn item a finding is about (409 when nothing is left to check, 422 when it was not drawn)."""
    if lookback.status != "checking":
        raise Refused("completed", "record_finding", [], "本次回头看的抽查对象均已记录结果", "lookback.completed")
    item = lookback.item(item_id)
    if item is None or item_id not in lookback.facts["selected"]:
        raise Invalid(f"{item_id} 不是本次回头看抽中的对象", {"id": ["未被抽中"]}, "lookback.not_drawn")
    if item_id in lookback.findings:
        raise Invalid(f"{item_id} 的回头看结果已记录", {"id": ["结果已记录"]}, "lookback.already_recorded")
    return item


def rebound_case(lookback: Lookback, item: dict[str, Any], note: str, category: str | None) -> ReceiveComplaint:
    """The new case a rebound opens: about the unit that led the original, in its campaign, pointing back
    to the look-back and the original item."""
    chosen = category or item.get("category")
    if not chosen:
        raise Invalid("反弹问题须写明问题类别", {"category": ["必填（原任务没有问题类别）"]}, "lookback.category_required")
    return ReceiveComplaint(channel=CHANNEL, category=chosen, description=note, subject_unit=item["unit"],
                            campaign_id=item.get("campaign_id"),
                            origin={"system": CHANNEL, "ref": item["id"], "parent": lookback.lookback_id,
                                    "extra": {"kind": item["kind"], "title": lookback.facts["title"]}})


def finding(item: dict[str, Any], outcome: str, note: str, evidence: list[dict[str, Any]],
            case_id: str | None) -> list[NewEvent]:
    return [NewEvent(FINDING, {"kind": item["kind"], "id": item["id"], "unit": item["unit"], "outcome": outcome,
                               "note": note, "case_id": case_id, "evidence": [dict(e) for e in evidence]})]


def closed_window(closed_from: date | None, closed_to: date | None) -> None:
    if closed_from and closed_to and closed_to < closed_from:
        raise Invalid("销号日期区间的结束早于开始", {"closed_to": ["早于 closed_from"]}, "lookback.invalid")
