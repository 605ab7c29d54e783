"""What notify keeps of a case. Pure.

The case itself is folded by zfcommon.caseview (the one fold ledger and audit use), kept whole in
`view`; the columns beside it are what notify queries: status, units, origin (the hotline's order
number) and the text of the last report, masked as outsiders read it (what the hotline hears as the
result when a case closes).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from zfcommon import caseview, outsiders
from zfcommon.events import Event

RECEIVED = caseview.RECEIVED
REPORTS = (caseview.case_type("rectification_reported"), caseview.case_type("dismissal_reported"))


def _plain(value: Any) -> Any:
    """The view as JSON can hold it: dates and times as ISO text (the fold never reads them back)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def evolve(row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
    """The watched case after `event`, or None when it changes nothing (not a case event, a case
    notify never saw received, a redelivery or an older event)."""
    if event.type not in caseview.CASE_TYPES:
        return None
    if row is not None and row.get("view") is None:
        return None         # a row from before notify kept views: the rebuild refills it
    view = caseview.evolve(row["view"] if row else None, event)
    if view is None:
        return None
    view = {k: _plain(v) for k, v in view.items()}
    last_report = (outsiders.event_data(event.type, event.data)["text"] if event.type in REPORTS
                   else (row or {}).get("last_report"))
    return {"case_id": view["case_id"], "status": view["status"], "channel": view["channel"],
            "subject_unit": view["subject_unit"], "priority": view["priority"],
            "received_at": row["received_at"] if row else event.time, "version": view["version"],
            "lead_unit": view["lead_unit"], "cooperating_units": list(view["cooperating_units"]),
            "origin": view["origin"], "last_report": last_report, "view": view}


def case_number(row: dict[str, Any] | None) -> str | None:
    """The watched case's number (案件编号); None for a case received before numbers, until numbered."""
    return ((row or {}).get("view") or {}).get("case_number")


def units(row: dict[str, Any] | None) -> set[str]:
    """The units a case is with: its lead and cooperating units."""
    if row is None:
        return set()
    return {u for u in (row["lead_unit"], *row["cooperating_units"]) if u}
