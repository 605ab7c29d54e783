"""What the accountability and directory events put on the ledger's side tables. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zfcommon.workdays import YearSchedule


@dataclass(frozen=True)
class Entry:
    """One directory row to upsert: `key` names its primary-key column."""
    table: str
    key: str
    row: dict[str, Any]


def _directory_type(name: str) -> str:
    return f"cn.zhengfeng.directory.{name}.v1"


def _unit(data: dict) -> Entry:
    return Entry("units", "name", {k: data[k] for k in ("name", "kind", "supervising_channel", "contacts", "active")})


def _category(active: bool):
    return lambda data: Entry("categories", "name", {"name": data["name"], "group": data["group"], "active": active})


def _calendar_year(data: dict) -> Entry:
    # Validate as the WorkCalendar will read it (a make-up day on a weekday, a date in another year):
    # a schedule the calendar would refuse must be refused here, not at every later query.
    return Entry("calendar_years", "year", YearSchedule.from_dict(data).as_row())


ENTRIES = {
    _directory_type("unit_registered"): _unit,
    _directory_type("unit_updated"): _unit,
    _directory_type("category_added"): _category(True),
    _directory_type("category_removed"): _category(False),
    _directory_type("limits_set"): lambda data: Entry("limits", "singleton", {"singleton": True, "data": data}),
    _directory_type("calendar_year_set"): _calendar_year,
}


# Events of the directory the ledger keeps nothing of: which group robots a unit's notices go to is notify's
# business (docs/NOTICES.md); they are consumed and tracked like the rest.
NOTHING_KEPT = (_directory_type("unit_robots_set"),)


def directory_entry(event_type: str, data: dict) -> Entry | None:
    return None if event_type in NOTHING_KEPT else ENTRIES[event_type](data)


def accountability_row(subject: str, data: dict, time: datetime) -> dict[str, Any]:
    return {"id": subject, **{k: data[k] for k in ("measure", "target_kind", "target", "unit", "basis_cases",
                                                    "decided_by", "reason")}, "time": time}

