"""/v1/disclosures: the quarterly public disclosure of the 12345 hotline's handling figures (seed 001),
with its due date — the 5th working day after the quarter — and whether it was published on time."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from zfcommon import officecalendar
from zfcommon.blueprint import EVERYONE, Blueprint
from zfcommon.web import principal
from zfcommon.workdays import local_date

from ..adapters import bulletin_projection as tables
from ..service_layer import bulletins as handlers
from .bulletin_schemas import DisclosureDraftIn, DisclosureList, Publication
from .publishing import (FILES_DOC, IDEMPOTENCY, INSIDERS, context, ledger, links, publication_command, rendered,
                         shown, visible)

blp = Blueprint("disclosures", __name__, url_prefix="/v1/disclosures",
                description="Quarterly public disclosure of the 12345 hotline's handling figures (热线办理情况公布)")


@blp.route("")
class Disclosures(MethodView):
    @blp.roles(*EVERYONE)
    @blp.response(200, DisclosureList)
    def get(self):
        """Office and auditors: every quarter from the first drafted to the last ended, with its due date,
        state, and whether it was published on time or is overdue. Others: the published ones."""
        today = local_date(context().now)
        insider = principal().role in INSIDERS
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = tables.listing(conn, "disclosure", published_only=not insider)
            items = handlers.disclosure_overview(rows, today, officecalendar.calendar(conn))
        if not insider:
            items = [i for i in items if i["state"] == "published"]
        for item in items:
            item["links"] = links("disclosure", item["quarter"]) if item["state"] != "not_drafted" else None
        return {"today": today, "items": items}

    @blp.roles("office")
    @blp.arguments(DisclosureDraftIn)
    @blp.alt_response(201, schema=Publication, description="drafted")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Draft (or, before publication, draft again) a quarter that is over: the ledger's hotline figures now."""
        return publication_command(
            "disclosure", lambda u: handlers.draft_disclosure(u, ledger(), body["quarter"], context()), 201)


@blp.route("/<key>")
class Disclosure(MethodView):
    @blp.roles(*EVERYONE)
    @blp.response(200, Publication)
    def get(self, key):
        """The quarter's figures (key: YYYY-Qn): totals and each unit's row, due date."""
        return shown("disclosure", visible("disclosure", key))


@blp.route("/<key>.<any(html, pdf, xlsx):fmt>")
class File(MethodView):
    @blp.roles(*EVERYONE)
    @blp.doc(**FILES_DOC)
    def get(self, key, fmt):
        """The disclosure as an HTML page, a PDF or an XLSX workbook."""
        return rendered("disclosure", key, fmt)


@blp.route("/<key>/publish", methods=["POST"])
@blp.roles("office")
@blp.alt_response(200, schema=Publication, description="published")
@blp.doc(parameters=[IDEMPOTENCY])
def publish(key):
    """Publish the drafted quarter; the event records its due date and whether it was on time."""
    return publication_command("disclosure", lambda u: handlers.publish_disclosure(u, key, context()))
