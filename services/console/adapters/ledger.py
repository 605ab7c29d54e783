"""The ledger over HTTP: the 台账 list and its exports, one case, its timeline, as-of, today's counts; the
campaign machinery's lists and figures (campaigns, tasks, projects, approval times, look-backs) and a case's
duplicate suggestions."""
from __future__ import annotations

from typing import Any, Mapping

from .services import Services

FILTERS = ("status", "unit", "lead_unit", "subject_unit", "category", "channel", "handling_mode", "overdue",
           "due_within", "received_from", "received_to", "deadline_from", "deadline_to", "q", "campaign")


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


def listing(s: Services, what: str, **params: Any) -> dict[str, Any]:
    """campaigns, tasks, projects, units/approval-times or lookbacks, with the API's filters."""
    return s.get("ledger", f"/v1/{what}", **params)


def one(s: Services, what: str, item_id: str) -> dict[str, Any]:
    """One campaign (with its figures), task, project or look-back (with their timelines)."""
    return s.get("ledger", f"/v1/{what}/{item_id}")


def duplicate_suggestions(s: Services, case_id: str) -> list[dict[str, Any]]:
    return s.get("ledger", f"/v1/cases/{case_id}/duplicate-suggestions")["items"]
