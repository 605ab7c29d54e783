"""Per-unit statistics and their rates (docs/LEDGER.md "Unit statistics" has the exact definitions)."""
from __future__ import annotations

from typing import Any, Mapping

# A rate over fewer cases than this says little about a unit: it is shown, flagged not meaningful,
# and a ranking should leave it out.
MIN_RATE_BASE = 5


def rate(numerator: int, denominator: int, min_base: int = MIN_RATE_BASE) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator,
            "value": round(numerator / denominator, 4) if denominator else None,
            "meaningful": denominator >= min_base}


def unit_figures(unit: str, sums: Mapping[str, int], late: Mapping[str, int],
                 min_base: int = MIN_RATE_BASE) -> dict[str, Any]:
    """One unit's statistics from its summed monthly figures (domain/figures.py) and today's late
    counts: `overdue` and `sign_for_pending` (assignments not signed for by their due day)."""
    overdue = late.get("overdue", 0)
    return {
        "unit": unit,
        "received": sums["received"], "open": sums["open"], "overdue": overdue, "closed": sums["closed"],
        "sign_for_on_time_rate": rate(sums["signed_on_time"], sums["signed"] + late.get("sign_for_pending", 0),
                                      min_base),
        "closure_on_time_rate": rate(sums["closed_on_time"], sums["closed"] + overdue, min_base),
        "rework_count": sums["rework_count"], "extension_count": sums["extension_count"],
        "satisfaction_rate": rate(sums["satisfied"], sums["visited"], min_base),
        "unsatisfied": sums["visited"] - sums["satisfied"],
        "dismissed": sums["dismissed"], "recheck_upheld": sums["recheck_upheld"],
        "recheck_overturned": sums["recheck_overturned"],
    }
