"""The complainant's identity from intake (`GET /v1/cases/{id}/complainant`, office only), asked for at
the moment an exposure is redacted or published and used only to find it in the text: it is never
stored, logged or put on an event. The transport (short-lived office token, errors) is the notices'
intake client's."""
from __future__ import annotations

from typing import Iterable
from urllib.parse import quote

from zfcommon.auth import issue_token

from zfcommon.redaction import Identity
from .intake_client import IntakeClient, IntakeUnavailable

__all__ = ["ComplainantClient", "IntakeUnavailable"]
SUB = "notify-exposures"


class ComplainantClient(IntakeClient):
    def identity(self, case_id: str) -> Identity:
        """The case's complainant (empty when anonymous, erased, or the case is unknown to intake)."""
        token = issue_token(self.jwt_secret, "office", SUB, ttl_seconds=300)
        resp = self._call("GET", f"/v1/cases/{quote(case_id, safe='')}/complainant", token)
        if resp.status_code == 404:
            return Identity()
        if resp.status_code != 200:
            # Never the body: it could hold the contact details.
            raise IntakeUnavailable(f"intake answered {resp.status_code} for the complainant of case {case_id}")
        doc = resp.json()
        return Identity() if doc.get("erased") else Identity.of(doc.get("complainant"))

    def identities(self, case_ids: Iterable[str]) -> list[Identity]:
        return [self.identity(c) for c in dict.fromkeys(case_ids)]
