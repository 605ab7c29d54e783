"""intake over HTTP, for notices: the complainant's phone at send time (`POST /v1/cases/{id}/complainant/reveal`,
office token: every such read is a recorded reveal, with notify's purpose as its reason) and a rating
replied by SMS (`POST /v1/cases/{id}/record-return-visit`, office token: the SMS return visit is the
office's — its signature is on the SMS — for a case of any channel). Tokens are
minted per call with the shared JWT secret and live five minutes.

The number is returned to the caller and nowhere else: never logged, never stored by notify.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from zfcommon.auth import Signer, issue_token

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
    def __init__(self, base_url: str, jwt_secret: str | Signer, timeout: float = 10.0):
        """jwt_secret: what its tokens are signed with, zfcommon.jwks.signer(settings) (the key set; the
        HS256 secret only in local development)."""
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

    def reveal(self, case_id: str, reason: str, sub: str = SUB) -> dict[str, Any] | None:
        """The case's complainant record as intake reveals it (recorded there: who, when, `reason`), or
        None when intake has no such case."""
        token = issue_token(self.jwt_secret, "office", sub, ttl_seconds=300)
        resp = self._call("POST", f"/v1/cases/{quote(case_id, safe='')}/complainant/reveal", token,
                          json={"reason": reason})
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            # Never the body: it could hold the contact details.
            raise IntakeUnavailable(f"intake answered {resp.status_code} for the complainant of case {case_id}")
        return resp.json()

    def complainant(self, case_id: str, reason: str) -> Complainant:
        doc = self.reveal(case_id, reason)
        if doc is None:
            return Complainant(False, False, None)
        erased = bool(doc.get("erased"))
        return Complainant(True, erased, None if erased else ((doc.get("complainant") or {}).get("phone") or None))

    def record_return_visit(self, case_id: str, satisfaction: str, comment: str, idempotency_key: str) -> Answer:
        """The rating as the office's SMS return visit records it; 200, or intake's 404/409/422 problem as it came."""
        token = issue_token(self.jwt_secret, "office", SUB, ttl_seconds=300)
        resp = self._call("POST", f"/v1/cases/{quote(case_id, safe='')}/record-return-visit", token,
                          json={"satisfaction": satisfaction, "comment": comment},
                          headers={"Idempotency-Key": idempotency_key})
        try:
            body = resp.json()
        except ValueError:
            body = {}
        return Answer(resp.status_code, body if isinstance(body, dict) else {})

    def robot_address(self, unit: str, kind: str) -> dict[str, Any] | None:
        """The unit's current group robot of `kind` ({webhook_url, secret?}), opened by intake for the
        office (GET /v1/directory/units/{unit}/robots/addresses); None when the unit has none (any more).
        Returned to the caller only: never logged, never stored by notify."""
        token = issue_token(self.jwt_secret, "office", SUB, ttl_seconds=300)
        resp = self._call("GET", f"/v1/directory/units/{quote(unit, safe='')}/robots/addresses", token)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise IntakeUnavailable(f"intake answered {resp.status_code} for the robots of {unit}")
        return resp.json().get(kind)

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
