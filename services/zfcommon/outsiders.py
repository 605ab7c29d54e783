"""What units, channels and the public read of a case: its free text with personal data masked. Pure.

Anything a complainant wrote or said can identify them, and so can what the office or a unit writes
about it ("请与来信人欧阳明远核实"). The office and auditors read every case event as stored; everyone
else reads its free text masked (docs/PRIVACY.md):

- **At write time**, intake knows the complainant's identity (in clear at receipt, by opening the
  sealed record later). The received event carries `summary`, the description masked by
  `zfcommon.redaction` with that identity and every pattern; any event whose other free text
  (`FREE_TEXT`) the masking changes carries `redacted`: those texts masked, by path
  (`{"location.address": "…〔门牌已隐去〕", "note": "请与来信人某某核实"}`).
- **At read time**, `event_data` and `case_row` give the outsiders' view: the description is the
  summary (the office may correct it: `case.summary_corrected`), each masked text replaces its
  original, the sealed complainant is dropped. Events stored before masking existed get the same
  masking from the patterns alone (the identity is not at hand where they are read): never the raw text.

One function serves intake (its own GET), the ledger (case, list, timeline, exports), notify (notices,
webhooks, hotline callbacks) and a rebuild from the trail, so they cannot disagree.
"""
from __future__ import annotations

import copy
import re
from typing import Any, Iterator, Mapping

from .redaction import People, redact

RECEIVED = "cn.zhengfeng.case.received.v1"


def _case(name: str) -> str:
    return f"cn.zhengfeng.case.{name}.v1"


# The free text of each case event, by path in its data ("*": every item of a list). The description
# is not here: outsiders read the received event's `summary` in its place. tests/unit/test_outsiders.py
# checks that every text field of every case event is either here or named structural there.
FREE_TEXT: Mapping[str, tuple[str, ...]] = {
    RECEIVED: ("location.address", "origin.extra.attributes.window", "origin.extra.attachments.*.name",
               "origin.extra.measures", "origin.extra.remarks", "attachments.*.name"),
    _case("assigned"): ("note",),
    _case("reassigned"): ("note", "reason"),
    _case("returned"): ("reason",),
    _case("progress_noted"): ("note",),
    _case("extension_requested"): ("reason",),
    _case("extension_approved"): ("comment",),
    _case("extension_denied"): ("reason",),
    _case("rectification_reported"): ("text", "attachments.*.name"),
    _case("dismissal_reported"): ("text", "attachments.*.name"),
    _case("closed"): ("comment",),
    _case("rework_ordered"): ("reason",),
    _case("dismissal_accepted"): ("comment",),
    _case("recheck_chosen"): ("reason",),
    _case("recheck_upheld"): ("findings",),
    _case("recheck_overturned"): ("findings",),
    _case("return_visit_recorded"): ("comment",),
    _case("rehandling_ordered"): ("reason",),
    _case("merged"): ("reason",),
    _case("complainant_erased"): ("reason",),
    _case("duplicate_dismissed"): ("reason",),
}
# What the event data of a case may carry besides the catalogue's fields, and never shows outsiders.
PRIVATE = ("complainant", "redacted")
_INDEX = re.compile(r"^[0-9]+$")


def _texts(data: Any, path: list[str], at: str = "") -> Iterator[tuple[str, str]]:
    """(concrete path, text) of every string `path` reaches in `data`."""
    if not path:
        if isinstance(data, str) and data:
            yield at, data
        return
    head, rest = path[0], path[1:]
    if head == "*" and isinstance(data, list):
        for i, item in enumerate(data):
            yield from _texts(item, rest, f"{at}.{i}" if at else str(i))
    elif isinstance(data, dict) and head in data:
        yield from _texts(data[head], rest, f"{at}.{head}" if at else head)


def mask(text: str, who: People = None) -> str:
    """`text` with the complainant's identity `who` and every personal datum the patterns know masked."""
    return redact({"text": text}, who).fields["text"]


def redactions(event_type: str, data: Mapping[str, Any], who: People = None) -> dict[str, str]:
    """Each free text of the event that masking changes, masked, by its path."""
    return {path: masked for pattern in FREE_TEXT.get(event_type, ())
            for path, text in _texts(data, pattern.split("."))
            if (masked := mask(text, who)) != text}


def with_masks(event_type: str, data: dict[str, Any], who: People = None) -> dict[str, Any]:
    """The event's data as intake stores it: with `summary` (a received event) and `redacted` (when
    masking changed any free text), decided with the complainant's identity `who`."""
    out = dict(data)
    if event_type == RECEIVED:
        out["summary"] = mask(data["description"], who)
    masks = redactions(event_type, data, who)
    if masks:
        out["redacted"] = masks
    return out


def masks_of(event_type: str, data: Mapping[str, Any]) -> dict[str, str]:
    """Every free text of the event masked, by path: as recorded at write time, and by the patterns
    for the rest. A text the write-time masking left alone holds nothing the patterns find either, so
    this is exact for new events and the patterns' best for events stored before masking existed."""
    return {**redactions(event_type, data), **(data.get("redacted") or {})}


def _put(data: Any, path: str, text: str) -> None:
    *parents, last = path.split(".")
    for key in parents:
        data = data[int(key)] if _INDEX.match(key) and isinstance(data, list) else data.get(key)
        if data is None:
            return
    if isinstance(data, list) and _INDEX.match(last) and int(last) < len(data):
        data[int(last)] = text
    elif isinstance(data, dict) and last in data:
        data[last] = text


def summary_of(data: Mapping[str, Any]) -> str:
    """A received event's (or a case view's) summary; masked by the patterns when it has none."""
    return data["summary"] if data.get("summary") is not None else mask(data["description"])


def event_data(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A case event's data as units, channels and the public read it."""
    out = copy.deepcopy({k: v for k, v in data.items() if k not in PRIVATE})
    for path, text in masks_of(event_type, data).items():
        _put(out, path, text)
    if event_type == RECEIVED:
        out["summary"] = out["description"] = summary_of(data)
    return out


def case_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A case view (zfcommon.caseview's row) as outsiders read it: the summary as its description,
    the location and origin masked as its received event was (`redacted`: the view keeps its received
    event's masks_of; a view from before that is masked by the patterns here)."""
    out = copy.deepcopy(dict(row))
    masks = row.get("redacted")
    for path, text in (masks_of(RECEIVED, row) if masks is None else masks).items():
        if path.split(".", 1)[0] in ("location", "origin"):
            _put(out, path, text)
    out["description"] = out["summary"] = summary_of(row)
    out.pop("redacted", None)
    return out
