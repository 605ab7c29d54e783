"""audit's HTTP API: `gunicorn 'audit.entrypoints.http:create_app()'`."""
from __future__ import annotations

import json
from datetime import datetime

from flask import Flask, current_app, jsonify
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from zfcommon import caseview, db, revocation
from zfcommon.blueprint import Blueprint
from zfcommon.problem import NotFound, Unavailable
from zfcommon.settings import Settings
from zfcommon.web import create_base_app

from ..adapters import trail
from ..service_layer import reconcile
from ..service_layer.reconcile import run_reconciliation
from . import bundles, log
from .streaming import streamed

READERS = ("auditor", "office")
blp = Blueprint("events", __name__, url_prefix="/v1/events", description="The accountability trail")


class EventQuery(Schema):
    class Meta:
        unknown = "raise"
    after = fields.Integer(load_default=0, validate=validate.Range(min=0),
                           metadata={"description": "return entries with seq greater than this"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    subject = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "a case id"})
    unit = fields.String(validate=validate.Length(min=1, max=200),
                         metadata={"description": "events concerning this unit (lead, cooperating, acting, target)"})
    type = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "an event type"})
    actor = fields.String(validate=validate.Length(min=1, max=200),
                          metadata={"description": "role:subject — with since/until: who did what in a period"})
    since = fields.AwareDateTime(metadata={"description": "event time ≥ this (RFC 3339)"})
    until = fields.AwareDateTime(metadata={"description": "event time < this (RFC 3339)"})


class TrailEntry(Schema):
    seq = fields.Integer(required=True)
    hash = fields.String(required=True, metadata={"description": "hex SHA-256(prev_hash ‖ canonical event)"})
    prev_hash = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)
    event = fields.Dict(required=True, metadata={"description": "the CloudEvent"})


class TrailPage(Schema):
    items = fields.List(fields.Nested(TrailEntry), required=True)
    next_after = fields.Integer(allow_none=True, required=True)


@blp.route("")
class Events(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(EventQuery, location="query", unknown=None)   # webargs would drop unknown names
    @blp.response(200, TrailPage)
    def get(self, query):
        """Replay the trail in order from any position (`after`) or time (`since`), filtered by case,
        unit, type or actor; follow `next_after` for the next page."""
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = trail.page(conn, after=query["after"], limit=query["limit"],
                              **{k: query.get(k) for k in trail.FILTERS})
        items = [{"seq": r["seq"], "hash": bytes(r["hash"]).hex(), "prev_hash": bytes(r["prev_hash"]).hex(),
                  "recorded_at": r["recorded_at"], "event": json.loads(r["event"])} for r in rows]
        full = len(rows) == query["limit"]
        return {"items": items, "next_after": rows[-1]["seq"] if full else None}


class StreamQuery(Schema):
    class Meta:
        unknown = "raise"
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2 ** 63 - 1),
                           metadata={"description": "stream entries with seq greater than this"})
    until = fields.Integer(validate=validate.Range(min=0, max=2 ** 63 - 1),
                           metadata={"description": "the last seq to stream; default: the trail's last now"})


@blp.route("/stream")
class EventStream(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(StreamQuery, location="query", unknown=None)
    @blp.doc(responses={"200": {
        "description": "every entry of seq (after, until] in order, one stored CloudEvent per line, exactly"
                       " the canonical bytes the trail holds; `X-Trail-Until` names the last seq sent",
        "headers": {"X-Trail-Until": {"schema": {"type": "integer"}}},
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}})
    def get(self, query):
        """The whole trail (or the part after `after`) in one streamed response, for rebuilding a
        projection: read with COPY and sent as stored, no page to follow, constant memory."""
        def prepare(conn):
            last = conn.execute("SELECT coalesce(max(seq), 0) AS seq FROM trail").fetchone()["seq"]
            until = min(query.get("until", last), last)
            return trail.event_lines(conn, query["after"], until), {"X-Trail-Until": str(until)}
        return streamed(prepare, "application/x-ndjson")


class SourceReconciliation(Schema):
    source = fields.String(required=True, metadata={"description": "the event store: intake or notify"})
    ran_at = fields.DateTime()
    until = fields.DateTime(required=True)
    streams = fields.Integer(required=True)
    missing = fields.Integer(required=True, metadata={"description": "events the source holds that the trail lacks"})
    extra = fields.Integer(required=True, metadata={"description": "events the trail holds that the source does not"})
    differing = fields.Integer(required=True, metadata={"description": "streams with other events or order"})
    report = fields.List(fields.Dict(), required=True,
                         metadata={"description": "{stream, <source>: its count, trail: the trail's count}"})
    error = fields.String(allow_none=True, metadata={"description": "set when the source was not reachable"})


class ReconciliationOut(Schema):
    streams = fields.Integer(required=True, metadata={"description": "totals over the reachable sources"})
    missing = fields.Integer(required=True)
    extra = fields.Integer(required=True)
    differing = fields.Integer(required=True)
    unreachable = fields.List(fields.String(), required=True,
                              metadata={"description": "sources whose latest reconciliation could not reach them"})
    sources = fields.List(fields.Nested(SourceReconciliation), required=True)


class AsOfQuery(Schema):
    at = fields.AwareDateTime(required=True, metadata={"description": "RFC 3339 instant"})


class CaseAsOfOut(Schema):
    as_of = fields.String(required=True, metadata={"format": "date-time"})
    case = fields.Dict(required=True, metadata={"description": "the case folded by zfcommon.caseview"})
    trail_seqs = fields.List(fields.Integer(), required=True,
                             metadata={"description": "the entries it was rebuilt from"})


cases_blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="Cases rebuilt from the trail")


