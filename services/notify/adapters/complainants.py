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
    def identity(self, case_id: str, reason: str) -> Identity:
        """The case's complainant (empty when anonymous, erased, or the case is unknown to intake)."""
        doc = self.reveal(case_id, reason, SUB)
        return Identity() if doc is None or doc.get("erased") else Identity.of(doc.get("complainant"))

    def identities(self, case_ids: Iterable[str], reason: str) -> list[Identity]:
        return [self.identity(c, reason) for c in dict.fromkeys(case_ids)]
