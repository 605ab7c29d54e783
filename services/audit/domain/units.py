"""Which units an event concerns, read from its data. Pure."""
from __future__ import annotations

from typing import Any

SINGLE = ("lead_unit", "previous_lead_unit", "unit", "subject_unit")


def units_of(event_type: str, data: dict[str, Any]) -> list[str]:
    found = [data[k] for k in SINGLE if isinstance(data.get(k), str)]
    found += [u for u in data.get("cooperating_units") or [] if isinstance(u, str)]
    # a key project's approving units, one per stage (docs/CAMPAIGNS.md)
    found += [s["unit"] for s in data.get("stages") or [] if isinstance(s, dict) and isinstance(s.get("unit"), str)]
    if data.get("target_kind") == "unit" and isinstance(data.get("target"), str):
        found.append(data["target"])
    if event_type.startswith("cn.zhengfeng.directory.unit_") and isinstance(data.get("name"), str):
        found.append(data["name"])
    return sorted(set(found))
