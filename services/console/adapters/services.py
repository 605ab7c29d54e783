"""The console's HTTP client of the other services: every call carries the logged-in person's short-lived
bearer token, so each service applies its own rules to that person (the console never widens access).
A problem answer becomes a ServiceError carrying the problem's fields, for the page to show in Chinese.
"""
from __future__ import annotations

import hashlib
import re
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Mapping

import requests

from zfcommon import liveness
from zfcommon.auth import Signer, issue_token

# An Idempotency-Key goes out as a header: visible ASCII only, at most 255 characters (what intake takes).
HEADER_TOKEN = re.compile(r"[\x21-\x7e]{1,255}")
TOKEN_SECONDS = 300          # minted per request; long enough for the slowest export


class ServiceError(Exception):
    """A service answered with a problem (or not at all): its status and problem+json body."""

    def __init__(self, status: int, body: Mapping[str, Any] | None = None):
        body = dict(body or {})
        super().__init__(f"{status}: {body.get('detail') or body.get('title') or ''}")
        self.status, self.body = status, body

    @property
    def errors(self) -> dict[str, Any]:
        errors = self.body.get("errors")
        return errors if isinstance(errors, dict) else {}


@dataclass(frozen=True)
class Caller:
    """Who the console acts for: the claims of `zf token` (role, unit) with the account's login as subject."""
    role: str
    login: str
    unit: str | None = None

    def token(self, signing_key: str | Signer) -> str:
        return issue_token(signing_key, self.role, self.login, unit=self.unit, ttl_seconds=TOKEN_SECONDS)


@dataclass
class Services:
    urls: Mapping[str, str]              # intake, ledger, notify, audit -> base URL
    secret: str | Signer                 # the console's signing key (zfcommon.jwks.signer)
    caller: Caller
    correlation_id: str = ""
    http: requests.Session = field(default_factory=requests.Session)
    timeout: float = 30.0
    # A file (an export, the audit bundle, a bulletin's PDF) may be built for minutes before its first
    # byte; the wait for it is bounded by this, and the worker beats meanwhile (zfcommon.liveness).
    file_timeout: float = 600.0
    _token: str | None = None

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        if self._token is None:
            self._token = self.caller.token(self.secret)
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if self.correlation_id:
            headers["X-Correlation-Id"] = self.correlation_id
        return {**headers, **(extra or {})}

    def request(self, service: str, method: str, path: str, *, params: Any = None, json: Any = None,
                files: Any = None, headers: Mapping[str, str] | None = None, stream: bool = False) -> requests.Response:
        extra = dict(headers or {})
        if method != "GET":
            extra["Idempotency-Key"] = header_key(extra.get("Idempotency-Key") or str(uuid.uuid4()))
        wait = self.file_timeout if stream else self.timeout
        try:
            with liveness.beating_while(wait) if stream else nullcontext():
                resp = self.http.request(method, self.urls[service] + path, params=params, json=json, files=files,
                                         headers=self._headers(extra), timeout=(self.timeout, wait), stream=stream)
        except requests.RequestException:
            raise ServiceError(503, {"detail": ""}) from None
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {}
            raise ServiceError(resp.status_code, body if isinstance(body, dict) else {})
        return resp

    def get(self, service: str, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v not in (None, "", [])}
        return self.request(service, "GET", path, params=clean).json()

    def post(self, service: str, path: str, body: Any = None, *, key: str | None = None,
             headers: Mapping[str, str] | None = None, files: Any = None) -> Any:
        extra = {**(headers or {}), **({"Idempotency-Key": key} if key else {})}
        resp = self.request(service, "POST", path, json=None if files else (body if body is not None else {}),
                            files=files, headers=extra)
        return resp.json() if resp.content else None

    def put(self, service: str, path: str, body: Any, *, key: str | None = None) -> Any:
        return self.request(service, "PUT", path, json=body, headers={"Idempotency-Key": key} if key else None).json()

    def delete(self, service: str, path: str, body: Any = None) -> Any:
        resp = self.request(service, "DELETE", path, json=body)
        return resp.json() if resp.content else None


def header_key(key: str) -> str:
    """A form's key (its hidden `idem`, a UUID the page wrote) as a header can carry it. A key altered into
    something else (other characters, spaces, too long) is replaced by its SHA-256, so the same altered
    form sent twice is still one command, and the request is answered instead of failing in the HTTP
    client (a 500, or a 503 that blamed the service)."""
    if HEADER_TOKEN.fullmatch(key):
        return key
    return "form-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
