"""The office's API clients: issue, list, rotate a key, revoke (docs/CHANNELS.md)."""
from __future__ import annotations

from flask import current_app, url_for
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from zfcommon.blueprint import Blueprint
from zfcommon.events.catalogue import CHANNELS
from zfcommon.problem import Conflict, NotFound

from ..adapters import clients as store
from ..service_layer import clients as service
from .common import command, context, uow
from .schemas import _Strict

blp = Blueprint("clients", __name__, url_prefix="/v1/clients", description="API clients of departments")
IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}
TIME = {"format": "date-time"}


class ClientIn(_Strict):
    department = fields.String(required=True, validate=validate.Length(min=1, max=200),
                               metadata={"description": "the department whose system uses the client"})
    unit = fields.String(load_default=None, validate=validate.Length(min=1, max=200),
                         metadata={"description": "scope: a unit of the directory (its cases); or channel"})
    channel = fields.String(load_default=None, validate=validate.OneOf(list(CHANNELS)),
                            metadata={"description": "scope: a channel (leads it submits); or unit"})
    rate_per_minute = fields.Integer(load_default=service.DEFAULT_RATE,
                                     validate=validate.Range(min=1, max=service.MAX_RATE))

    @validates_schema
    def _one_scope(self, data, **kwargs):
        if (data.get("unit") is None) == (data.get("channel") is None):
            raise ValidationError({"unit": ["unit 与 channel 须且只须填写一项"],
                                   "channel": ["unit 与 channel 须且只须填写一项"]})


class RotateIn(_Strict):
    grace_seconds = fields.Integer(load_default=service.DEFAULT_GRACE,
                                   validate=validate.Range(min=0, max=service.MAX_GRACE),
                                   metadata={"description": "how long the previous keys keep working; 0: not at all"})


class RevokeIn(_Strict):
    reason = fields.String(load_default=None, validate=validate.Length(min=1, max=4000))


class ClientOut(Schema):
    client_id = fields.String()
    department = fields.String()
    role = fields.String(metadata={"description": "unit or channel: the role of its tokens"})
    unit = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    rate_per_minute = fields.Integer()
    status = fields.String(metadata={"description": "active or revoked"})
    live_keys = fields.Integer(metadata={"description": "keys that work now (two during a rotation's grace)"})
    next_key_expiry = fields.String(allow_none=True, metadata={**TIME, "description": "when a rotated-out key stops"})
    created_by = fields.String()
    created_at = fields.String(metadata=TIME)
    rotated_at = fields.String(allow_none=True, metadata=TIME)
    revoked_at = fields.String(allow_none=True, metadata=TIME)
    revoked_by = fields.String(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    last_used_at = fields.String(allow_none=True, metadata={**TIME, "description": "last token exchange"})


class ClientIssued(ClientOut):
    key = fields.String(allow_none=True, metadata={
        "description": "the client secret, shown in this response only; null in an idempotent replay"})


class ClientList(Schema):
    clients = fields.List(fields.Nested(ClientOut))


def _out(row: dict) -> dict:
    """JSON-ready (the answer is also stored for Idempotency-Key replays)."""
    return {**{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()},
            "status": "revoked" if row["revoked_at"] else "active"}


def _problems(fn):
    try:
        return fn()
    except service.ClientNotFound as exc:
        raise NotFound(str(exc), code="client.not_found") from None
    except service.ClientRevoked as exc:
        raise Conflict(f"{exc}：请改为签发新的接入客户端", code="client.revoked", state="revoked") from None


def _issuing(fn):
    """Run a command that issues a key. The stored answer (for Idempotency-Key replays) holds `key`:
    null, since a key at rest would defeat storing only its hash; the first answer gets the key."""
    issued: dict[str, str] = {}

    def run(u):
        status, row, key, headers = fn(u)
        issued["key"] = key
        return status, {**_out(row), "key": None}, headers
    body, status, headers = _problems(lambda: command(run))
    return ({**body, "key": issued["key"]} if issued else body), status, headers


@blp.route("")
class Clients(MethodView):
    @blp.roles("office")
    @blp.arguments(ClientIn)
    @blp.response(201, ClientIssued)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Issue a client to a department, scoped to one unit or one channel; its key is in this answer only."""
        cmd = service.RegisterClient(**body)

        def register(u):
            row, key = service.register_client(u, cmd, context())
            return 201, row, key, {"Location": url_for("clients.Client", client_id=row["client_id"])}
        return _issuing(register)

    @blp.roles("office", "auditor")
    @blp.response(200, ClientList)
    def get(self):
        """Every client the office issued, revoked ones included (never a key)."""
        with uow() as u:
            return {"clients": [_out(r) for r in store.view_all(u.conn, current_app.extensions["zf_clock"].now())]}


@blp.route("/<client_id>")
class Client(MethodView):
    @blp.roles("office", "auditor")
    @blp.response(200, ClientOut)
    def get(self, client_id):
        """One client (never its key)."""
        with uow() as u:
            row = store.view(u.conn, client_id, current_app.extensions["zf_clock"].now())
        if row is None:
            raise NotFound(f"没有接入客户端 {client_id}", code="client.not_found")
        return _out(row)


@blp.route("/<client_id>/rotate", methods=["POST"])
@blp.roles("office")
@blp.arguments(RotateIn)
@blp.response(200, ClientIssued)
@blp.doc(parameters=[IDEMPOTENCY])
def rotate(body, client_id):
    """A new key; the previous ones keep working for `grace_seconds` (default 24 h), then stop."""
    return _issuing(lambda u: (200, *service.rotate_key(u, client_id, body["grace_seconds"], context()), {}))


@blp.route("/<client_id>/revoke", methods=["POST"])
@blp.roles("office")
@blp.arguments(RevokeIn)
@blp.response(200, ClientOut)
@blp.doc(parameters=[IDEMPOTENCY])
def revoke(body, client_id):
    """Every key stops at once; intake refuses the client's outstanding tokens from now on."""
    return _problems(lambda: command(lambda u: (200, _out(service.revoke_client(u, client_id, body["reason"],
                                                                                 context())), {})))
