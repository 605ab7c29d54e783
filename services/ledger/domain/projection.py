"""How each event changes the ledger's view of a case. Pure: returns the new row, or None."""
from __future__ import annotations

from typing import Any

from zfcommon.events import Event

RECEIVED = "cn.zhengfeng.case.received.v1"
PUBLIC_FIELDS = ("channel", "category", "description", "subject_unit", "priority", "location", "anonymous")


def timeline_entry(event: Event) -> dict[str, Any]:
    """What the timeline keeps of an event. Sealed complainant data never enters the ledger."""
    data = {k: v for k, v in event.data.items() if k != "complainant"}
    return {"case_id": event.subject, "version": event.streamversion, "event_id": event.id,
            "type": event.type, "time": event.time, "actor": event.actor, "data": data}


def evolve(row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
    if event.type == RECEIVED:
        if row is not None:
            return None
        return {"case_id": event.subject, "status": "received", "received_at": event.time,
                "updated_at": event.time, "version": event.streamversion,
                **{k: event.data[k] for k in PUBLIC_FIELDS}}
    if row is None or event.streamversion <= row["version"]:
        return None
    return {**row, "updated_at": event.time, "version": event.streamversion}
