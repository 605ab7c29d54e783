"""A campaign's figures (docs/CAMPAIGNS.md "Figures") and the campaign machinery's part of each unit's
figures, summed from rows keyed by (campaign_id, unit). Pure."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

Row = dict[str, Any]
CASES = ("cases_received", "cases_open", "cases_closed", "cases_overdue")
TASKS = ("tasks", "tasks_open", "tasks_overdue", "tasks_signed_off", "tasks_signed_off_on_time", "tasks_cancelled",
         "milestones_overdue")
LOOKBACKS = ("lookback_drawn", "lookback_held", "lookback_rebounds")
FIELDS = CASES + TASKS + LOOKBACKS
# What /v1/units/stats adds to each unit's row: its tasks as lead unit and the rebounds counted against it.
UNIT_FIELDS = ("tasks_open", "tasks_overdue", "tasks_signed_off", "milestones_overdue", "lookback_held",
               "lookback_rebounds")


def _add(into: Row, row: Mapping[str, Any]) -> None:
    for name in FIELDS:
        into[name] = into.get(name, 0) + int(row.get(name) or 0)


def by_campaign(*sources: Iterable[Mapping[str, Any]]) -> dict[str, Row]:
    """campaign_id -> {totals, units: unit -> figures} from rows of (campaign_id, unit, counts …);
    rows outside any campaign are left out, a case not assigned yet counts in the totals only."""
    out: dict[str, Row] = {}
    for rows in sources:
        for row in rows:
            if row["campaign_id"] is None:
                continue
            entry = out.setdefault(row["campaign_id"], {"totals": dict.fromkeys(FIELDS, 0), "units": {}})
            _add(entry["totals"], row)
            if row["unit"] is not None:
                _add(entry["units"].setdefault(row["unit"], dict.fromkeys(FIELDS, 0)), row)
    return out


def by_unit(*sources: Iterable[Mapping[str, Any]]) -> dict[str, Row]:
    """unit -> its task and look-back figures over every campaign (and tasks outside any)."""
    out: dict[str, Row] = {}
    for rows in sources:
        for row in rows:
            _add(out.setdefault(row["unit"], dict.fromkeys(FIELDS, 0)), row)
    return {unit: {k: v[k] for k in UNIT_FIELDS} for unit, v in out.items() if any(v[k] for k in UNIT_FIELDS)}


def median(values: list[int]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None for none."""
    if not values:
        return None
    ordered, mid = sorted(values), len(values) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
