"""audit over HTTP: the trail, the transparency log's heads and proofs, reconciliation, cases as of a time."""
from __future__ import annotations

from typing import Any

from .services import Services


def events(s: Services, **filters: Any) -> dict[str, Any]:
    return s.get("audit", "/v1/events", **filters)


def sth(s: Services) -> dict[str, Any]:
    return s.get("audit", "/v1/log/sth")


def checkpoint(s: Services) -> str:
    return s.request("audit", "GET", "/v1/log/checkpoint").text


def proof(s: Services, leaf_hash: str, tree_size: int) -> dict[str, Any]:
    return s.get("audit", "/v1/log/proof-by-hash", hash=leaf_hash, tree_size=tree_size)


def case_leaves(s: Services, case_id: str) -> list[dict[str, Any]]:
    return s.get("audit", f"/v1/log/cases/{case_id}/leaves")["leaves"]


def reconciliation(s: Services) -> dict[str, Any]:
    return s.get("audit", "/v1/reconciliation")


def reconcile_now(s: Services) -> dict[str, Any]:
    return s.post("audit", "/v1/reconciliation")


def case_as_of(s: Services, case_id: str, at: str) -> dict[str, Any]:
    return s.get("audit", f"/v1/cases/{case_id}/as-of", at=at)


def entry(s: Services, leaf_index: int) -> dict[str, Any]:
    entries = s.get("audit", "/v1/log/entries", start=leaf_index, end=leaf_index)["entries"]
    return entries[0] if entries else {}


def bundle(s: Services, start: int | None, end: int | None):
    return s.request("audit", "GET", "/v1/log/export",
                     params={k: v for k, v in (("start", start), ("end", end)) if v is not None}, stream=True)
