"""ledger's HTTP API (the 台账 read side): `gunicorn 'ledger.entrypoints.http:create_app()'`."""
from __future__ import annotations

from flask import Flask, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from zfcommon import db
from zfcommon.auth import require_role
from zfcommon.events.catalogue import CHANNELS, PRIORITIES
from zfcommon.problem import NotFound, Unprocessable
from zfcommon.settings import Settings
from zfcommon.web import create_base_app, principal

from ..adapters import repository

STATUSES = ("received",)
READERS = ("office", "auditor")

blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="The ledger's view of cases")


class Location(Schema):
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class CaseOut(Schema):
    case_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    channel = fields.String(required=True, validate=validate.OneOf(list(CHANNELS)))
    category = fields.String(required=True)
    description = fields.String(required=True)
    subject_unit = fields.String(required=True)
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    location = fields.Nested(Location, allow_none=True)
    anonymous = fields.Boolean(required=True)
    received_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "stream version the view reflects"})


class CaseQuery(Schema):
    class Meta:
        unknown = "raise"
    status = fields.String(validate=validate.OneOf(STATUSES))
    unit = fields.String(validate=validate.Length(min=1, max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String()


class CasePage(Schema):
    items = fields.List(fields.Nested(CaseOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


def _pool():
    return current_app.extensions["zf_pool"]


@blp.route("")
class Cases(MethodView):
    @blp.arguments(CaseQuery, location="query")
    @blp.response(200, CasePage)
    def get(self, query):
        """Page through cases, newest first; follow next_cursor for the next page."""
        require_role(principal(), *READERS)
        after = None
        if query.get("cursor"):
            try:
                after = repository.decode_cursor(query["cursor"])
            except ValueError:
                raise Unprocessable("cursor is not valid", errors={"cursor": ["not a cursor from this API"]})
        with _pool().connection() as conn:
            items, next_cursor = repository.list_cases(conn, status=query.get("status"), unit=query.get("unit"),
                                                       limit=query["limit"], after=after)
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/<case_id>")
class Case(MethodView):
    @blp.response(200, CaseOut)
    def get(self, case_id):
        """One case as the ledger projects it."""
        require_role(principal(), *READERS)
        with _pool().connection() as conn:
            row = repository.get_case(conn, case_id)
        if row is None:
            raise NotFound(f"no case {case_id} in the ledger")
        return row


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("ledger")
    app, api = create_base_app(settings, title="Zhengfeng ledger (台账)",
                               pool=db.make_pool(settings.database_url, max_size=4, name="ledger"))
    api.register_blueprint(blp)
    return app
