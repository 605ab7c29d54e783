"""The ledger over HTTP, for what intake decides from projected facts: the closed cases and signed-off
tasks a look-back draws from (`GET /v1/lookback-candidates`)."""
from __future__ import annotations

from typing import Any

from zfcommon.servicehttp import OfficeClient, ServiceUnavailable


class LedgerUnavailable(ServiceUnavailable):
    """The ledger did not answer, or answered with an error: nothing was drawn."""


class LedgerClient(OfficeClient):
    unavailable = LedgerUnavailable

    def __init__(self, base_url: str, signing_key, timeout: float = 15.0):
        super().__init__(base_url, signing_key, timeout, sub="intake-lookback")

    def lookback_candidates(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        return self.get("/v1/lookback-candidates", candidate_params(filters)).json()["items"]


def candidate_params(filters: dict[str, Any]) -> dict[str, str]:
    """A look-back's filters (as intake's LookbackIn loaded them) as the ledger's query parameters."""
    params = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in filters.items()
              if v is not None and k != "kinds"}
    params["kinds"] = ",".join(filters.get("kinds") or ())
    return params
