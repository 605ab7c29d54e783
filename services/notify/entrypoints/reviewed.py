"""The routes a reviewed publication has — the monthly bulletin (/v1/bulletins) and the interim report
over any period (/v1/interim-reports): draft, list, read (JSON, HTML, PDF, XLSX), redraft, review and
publish. One set of routes for both kinds, made per kind by `blueprint`."""
from __future__ import annotations

from typing import Callable

from flask.views import MethodView
from marshmallow import Schema

from zfcommon.blueprint import EVERYONE, Blueprint

from ..service_layer import bulletins as handlers
from .bulletin_schemas import Publication, PublicationList, RedraftIn, ReviewIn
from .publishing import (BLUEPRINTS, FILES_DOC, IDEMPOTENCY, complainants, context, ledger, listed, office,
                         publication_command, rendered, shown, visible)

Drafter = Callable[..., dict]     # handlers.draft_bulletin / draft_interim


def blueprint(kind: str, url_prefix: str, description: str, draft_in: type[Schema], key_of: Callable[[dict], str],
              draft: Drafter, what: str) -> Blueprint:
    """`key_of` gives the key a draft request names; `what` describes the key in the docs."""
    blp = Blueprint(BLUEPRINTS[kind], __name__, url_prefix=url_prefix, description=description)

    def drafted(key: str, body: dict, redraft: bool = False):
        return lambda u: draft(u, ledger(), complainants(), key, body, context(), redraft=redraft)

    @blp.route("")
    class Collection(MethodView):
        @blp.roles(*EVERYONE)
        @blp.response(200, PublicationList)
        def get(self):
            """Newest first: all for the office and auditors, the published ones for others."""
            return listed(kind)

        @blp.roles("office")
        @blp.arguments(draft_in)
        @blp.alt_response(201, schema=Publication, description="drafted")
        @blp.doc(parameters=[IDEMPOTENCY])
        def post(self, body):
            """Draft it: the figures are taken now and kept in the draft."""
            return publication_command(kind, drafted(key_of(body), body), 201)

    @blp.route("/<key>")
    class Item(MethodView):
        @blp.roles(*EVERYONE)
        @blp.response(200, Publication)
        def get(self, key):
            return shown(kind, visible(kind, key))
        get.__doc__ = f"The {what}: each unit's figures, deductions, score and rank, criticism, typical cases."

    @blp.route("/<key>.<any(html, pdf, xlsx):fmt>")
    class File(MethodView):
        @blp.roles(*EVERYONE)
        @blp.doc(**FILES_DOC)
        def get(self, key, fmt):
            """As an HTML page, a PDF (charts; the Chinese font embedded) or an XLSX workbook."""
            return rendered(kind, key, fmt)

    @blp.route("/<key>/redraft", methods=["POST"])
    @blp.roles("office")
    @blp.arguments(RedraftIn)
    @blp.alt_response(200, schema=Publication, description="redrafted")
    @blp.doc(parameters=[IDEMPOTENCY])
    def redraft(body, key):
        """Take the figures again (typical cases and note as given, else the previous draft's); review again."""
        return publication_command(kind, drafted(key, body, redraft=True))

    @blp.route("/<key>/review", methods=["POST"])
    @blp.roles("office")
    @blp.arguments(ReviewIn)
    @blp.alt_response(200, schema=Publication, description="reviewed")
    @blp.doc(parameters=[IDEMPOTENCY])
    def review(body, key):
        """The office's review of the current draft: approved, or changes_requested with comments."""
        return publication_command(
            kind, lambda u: handlers.review_bulletin(u, kind, key, body["decision"], body["comments"], context()))

    @blp.route("/<key>/publish", methods=["POST"])
    @blp.roles("office")
    @blp.alt_response(200, schema=Publication, description="published")
    @blp.doc(parameters=[IDEMPOTENCY])
    def publish(key):
        """Publish the approved draft (409 naming the state otherwise): it gets its document number (文号),
        issuer and date, and everyone may read it from then on."""
        return publication_command(kind, lambda u: handlers.publish_bulletin(u, kind, key, context(), office()))

    return blp
