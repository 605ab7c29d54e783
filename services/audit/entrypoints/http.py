"""audit's HTTP API: `gunicorn 'audit.entrypoints.http:create_app()'`."""
from __future__ import annotations

import json

from flask import Flask, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from zfcommon import db
from zfcommon.auth import require_role
from zfcommon.settings import Settings
from zfcommon.web import create_base_app, principal

from ..adapters import trail
from . import log

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
    @blp.arguments(EventQuery, location="query", unknown=None)   # webargs would drop unknown names
    @blp.response(200, TrailPage)
    def get(self, query):
        """Replay the trail in order from any position (`after`) or time (`since`), filtered by case,
        unit, type or actor; follow `next_after` for the next page."""
        require_role(principal(), "auditor", "office")
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = trail.page(conn, after=query["after"], limit=query["limit"],
                              **{k: query.get(k) for k in trail.FILTERS})
        items = [{"seq": r["seq"], "hash": bytes(r["hash"]).hex(), "prev_hash": bytes(r["prev_hash"]).hex(),
                  "recorded_at": r["recorded_at"], "event": json.loads(r["event"])} for r in rows]
        full = len(rows) == query["limit"]
        return {"items": items, "next_after": rows[-1]["seq"] if full else None}


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("audit")
    app, api = create_base_app(settings, title="Zhengfeng audit trail",
                               pool=db.make_pool(settings.database_url, max_size=4, name="audit"))
    api.register_blueprint(blp)
    api.register_blueprint(log.blp)
    return app
