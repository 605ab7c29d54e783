"""What notify keeps of a case. Pure."""
from __future__ import annotations

from typing import Any

from zfcommon.events import Event

RECEIVED = "cn.zhengfeng.case.received.v1"


def evolve(row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
    if event.type == RECEIVED and row is None:
        return {"case_id": event.subject, "status": "received", "channel": event.data["channel"],
                "subject_unit": event.data["subject_unit"], "priority": event.data["priority"],
                "received_at": event.time, "version": event.streamversion}
    if row is not None and event.streamversion > row["version"]:
        return {**row, "version": event.streamversion}
    return None
