"""The complainant's identity from intake (`POST /v1/cases/{id}/complainant/reveal`, office only, recorded
there with the purpose as its reason), asked for at the moment an exposure is redacted or published or a
bulletin drafted, and used only to find it in the text: it is never stored, logged or put on an event of
notify's. The transport (short-lived office token, errors) is the notices' intake client's."""
from __future__ import annotations

from typing import Iterable

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
