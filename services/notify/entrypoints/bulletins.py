"""/v1/bulletins: the monthly bulletin (月通报) — drafted by the office with the month's figures, reviewed,
published with its document number; read as JSON, HTML, PDF or XLSX (routes in reviewed.py) — and
/v1/bulletins/rules, the assessment score's rules."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from zfcommon.events.catalogue import BulletinRulesData

from ..adapters import bulletin_projection as tables
from ..service_layer import bulletins as handlers
from . import reviewed
from .bulletin_schemas import DraftIn, RulesOut
from .publishing import IDEMPOTENCY, INSIDERS, command, context

blp = reviewed.blueprint("bulletin", "/v1/bulletins", "Monthly bulletins (月通报): unit figures, assessment scores"
                         " and ranking", DraftIn, lambda body: body["month"], handlers.draft_bulletin,
                         "bulletin (key: YYYY-MM, a month that is over)")


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