@cases_blp.route("/<case_id>/as-of")
class CaseAsOf(MethodView):
    @cases_blp.roles(*READERS)
    @cases_blp.arguments(AsOfQuery, location="query", unknown=None)
    @cases_blp.response(200, CaseAsOfOut)
    def get(self, query, case_id):
        """A case rebuilt from the trail as of any time, with the same fold the ledger uses
        (zfcommon.caseview), plus the trail entries it was rebuilt from."""
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = trail.page(conn, after=0, limit=100_000, subject=case_id)
        events = [json.loads(r["event"]) for r in rows]
        changes = [caseview.Recorded(type=e["type"], subject=case_id, time=datetime.fromisoformat(e["time"]),
                                     streamversion=e["streamversion"], actor=e.get("actor", ""), data=e["data"])
                   for e in events if e["type"].startswith("cn.zhengfeng.case.")
                   and datetime.fromisoformat(e["time"]) <= query["at"]]
        state = caseview.replay(changes)
        if state is None:
            raise NotFound(f"截至 {query['at'].isoformat()}，案件 {case_id} 尚未受理", code="case.not_found")
        seqs = [r["seq"] for r, e in zip(rows, events) if datetime.fromisoformat(e["time"]) <= query["at"]]
        case = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in state.items()}
        return jsonify(as_of=query["at"].isoformat(), case=case, trail_seqs=seqs)


recon_blp = Blueprint("reconciliation", __name__, url_prefix="/v1/reconciliation",
                      description="The trail compared with the event stores of intake and notify")


@recon_blp.route("")
class Reconciliation(MethodView):
    @recon_blp.roles(*READERS)
    @recon_blp.response(200, ReconciliationOut)
    @recon_blp.alt_response(404, description="no reconciliation has run yet")
    def get(self):
        """The latest reconciliation's result of each source (intake, notify), with totals."""
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = reconcile.latest(conn)
        if not rows:
            raise NotFound("尚未进行过对账", code="reconciliation.none_yet")
        return reconcile.summary(rows)

    @recon_blp.roles(*READERS)
    @recon_blp.response(200, ReconciliationOut)
    def post(self):
        """Compare the trail with every source's event store now (the signer also does it on a
        schedule). A source that cannot be reached is listed in `unreachable`; 503 when none can."""
        with current_app.extensions["zf_pool"].connection() as conn:
            result = run_reconciliation(conn, current_app.extensions["zf_settings"])
        if len(result["unreachable"]) == len(result["sources"]):
            raise Unavailable("无法访问任何事件库，本次对账未能进行：" + "、".join(result["unreachable"]),
                              code="reconciliation.no_source_reachable",
                              reason="; ".join(r["error"] for r in result["sources"]))
        return result


class ReconciliationGauges(Collector):
    def __init__(self, pool):
        self.pool = pool

    def collect(self):
        with self.pool.connection(timeout=2) as conn:
            rows = reconcile.latest(conn)
        if not rows:
            return
        for name, help_text in (("missing", "Events a source's store holds that the trail lacks"),
                                ("extra", "Events of a source the trail holds that its store does not"),
                                ("differing", "Streams whose events differ between a source's store and the trail")):
            gauge = GaugeMetricFamily(f"zf_reconcile_{name}", f"{help_text}, at the latest reconciliation",
                                      labels=["source"])
            for row in rows:
                if not row["error"]:
                    gauge.add_metric([row["source"]], row[name])
            yield gauge
        gauge = GaugeMetricFamily("zf_reconcile_unreachable",
                                  "1 when the latest reconciliation could not reach the source", labels=["source"])
        for row in rows:
            gauge.add_metric([row["source"]], 1 if row["error"] else 0)
        yield gauge


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("audit")
    pool = db.make_pool(settings.database_url, max_size=4, name="audit")
    app, api = create_base_app(settings, title="Zhengfeng audit trail", pool=pool,
                               collectors=lambda: [ReconciliationGauges(pool)])
    revocation.install(app, settings)     # revoked clients' tokens refused here too, within seconds
    api.register_blueprint(blp)
    api.register_blueprint(log.blp)
    api.register_blueprint(bundles.blp)
    api.register_blueprint(recon_blp)
    api.register_blueprint(cases_blp)
    return app
