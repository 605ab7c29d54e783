"""`GET /v1/streams/digests`: per stream of a service's own event store, the event count and digest
audit's reconciliation compares its trail with. One implementation for every service with an event
store (intake, notify): each registers `digests_blueprint()` in its create_app."""
from __future__ import annotations

from flask import current_app
from marshmallow import Schema, fields, validate

from . import eventstore
from .blueprint import Blueprint


class StreamDigest(Schema):
    stream_id = fields.String(required=True)
    count = fields.Integer(required=True, metadata={"description": "events with time before `until`"})
    digest = fields.String(required=True, metadata={"description": "hex SHA-256 of the event ids joined by ','"})


class DigestPage(Schema):
    streams = fields.List(fields.Nested(StreamDigest), required=True)
    next_after = fields.String(allow_none=True, required=True, metadata={"description": "null on the last page"})


class DigestQuery(Schema):
    until = fields.AwareDateTime(required=True, metadata={"description": "only events with time before this"})
    after = fields.String(load_default="", metadata={"description": "the last stream id of the previous page"})
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=5000))


def digests_blueprint() -> Blueprint:
    """A fresh blueprint per app (flask-smorest keeps per-blueprint documentation state)."""
    blp = Blueprint("streams", __name__, url_prefix="/v1/streams", description="Event store digests")

    @blp.route("/digests", methods=["GET"])
    @blp.roles("auditor", "office")
    @blp.arguments(DigestQuery, location="query", unknown=None)
    @blp.response(200, DigestPage)
    def stream_digests(query):
        """Per stream: event count and SHA-256 of the event ids in order — for audit's reconciliation.
        Follow `next_after` (null on the last page)."""
        with current_app.extensions["zf_pool"].connection() as conn:
            rows = eventstore.stream_digests(conn, after=query["after"], until=query["until"].isoformat(),
                                             limit=query["limit"])
        return {"streams": rows, "next_after": rows[-1]["stream_id"] if len(rows) == query["limit"] else None}

    return blp
