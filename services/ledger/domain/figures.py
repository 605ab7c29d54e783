"""What one case adds to its lead unit's monthly figures. Pure.

The projection keeps per (lead unit, channel, month received) sums of these, changed by the
difference between a case's figures before and after each event, so the unit statistics add up a
few rows per unit instead of reading every case. What depends on the day the statistics are asked
(overdue, sign-for past due) is not here: it is counted at query time from the few running cases.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from zfcommon.workdays import local_date

from .statuses import OPEN

FIGURES = ("open", "closed", "closed_on_time", "signed", "signed_on_time", "rework_count", "extension_count",
           "satisfied", "visited", "received", "dismissed", "recheck_upheld", "recheck_overturned")
Key = tuple[str, str, date]      # lead unit, channel, first day of the month received (China time)
READS = ("lead_unit", "channel", "received_at", "status", "accepted_at", "sign_for_on_time", "closed_on_time",
         "rework_count", "extension_count", "satisfaction", "recheck_outcome")   # the case fields `figures` reads


def month_of(day: date) -> date:
    return day.replace(day=1)


def figures(row: Mapping[str, Any] | None) -> tuple[Key, dict[str, int]] | None:
    """The case's key and figures, or None for a case with no lead unit (it counts for nobody)."""
    if row is None or row["lead_unit"] is None:
        return None
    signed = row["accepted_at"] is not None
    closed = row["status"] == "closed"
    return (row["lead_unit"], row["channel"], month_of(local_date(row["received_at"]))), {
        "open": int(row["status"] in OPEN),
        "closed": int(closed),
        "closed_on_time": int(closed and bool(row["closed_on_time"])),
        "signed": int(signed),
        "signed_on_time": int(signed and bool(row["sign_for_on_time"])),
        "rework_count": row["rework_count"],
        "extension_count": row["extension_count"],
        "satisfied": int(row["satisfaction"] in ("satisfied", "basically_satisfied")),
        "visited": int(row["satisfaction"] is not None),
        # The monthly bulletin's figures: every case with a lead unit was received once; dismissed is
        # the status now (an overturned dismissal is running again); a re-check's latest outcome.
        "received": 1,
        "dismissed": int(row["status"] == "dismissed"),
        "recheck_upheld": int(row["recheck_outcome"] == "upheld"),
        "recheck_overturned": int(row["recheck_outcome"] == "overturned"),
    }


def accumulate(totals: dict[Key, dict[str, int]], found: tuple[Key, dict[str, int]] | None,
               sign: int = 1) -> dict[Key, dict[str, int]]:
    """Add (or with sign -1 take away) one case's figures to `totals`, in place; returns `totals`."""
    if found is not None:
        key, values = found
        total = totals.setdefault(key, dict.fromkeys(FIGURES, 0))
        for name, value in values.items():
            total[name] += sign * value
    return totals


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[Key, dict[str, int]]:
    """The non-zero differences per key that turn `before`'s figures into `after`'s (a reassignment
    moves them from one unit's row to another's)."""
    deltas = accumulate(accumulate({}, figures(before), -1), figures(after))
    return {key: values for key, values in deltas.items() if any(values.values())}
