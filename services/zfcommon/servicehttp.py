"""One service asking another over HTTP with a short-lived office token it mints with its signing key
(zfcommon.jwks; service to service): the session, the token and the error that says "try again later"."""
from __future__ import annotations

from typing import Any

import requests

from . import tracing
from .auth import Signer, issue_token


class ServiceUnavailable(Exception):
    """The other service did not answer, or answered with an error: nothing was done, try again later."""


class OfficeClient:
    unavailable: type[Exception] = ServiceUnavailable
    refused = (401, 403, 422)          # statuses that mean the call itself was wrong, not the data

    def __init__(self, base_url: str, signing_key: str | Signer, timeout: float = 15.0, sub: str = "service"):
        self.base_url = base_url.rstrip("/")
        self.signing_key, self.timeout, self.sub = signing_key, timeout, sub
        self.session = requests.Session()

    def get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        """The answer; `unavailable` when there is none or it is a 5xx or a refusal (404 is an answer)."""
        token = issue_token(self.signing_key, "office", self.sub, ttl_seconds=300)
        try:
            resp = self.session.get(f"{self.base_url}{path}", params=params, timeout=self.timeout,
                                    headers={"Authorization": f"Bearer {token}", **tracing.trace_context()})
        except requests.RequestException as exc:
            raise self.unavailable(f"{self.base_url} did not answer: {exc}") from None
        if resp.status_code >= 500 or resp.status_code in self.refused:
            raise self.unavailable(f"{self.base_url} answered {resp.status_code} to {path}: {resp.text[:200]}")
        return resp
