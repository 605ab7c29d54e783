"""The ledger's figures over HTTP (`GET /v1/units/stats`, `GET /v1/cases/{id}`): notify never counts
cases itself, so a bulletin shows exactly the figures the ledger shows (docs/LEDGER.md).

Each call carries a short-lived office token minted with the shared JWT secret (service to service).
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

import requests

from zfcommon.auth import issue_token


class LedgerUnavailable(Exception):
    """The ledger did not answer, or answered with an error: nothing can be drafted now."""


class LedgerClient:
    def __init__(self, base_url: str, jwt_secret: str, timeout: float = 15.0):
        self.base_url = base_url.rstrip("/")
        self.jwt_secret = jwt_secret
        self.timeout = timeout
        self.session = requests.Session()

    def _get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        token = issue_token(self.jwt_secret, "office", "notify", ttl_seconds=300)
        try:
            resp = self.session.get(f"{self.base_url}{path}", params=params, timeout=self.timeout,
                                    headers={"Authorization": f"Bearer {token}"})
        except requests.RequestException as exc:
            raise LedgerUnavailable(f"the ledger at {self.base_url} did not answer: {exc}") from None
        if resp.status_code >= 500 or resp.status_code in (401, 403, 422):
            raise LedgerUnavailable(f"the ledger answered {resp.status_code} to {path}: {resp.text[:200]}")
        return resp

    def unit_stats(self, first: date, last: date, channel: str | None = None) -> dict[str, Any]:
        """{today, min_rate_base, items}: per lead unit, the cases received from `first` to `last`
        (whole months), optionally those of one channel."""
        params = {"from": first.isoformat(), "to": last.isoformat(), **({"channel": channel} if channel else {})}
        return self._get("/v1/units/stats", params).json()

    def case(self, case_id: str) -> dict[str, Any] | None:
        """The ledger's case (which never holds the complainant), or None when there is no such case."""
        resp = self._get(f"/v1/cases/{quote(case_id, safe='')}")
        return None if resp.status_code == 404 else resp.json()
