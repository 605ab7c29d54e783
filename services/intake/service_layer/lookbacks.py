"""Look-backs (回头看): the draw over the candidates the ledger names, and the findings — a rebound
opens its case in the same transaction as the finding (docs/CAMPAIGNS.md)."""
from __future__ import annotations

import secrets
from typing import Any, Callable

from ..domain import lookback as lookbacks
from ..domain.campaign import check_member
from ..domain.case import NewEvent
from ..domain.lookback import Lookback
from . import aggregates, handlers
from .handlers import Context
from .uow import UnitOfWork

Candidates = Callable[[dict[str, Any]], list[dict[str, Any]]]


def draw(uow: UnitOfWork, title: str, filters: dict[str, Any], ratio: float, candidates: Candidates,
         ctx: Context) -> Lookback:
    """`candidates(filters)` asks the ledger for the closed cases and signed-off tasks that match; the
    list is recorded in the event, so the draw never depends on the ledger again."""
    lookbacks.closed_window(filters.get("closed_from"), filters.get("closed_to"))
    if filters.get("campaign_id"):
        check_member(handlers.load_campaign(uow, filters["campaign_id"]), filters["campaign_id"])
    found = candidates(filters)
    wire = {**filters, **{k: filters[k] and filters[k].isoformat() for k in ("closed_from", "closed_to")}}
    decided = lookbacks.draw(title, wire, ratio, secrets.token_hex(16), found)
    return aggregates.new(uow, Lookback, decided, ctx)


def record_finding(uow: UnitOfWork, lookback_id: str, item_id: str, outcome: str, note: str,
                   evidence: list[dict[str, Any]], category: str | None, ctx: Context,
                   expected_version: int | None = None) -> tuple[Lookback, dict[str, Any]]:
    def decide(lb: Lookback) -> list[NewEvent]:
        item = lookbacks.check_finding(lb, item_id)
        case_id = None
        if outcome == "rebounded":
            case_id = handlers.receive_case(lookbacks.rebound_case(lb, item, note, category), uow, ctx).case_id
        return lookbacks.finding(item, outcome, note, evidence, case_id)
    lb = aggregates.decide(uow, Lookback, lookback_id, expected_version, decide, ctx)
    return lb, lb.findings[item_id]
