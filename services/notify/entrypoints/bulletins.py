"""/v1/bulletins: the monthly bulletin (月通报) — drafted by the office with the month's figures, reviewed,
published; read as JSON, HTML, PDF or XLSX — and /v1/bulletins/rules, the assessment score's rules."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from zfcommon.blueprint import EVERYONE, Blueprint
from zfcommon.events.catalogue import BulletinRulesData
from zfcommon.web import principal

from ..adapters import bulletin_projection as tables
from ..service_layer import bulletins as handlers
from .bulletin_schemas import DraftIn, Publication, PublicationList, RedraftIn, ReviewIn, RulesOut
from .publishing import (FILES_DOC, IDEMPOTENCY, INSIDERS, command, complainants, context, ledger,
                         publication_command, rendered, shown, visible)

blp = Blueprint("bulletins", __name__, url_prefix="/v1/bulletins",
                description="Monthly bulletins (月通报): unit figures, assessment scores and ranking")


@blp.route("")
class Bulletins(MethodView):
    @blp.roles(*EVERYONE)
    @blp.response(200, PublicationList)
    def get(self):
        """Bulletins, newest month first: all for the office and auditors, the published ones for others."""
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = tables.listing(conn, "bulletin", published_only=principal().role not in INSIDERS)
        return {"items": [shown("bulletin", r) for r in rows]}

    @blp.roles("office")
    @blp.arguments(DraftIn)
    @blp.alt_response(201, schema=Publication, description="drafted")
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Draft the bulletin of a month that is over; its figures are taken now and kept in the draft."""
        return publication_command(
            "bulletin", lambda u: handlers.draft_bulletin(u, ledger(), complainants(), body["month"], body, context()), 201)


@blp.route("/rules")
class Rules(MethodView):
    @blp.roles(*INSIDERS)
    @blp.response(200, RulesOut)
    def get(self):
        """The assessment score's base, points per deduction and minimum cases now in force."""
        with current_app.extensions["zf_pool"].connection() as conn:
            rules, version = tables.rules(conn)
        return {"rules": rules, "version": version}

    @blp.roles("office")
    @blp.arguments(BulletinRulesData)
    @blp.alt_response(200, schema=RulesOut, description="the rules now in force")
    @blp.doc(parameters=[IDEMPOTENCY])
    def put(self, body):
        """Set the rules (an event on bulletin-rules): later drafts use them, earlier drafts keep theirs."""
        return command(lambda u: (200, RulesOut().dump(dict(zip(("rules", "version"),
                                                                 handlers.set_rules(u, body, context()))))))


@blp.route("/<key>")
class Bulletin(MethodView):
    @blp.roles(*EVERYONE)
    @blp.response(200, Publication)
    def get(self, key):
        """The bulletin (key: YYYY-MM): each unit's figures, deductions, score and rank, criticism, typical cases."""
        return shown("bulletin", visible("bulletin", key))


@blp.route("/<key>.<any(html, pdf, xlsx):fmt>")
class BulletinFile(MethodView):
    @blp.roles(*EVERYONE)
    @blp.doc(**FILES_DOC)
    def get(self, key, fmt):
        """The bulletin as an HTML page, a PDF (charts; the Chinese font embedded) or an XLSX workbook."""
        return rendered("bulletin", key, fmt)


@blp.route("/<key>/redraft", methods=["POST"])
@blp.roles("office")
@blp.arguments(RedraftIn)
@blp.alt_response(200, schema=Publication, description="redrafted")
@blp.doc(parameters=[IDEMPOTENCY])
def redraft(body, key):
    """Take the figures again (typical cases and note as given, else the previous draft's); review again."""
    return publication_command("bulletin", lambda u: handlers.draft_bulletin(u, ledger(), complainants(), key, body, context(),
                                                                             redraft=True))


@blp.route("/<key>/review", methods=["POST"])
@blp.roles("office")
@blp.arguments(ReviewIn)
@blp.alt_response(200, schema=Publication, description="reviewed")
@blp.doc(parameters=[IDEMPOTENCY])
def review(body, key):
    """The office's review of the current draft: approved, or changes_requested with comments."""
    return publication_command(
        "bulletin", lambda u: handlers.review_bulletin(u, key, body["decision"], body["comments"], context()))


@blp.route("/<key>/publish", methods=["POST"])
@blp.roles("office")
@blp.alt_response(200, schema=Publication, description="published")
@blp.doc(parameters=[IDEMPOTENCY])
def publish(key):
    """Publish an approved bulletin (409 naming the state otherwise); everyone may read it from then on."""
    return publication_command("bulletin", lambda u: handlers.publish_bulletin(u, key, context()))
