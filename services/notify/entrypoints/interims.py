"""/v1/interim-reports: the interim report (阶段性通报) over any period the office names — a campaign
fortnight, a quarter so far — drafted, reviewed and published as the monthly bulletin is (routes in
reviewed.py), marked as interim in every form and numbered in a sequence of its own. The key is the
period, `<first day>_<last day>`."""
from __future__ import annotations

from ..domain import publication
from ..service_layer import bulletins as handlers
from . import reviewed
from .bulletin_schemas import InterimDraftIn

blp = reviewed.blueprint("interim", "/v1/interim-reports", "Interim reports (阶段性通报) over any period: the"
                         " bulletin's figures, scores and ranking for those days", InterimDraftIn,
                         lambda body: publication.interim_key(body["start"], body["end"]), handlers.draft_interim,
                         "interim report (key: <first day>_<last day>)")
