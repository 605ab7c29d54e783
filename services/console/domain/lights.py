"""The warning lights (亮灯) beside a case: red when its deadline or its sign-for day has passed, yellow
when its deadline is at most the office's threshold of working days away. The ledger counts the working
days (`working_days_left`, `overdue`, `sign_for_overdue`); the threshold is the office's setting. Pure.
"""
from __future__ import annotations

from typing import Any, Mapping

DEFAULT_YELLOW_DAYS = 3
MAX_YELLOW_DAYS = 30


def light(case: Mapping[str, Any], yellow_days: int) -> str | None:
    if case.get("overdue") or case.get("sign_for_overdue"):
        return "red"
    left = case.get("working_days_left")
    if left is not None and left <= yellow_days:
        return "yellow"
    return None


def check_yellow_days(raw: Any) -> int:
    """The threshold from a form; ValueError with the reason people read."""
    try:
        days = int(str(raw).strip())
    except ValueError:
        raise ValueError("请填写整数工作日") from None
    if not 0 <= days <= MAX_YELLOW_DAYS:
        raise ValueError(f"须在0至{MAX_YELLOW_DAYS}个工作日之间")
    return days
