"""intake's HTTP API: `gunicorn 'intake.entrypoints.http:create_app()'`."""
from __future__ import annotations

from flask import Flask, current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from zfcommon import db, logs
from zfcommon.auth import require_role
from zfcommon.problem import Conflict, Forbidden, NotFound
from zfcommon.settings import Settings
from zfcommon.web import create_base_app, principal

from ..adapters.contacts import load_master_key
from ..adapters.eventstore import ConcurrencyConflict
from ..domain import case as domain
from ..service_layer import handlers
from ..service_layer.idempotent import request_hash, run_command
from ..service_layer.uow import UnitOfWork
from .schemas import CaseCreated, CaseIn, CaseState, Complainant

blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="Leads and commands on cases")


def _uow() -> UnitOfWork:
    return UnitOfWork(current_app.extensions["zf_pool"], current_app.extensions["zf_master_key"])


def _ctx() -> handlers.Context:
    return handlers.Context(actor=principal().actor, correlation_id=logs.correlation_id.get() or "")


def _command(fn):
    """Run a command under the request's Idempotency-Key, mapping domain errors to problems."""
    def guarded(uow):
        try:
            return fn(uow)
        except handlers.CaseNotFound as exc:
            raise NotFound(str(exc)) from None
        except ConcurrencyConflict as exc:
            raise Conflict(f"{exc}; reload the case and retry", case_id=exc.stream_id) from None
        except domain.TransitionRefused as exc:
            raise Conflict(str(exc), state=exc.state) from None
    status, body, headers = run_command(_uow, principal().actor, request.headers.get("Idempotency-Key"),
                                        request_hash(request.method, request.path, request.get_data()), guarded)
    return body, status, headers


@blp.route("")
class Cases(MethodView):
    @blp.arguments(CaseIn)
    @blp.response(201, CaseCreated)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
    def post(self, body):
        """Receive a lead (受理): any channel, anonymous allowed."""
        who = principal()
        require_role(who, "office", "channel")
        if who.role == "channel" and who.channel != body["channel"]:
            raise Forbidden(f"a {who.channel} channel token may not submit on channel {body['channel']}")
        cmd = domain.ReceiveComplaint(**body)

        def receive(uow):
            case_id = handlers.receive_case(cmd, uow, _ctx())
            logs.case_id.set(case_id)
            return 201, {"case_id": case_id, "status": "received", "version": 1}, \
                {"Location": url_for("cases.Case", case_id=case_id)}
        return _command(receive)


@blp.route("/<case_id>")
class Case(MethodView):
    @blp.response(200, CaseState)
    def get(self, case_id):
        """The case as its events say now (read-your-writes; the ledger has the full projection)."""
        require_role(principal(), "office", "auditor")
        with _uow() as uow:
            try:
                case = handlers.load_case(uow, case_id)
            except handlers.CaseNotFound as exc:
                raise NotFound(str(exc)) from None
        facts = {k: v for k, v in case.facts.items() if k in CaseState._declared_fields}
        return {**facts, "case_id": case.case_id, "status": case.status, "version": case.version}


@blp.route("/<case_id>/complainant")
class CaseComplainant(MethodView):
    @blp.response(200, Complainant)
    def get(self, case_id):
        """The complainant's identity and contact, unsealed: office only."""
        require_role(principal(), "office")
        with _uow() as uow:
            try:
                case = handlers.load_case(uow, case_id)
            except handlers.CaseNotFound as exc:
                raise NotFound(str(exc)) from None
            sealed = case.facts.get("complainant")
            contact = uow.contacts.open(case_id, sealed) if sealed else None
        return {"case_id": case_id, "erased": bool(sealed) and contact is None, "complainant": contact}


class OutboxBacklog(Collector):
    def __init__(self, pool):
        self.pool = pool

    def collect(self):
        with self.pool.connection(timeout=2) as conn:
            n = conn.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"]
        yield GaugeMetricFamily("zf_relay_backlog", "Stored events not yet acknowledged by the broker", value=n)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("intake")
    pool = db.make_pool(settings.database_url, max_size=4, name="intake")
    app, api = create_base_app(settings, title="Zhengfeng intake", pool=pool,
                               collectors=lambda: [OutboxBacklog(pool)])
    app.extensions["zf_master_key"] = load_master_key(settings.contact_key)
    api.register_blueprint(blp)
    return app
