"""Leads and lifecycle commands on cases."""
from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from zfcommon import logs
from zfcommon.auth import require_role
from zfcommon.problem import Forbidden
from zfcommon.web import expected_version as _expected_version, principal

from ..domain import case as domain
from ..domain import lifecycle
from ..service_layer import handlers
from .common import command, context, load_visible, problems, uow
from .schemas import COMMAND_SCHEMAS, CaseAfter, CaseCreated, CaseIn, CaseState, Complainant, ErasureIn

blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="Leads and commands on cases")
IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}
IF_MATCH = {"in": "header", "name": "If-Match", "schema": {"type": "string"},
            "description": "the case version the command was decided on; 409 if the case moved on"}


def after(case: domain.Case) -> dict:
    return {**{k: getattr(case, k) for k in CaseAfter._declared_fields if hasattr(case, k)},
            "allowed_commands": lifecycle.allowed_commands(case)}


@blp.route("")
class Cases(MethodView):
    @blp.arguments(CaseIn)
    @blp.response(201, CaseCreated)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Receive a lead (受理): any channel, anonymous allowed."""
        who = principal()
        require_role(who, "office", "channel")
        if who.role == "channel" and who.channel != body["channel"]:
            raise Forbidden(f"a {who.channel} channel token may not submit on channel {body['channel']}")
        cmd = domain.ReceiveComplaint(**body)

        def receive(u):
            case_id = handlers.receive_case(cmd, u, context())
            logs.case_id.set(case_id)
            return 201, {"case_id": case_id, "status": "received", "version": 1}, \
                {"Location": url_for("cases.Case", case_id=case_id)}
        return command(receive)


@blp.route("/<case_id>")
class Case(MethodView):
    @blp.response(200, CaseState)
    def get(self, case_id):
        """The case as its events say now (read-your-writes; the ledger has the full projection)."""
        require_role(principal(), "office", "auditor", "unit", "channel")
        with uow() as u:
            case = problems(lambda: load_visible(u, case_id))
        facts = {k: v for k, v in case.facts.items() if k in CaseState._declared_fields}
        who = principal()
        permitted = lifecycle.permitted_commands(case, lifecycle.Actor(who.role, who.unit, who.actor))
        return {**facts, **after(case), "permitted_commands": permitted}, 200, {"ETag": f'"{case.version}"'}


@blp.route("/<case_id>/complainant")
class CaseComplainant(MethodView):
    @blp.response(200, Complainant)
    def get(self, case_id):
        """The complainant's identity and contact, unsealed: office only."""
        require_role(principal(), "office")
        with uow() as u:
            case = problems(lambda: handlers.load_case(u, case_id))
            sealed = case.facts.get("complainant")
            contact = u.contacts.open(case_id, sealed) if sealed else None
        return {"case_id": case_id, "erased": bool(sealed) and contact is None, "complainant": contact}

    @blp.arguments(ErasureIn)
    @blp.response(200, Complainant)
    @blp.doc(parameters=[IDEMPOTENCY])
    def delete(self, body, case_id):
        """Erase the complainant's personal data on request (PIPL): destroys the case's data key, so the
        sealed copies in the store, Kafka and the trail can never be opened; the erasure is an event."""
        require_role(principal(), "office")
        return command(lambda u: (200, {"case_id": handlers.erase_complainant(u, case_id, body["reason"],
                                                                              context()).case_id,
                                        "erased": True, "complainant": None}, {}))


def _command_view(name: str):
    def view(args, case_id):
        require_role(principal(), "office", "unit", "channel")
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


for _name, _schema in COMMAND_SCHEMAS.items():
    blp.route(f"/<case_id>/{_name.replace('_', '-')}", methods=["POST"], endpoint=f"command_{_name}")(
        blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])(blp.arguments(_schema)(blp.response(200, CaseAfter)(
            _command_view(_name)))))
