"""Look-backs (回头看) on the write side: draw closed cases and signed-off tasks at a ratio, then record
each drawn item's finding; a rebound opens its case in the same transaction (docs/CAMPAIGNS.md).
Office acts, auditors read; nobody else sees look-backs (units see a rebound's case as their case)."""
from __future__ import annotations

from flask import current_app, url_for
from flask.views import MethodView

from zfcommon.blueprint import Blueprint
from zfcommon.problem import Unavailable
from zfcommon.web import principal

from ..adapters.ledger_client import LedgerUnavailable
from ..domain.lookback import Lookback
from ..service_layer import aggregates
from ..service_layer import lookbacks as service
from .aggregate_http import aggregate_command, etag, evidence_wire, iso, read
from .campaign_schemas import FindingIn, LookbackIn, LookbackOut
from .cases import IDEMPOTENCY, IF_MATCH
from .common import context

blp = Blueprint("lookbacks", __name__, url_prefix="/v1/lookbacks", description="Look-backs (回头看)")
FILTERS = ("campaign_id", "unit", "category", "closed_from", "closed_to", "kinds")
ACTS = ("office",)          # who records findings


def lookback_out(lb: Lookback, role: str = "office") -> dict:
    """The look-back with the commands the caller may give now (an auditor reads: none)."""
    f = lb.facts
    return {"lookback_id": lb.lookback_id, "version": lb.version, "status": lb.status,
            **{k: f[k] for k in ("title", "filters", "ratio", "nonce", "seed", "candidates", "selected")},
            "findings": [{**x, "recorded_at": iso(x["recorded_at"])} for x in lb.findings.values()],
            "drawn_at": iso(lb.drawn_at), "allowed_commands": lb.allowed_commands() if role in ACTS else []}


def _candidates(filters: dict) -> list[dict]:
    try:
        return current_app.extensions["zf_ledger"].lookback_candidates(filters)
    except LedgerUnavailable as exc:
        raise Unavailable(f"台账服务暂不可用，未抽取：{exc}", code="ledger.unavailable") from None


@blp.route("")
class Lookbacks(MethodView):
    @blp.roles("office")
    @blp.arguments(LookbackIn)
    @blp.response(201, LookbackOut)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Draw a look-back over the closed cases and signed-off tasks the filters select (the ledger's
        figures now), at `ratio`: the draw and every input to it are in the event."""
        filters = {k: body[k] for k in FILTERS}

        def draw(u, _expected):
            lb = service.draw(u, body["title"], filters, body["ratio"], _candidates, context())
            return 201, lookback_out(lb), {"Location": url_for("lookbacks.OneLookback", lookback_id=lb.lookback_id),
                                           **etag(lb.version)}
        return aggregate_command(draw)


@blp.route("/<lookback_id>")
class OneLookback(MethodView):
    @blp.roles("office", "auditor")
    @blp.response(200, LookbackOut)
    def get(self, lookback_id):
        """One look-back: its draw with every input, and the findings so far."""
        lb = read(lambda u: aggregates.load(u, Lookback, lookback_id))
        return lookback_out(lb, principal().role), 200, etag(lb.version)


@blp.route("/<lookback_id>/findings", methods=["POST"])
@blp.roles(*ACTS)
@blp.arguments(FindingIn)
@blp.response(201, LookbackOut)
@blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])
def record_finding(body, lookback_id):
    """A drawn item checked again: held (巩固) or rebounded (反弹: a new case, channel lookback, linked
    to the original and counted against its unit)."""

    def decide(u, expected):
        lb, found = service.record_finding(u, lookback_id, body["id"], body["outcome"], body["note"],
                                           evidence_wire(body["evidence"]), body["category"], context(), expected)
        headers = {"Location": url_for("cases.Case", case_id=found["case_id"])} if found["case_id"] else {}
        return 201, lookback_out(lb), {**headers, **etag(lb.version)}
    return aggregate_command(decide)
