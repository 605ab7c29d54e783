"""The ledger over HTTP: the 台账 list and its exports, one case, its timeline, as-of, today's counts."""
from __future__ import annotations

from typing import Any, Mapping

from .services import Services

FILTERS = ("status", "unit", "lead_unit", "subject_unit", "category", "channel", "handling_mode", "overdue",
           "due_within", "received_from", "received_to", "deadline_from", "deadline_to", "q")


def _filters(query: Mapping[str, Any]) -> dict[str, Any]:
    return {k: query[k] for k in FILTERS if query.get(k) not in (None, "", [])}


def cases(s: Services, query: Mapping[str, Any], *, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    return s.get("ledger", "/v1/cases", **_filters(query), cursor=cursor, limit=limit)


def export(s: Services, query: Mapping[str, Any], fmt: str):
    return s.request("ledger", "GET", f"/v1/cases/export.{fmt}", params=_filters(query), stream=True)


def case(s: Services, case_id: str) -> dict[str, Any]:
    return s.get("ledger", f"/v1/cases/{case_id}")


def timeline(s: Services, case_id: str) -> list[dict[str, Any]]:
    return s.get("ledger", f"/v1/cases/{case_id}/timeline")["items"]


def as_of(s: Services, case_id: str, at: str) -> dict[str, Any]:
    return s.get("ledger", f"/v1/cases/{case_id}/as-of", at=at)


def summary(s: Services, due_within: int) -> dict[str, Any]:
    return s.get("ledger", "/v1/summary", due_within=due_within)


def unit_stats(s: Services) -> list[dict[str, Any]]:
    return s.get("ledger", "/v1/units/stats")["items"]
