"""intake over HTTP, for notices: the complainant's phone at send time (`GET /v1/cases/{id}/complainant`,
office token) and a rating replied by SMS (`POST /v1/cases/{id}/record-return-visit`, the hotline's
channel token). Tokens are minted per call with the shared JWT secret and live five minutes.

The number is returned to the caller and nowhere else: never logged, never stored by notify.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from zfcommon.auth import issue_token

SUB = "notify-notices"


class IntakeUnavailable(Exception):
    """intake did not answer, or answered with an error: try again later."""


@dataclass(frozen=True)
class Complainant:
    found: bool             # False: intake has no such case
    erased: bool            # the complainant's data was erased on request
    phone: str | None


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class IntakeClient:
    def __init__(self, base_url: str, jwt_secret: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.jwt_secret = jwt_secret
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, token: str, **kw: Any) -> requests.Response:
        try:
            resp = self.session.request(method, f"{self.base_url}{path}", timeout=self.timeout,
                                        headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})}, **kw)
        except requests.RequestException as exc:
            raise IntakeUnavailable(f"intake at {self.base_url} did not answer: {type(exc).__name__}") from None
        if resp.status_code >= 500 or resp.status_code in (401, 403, 429):
            raise IntakeUnavailable(f"intake answered {resp.status_code} to {method} {path.split('/')[-1]}")
        return resp

    def complainant(self, case_id: str) -> Complainant:
        token = issue_token(self.jwt_secret, "office", SUB, ttl_seconds=300)
        resp = self._call("GET", f"/v1/cases/{quote(case_id, safe='')}/complainant", token)
        if resp.status_code == 404:
            return Complainant(False, False, None)
        if resp.status_code != 200:
            raise IntakeUnavailable(f"intake answered {resp.status_code} for the complainant")
        doc = resp.json()
        erased = bool(doc.get("erased"))
        return Complainant(True, erased, None if erased else ((doc.get("complainant") or {}).get("phone") or None))

    def record_return_visit(self, case_id: str, satisfaction: str, comment: str, idempotency_key: str) -> Answer:
        """The rating as the hotline would record it; 200, or intake's 404/409/422 problem as it came."""
        token = issue_token(self.jwt_secret, "channel", SUB, channel="hotline", ttl_seconds=300)
        resp = self._call("POST", f"/v1/cases/{quote(case_id, safe='')}/record-return-visit", token,
                          json={"satisfaction": satisfaction, "comment": comment},
                          headers={"Idempotency-Key": idempotency_key})
        try:
            body = resp.json()
        except ValueError:
            body = {}
        return Answer(resp.status_code, body if isinstance(body, dict) else {})

    def open_stage_case(self, project_id: str, stage: str) -> str | None:
        """Ask intake to open the case of a project stage past its grace (docs/CAMPAIGNS.md): the new case's
        id; None when intake finds it opened already (409) or not yet due on its calendar (422)."""
        token = issue_token(self.jwt_secret, "office", "notify-escalation", ttl_seconds=300)
        path = f"/v1/projects/{quote(project_id, safe='')}/stages/{quote(stage, safe='')}/open-case"
        resp = self._call("POST", path, token, json={}, headers={"Idempotency-Key": f"stage-case:{project_id}/{stage}"})
        if resp.status_code == 201:
            return resp.json()["case_id"]
        if resp.status_code in (409, 422):
            return None
        raise IntakeUnavailable(f"intake answered {resp.status_code} to open the case of {project_id}/{stage}")
