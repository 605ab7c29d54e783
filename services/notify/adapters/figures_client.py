"""The ledger's figures over HTTP (`GET /v1/units/stats`, `GET /v1/cases/{id}`): notify never counts
cases itself, so a bulletin shows exactly the figures the ledger shows (docs/LEDGER.md).

Each call carries a short-lived office token minted with the shared JWT secret (service to service).
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from zfcommon.servicehttp import OfficeClient, ServiceUnavailable


class LedgerUnavailable(ServiceUnavailable):
    """The ledger did not answer, or answered with an error: nothing can be drafted now."""


class LedgerClient(OfficeClient):
    unavailable = LedgerUnavailable

    def __init__(self, base_url: str, signing_key, timeout: float = 15.0):
        super().__init__(base_url, signing_key, timeout, sub="notify")

    def unit_stats(self, first: date, last: date, channel: str | None = None) -> dict[str, Any]:
        """{today, min_rate_base, items}: per lead unit, the cases received from `first` to `last`
        (whole months), optionally those of one channel."""
        params = {"from": first.isoformat(), "to": last.isoformat(), **({"channel": channel} if channel else {})}
        return self.get("/v1/units/stats", params).json()

    def campaign_report(self, first: date, last: date) -> list[dict[str, Any]]:
        """The campaigns that ran from `first` to `last`, with their phase and figures (docs/CAMPAIGNS.md)."""
        return self.get("/v1/campaigns/report", {"from": first.isoformat(), "to": last.isoformat()}).json()["items"]

    def case(self, case_id: str) -> dict[str, Any] | None:
        """The ledger's case (which never holds the complainant), or None when there is no such case."""
        resp = self.get(f"/v1/cases/{quote(case_id, safe='')}")
        return None if resp.status_code == 404 else resp.json()
