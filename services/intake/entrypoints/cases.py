"""Leads and lifecycle commands on cases."""
from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from zfcommon import logs, outsiders, trackingcode
from zfcommon.blueprint import Blueprint
from zfcommon.problem import Forbidden
from zfcommon.web import expected_version as _expected_version, principal

from ..domain import case as domain
from ..domain import lifecycle
from ..service_layer import handlers
from .common import command, context, load_visible, problems, reads_full_text, uow
from .schemas import (COMMAND_SCHEMAS, CaseAfter, CaseCreated, CaseIn, CaseState, Complainant, ErasureIn, RevealIn,
                      Reveals, Revealed)

blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="Leads and commands on cases")
IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}
IF_MATCH = {"in": "header", "name": "If-Match", "schema": {"type": "string"},
            "description": "the case version the command was decided on; 409 if the case moved on"}


def after(case: domain.Case) -> dict:
    return {**{k: getattr(case, k) for k in CaseAfter._declared_fields if hasattr(case, k)},
            "allowed_commands": lifecycle.allowed_commands(case)}


@blp.route("")
class Cases(MethodView):
    @blp.roles("office", "channel")
    @blp.arguments(CaseIn)
    @blp.response(201, CaseCreated)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Receive a lead (受理): any channel, anonymous allowed."""
        who = principal()
        if who.role == "channel" and who.channel != body["channel"]:
            raise Forbidden(f"{who.channel} 渠道的令牌不能以 {body['channel']} 渠道提交问题线索",
                            code="case.channel_mismatch")
        cmd = domain.ReceiveComplaint(**body)

        def receive(u):
            case = handlers.receive_case(cmd, u, context())
            logs.case_id.set(case.case_id)
            return 201, {"case_id": case.case_id, "case_number": case.case_number, "status": "received",
                         "version": 1, "tracking_code": trackingcode.of_app().code_for(case.case_id)}, \
                {"Location": url_for("cases.Case", case_id=case.case_id)}
        return command(receive)


@blp.route("/<case_id>")
class Case(MethodView):
    @blp.roles("office", "auditor", "unit", "channel")
    @blp.response(200, CaseState)
    def get(self, case_id):
        """The case as its events say now (read-your-writes; the ledger has the full projection). Units
        and channels read its free text masked: the summary as its description (docs/PRIVACY.md)."""
        who = principal()
        with uow() as u:
            case = problems(lambda: load_visible(u, case_id))
        facts = {**case.facts, "summary": outsiders.summary_of(case.facts)}
        shown = facts if reads_full_text(who) else outsiders.event_data(outsiders.RECEIVED, facts)
        facts = {k: v for k, v in shown.items() if k in CaseState._declared_fields}
        permitted = lifecycle.permitted_commands(case, lifecycle.Actor(who.role, who.unit, who.actor))
        # the office reads the 查询码 again for a complainant who asks; nobody else needs it
        code = {"tracking_code": trackingcode.of_app().code_for(case_id)} if who.role == "office" else {}
        return ({**facts, **after(case), "permitted_commands": permitted, **code}, 200,
                {"ETag": f'"{case.version}"'})


@blp.route("/<case_id>/complainant")
class CaseComplainant(MethodView):
    @blp.roles("office")
    @blp.arguments(ErasureIn)
    @blp.response(200, Complainant)
    @blp.doc(parameters=[IDEMPOTENCY])
    def delete(self, body, case_id):
        """Erase the complainant's personal data on request (PIPL): destroys the case's data key, so the
        sealed copies in the store, Kafka and the trail can never be opened; the erasure is an event."""
        return command(lambda u: (200, {"case_id": handlers.erase_complainant(u, case_id, body["reason"],
                                                                              context()).case_id,
                                        "erased": True, "complainant": None}, {}))


@blp.route("/<case_id>/complainant/reveal")
class ComplainantReveal(MethodView):
    @blp.roles("office")
    @blp.arguments(RevealIn)
    @blp.response(200, Revealed)
    def post(self, body, case_id):
        """Reveal the complainant (office only): the sealed identity and contact, unsealed, and a
        `cn.zhengfeng.complainant.revealed.v1` event saying who, when and why, committed together.
        No Idempotency-Key: an answer that holds the identity is never stored, so each call is a reveal
        on the record."""
        logs.case_id.set(case_id)

        def reveal():
            with uow() as u:
                answer = handlers.reveal_complainant(u, case_id, body["reason"], context())
                u.commit()
                return answer
        return problems(reveal)


@blp.route("/<case_id>/complainant/reveals")
class ComplainantReveals(MethodView):
    @blp.roles("office", "auditor")
    @blp.response(200, Reveals)
    def get(self, case_id):
        """Who revealed the complainant, when and why (office, auditor): never the data itself."""
        with uow() as u:
            return {"case_id": case_id, "items": problems(lambda: handlers.reveals(u, case_id))}


def _command_view(name: str):
    def view(args, case_id):
        expected = _expected_version()

        def run(u):
            logs.case_id.set(case_id)
            load_visible(u, case_id)
            case = handlers.run_case_command(u, case_id, name, args, context(), expected)
            return 200, after(case), {"ETag": f'"{case.version}"'}
        return command(run, CaseAfter())
    view.__name__ = view.__qualname__ = f"command_{name}"
    view.__doc__ = f"Command `{name}` (docs/STATE-MACHINE.md)."
    return view


# Who may give each command, from the state machine's rule (the domain checks a unit is the case's own).
COMMAND_ROLES = {"office": ("office",), "lead": ("office", "unit"), "unit": ("office", "unit"),
                 "visit": ("office", "channel")}

for _name, _schema in COMMAND_SCHEMAS.items():
    blp.route(f"/<case_id>/{_name.replace('_', '-')}", methods=["POST"], endpoint=f"command_{_name}")(
        blp.roles(*COMMAND_ROLES[(lifecycle.RULES.get(_name) or lifecycle.NOTES[_name]).who])(blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])(
            blp.arguments(_schema)(blp.response(200, CaseAfter)(_command_view(_name))))))
