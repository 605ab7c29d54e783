"""Token exchange for API clients: OAuth 2.0 client credentials (RFC 6749 §4.4).

`POST /v1/token` with `grant_type=client_credentials` and the client's key, either as HTTP Basic
(client id : key, §2.3.1) or as the form field `client_secret`, answers a short-lived bearer JWT with
the client's role and scope, which every service accepts. Errors follow §5.2 (`{"error": ...}`), not
problem+json, because that is what OAuth client libraries parse; §5.2 also limits `error_description`
to ASCII, so these descriptions stay English (the one exception to Chinese details, docs/CHANNELS.md).
"""
from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from flask import Flask, Response, current_app, jsonify, request
from zfcommon import jwks
from zfcommon.auth import Principal, issue_token
from zfcommon.blueprint import Blueprint
from zfcommon.openapi import Api
from zfcommon.problem import NotFound, Problem, Unauthorized
from zfcommon.web import CLIENT_CHECKS, unauthenticated

from ..adapters import clients as store
from ..service_layer import clients as service
from .common import uow

blp = Blueprint("token", __name__, url_prefix="/v1", description="Token exchange for API clients (OAuth 2.0)")
PATH = "/v1/token"
TOKEN_TTL = 600     # seconds: how long a revoked client's tokens may still be honoured outside intake
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}   # RFC 6749 §5.1


class TokenError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@blp.errorhandler(TokenError)
def _token_error(exc: TokenError) -> Response:
    resp = jsonify(error=exc.error, error_description=exc.description)
    resp.status_code = exc.status
    resp.headers.update(NO_STORE)
    if exc.status == 401:
        resp.headers["WWW-Authenticate"] = 'Basic realm="zhengfeng", charset="UTF-8"'
    return resp


@blp.errorhandler(Problem)
def _refused_input(exc: Problem) -> Response:
    """The request-validation layer's refusals (a control character in a form field …), as §5.2 errors."""
    return _token_error(TokenError(400, "invalid_request", f"the request was refused ({exc.code})"))


def _invalid_client(why: str) -> TokenError:
    return TokenError(401, "invalid_client", why)


def _basic(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client("authenticate the client with HTTP Basic or client_secret")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid_client("the Basic credentials are not base64 of client_id:client_secret") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid_client("the Basic credentials are not client_id:client_secret")
    # §2.3.1: both parts are form-urlencoded before they are joined.
    return unquote_plus(client_id), unquote_plus(secret)


def _credentials() -> tuple[str | None, str]:
    form = request.form
    header = request.headers.get("Authorization")
    if header and "client_secret" in form:
        raise TokenError(400, "invalid_request", "use one way of authenticating the client, not two")
    client_id, secret = _basic(header) if header else (form.get("client_id"), form.get("client_secret"))
    if not secret:
        raise _invalid_client("no client credentials: send HTTP Basic or client_secret")
    return client_id or None, secret


@blp.route("/token", methods=["POST"])
@blp.doc(security=[{"basicAuth": []}, {}], requestBody={"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["grant_type"], "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": {"type": "string"}, "client_secret": {"type": "string"}}}}}},
         responses={"200": {"description": "`{access_token, token_type: Bearer, expires_in}`"},
                    "400": {"description": "RFC 6749 §5.2 error"}, "401": {"description": "invalid_client"}})
def token():
    """Exchange a client's key for a bearer token (10 minutes) with its role, scope and rate limit."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise TokenError(400, "invalid_request", "send application/x-www-form-urlencoded (RFC 6749 §4.4.2)")
    grant = request.form.get("grant_type")
    if not grant:
        raise TokenError(400, "invalid_request", "grant_type is required")
    if grant != "client_credentials":
        raise TokenError(400, "unsupported_grant_type", "only grant_type=client_credentials is supported")
    claimed_id, secret = _credentials()
    with uow() as u:
        client = service.exchange_key(u, secret, claimed_id, current_app.extensions["zf_clock"].now())
        u.commit()
    if client is None:
        raise _invalid_client("unknown, expired or revoked client credentials")
    settings = current_app.extensions["zf_settings"]
    access = issue_token(jwks.signer(settings), client.role, client.client_id, unit=client.unit,
                         channel=client.channel, ttl_seconds=TOKEN_TTL, client_id=client.client_id,
                         rate_per_minute=client.rate_per_minute, key_issued_at=client.key_issued_at)
    resp = jsonify(access_token=access, token_type="Bearer", expires_in=TOKEN_TTL)
    resp.headers.update(NO_STORE)
    return resp


def refuse_revoked(who: Principal) -> None:
    """before_request on intake: a revoked client's outstanding tokens, and those of a key a rotation
    retired, stop here at once, not when they expire (intake reads its own tables; the other services
    follow the client events, zfcommon.revocation). Costs one lookup for client tokens only."""
    with uow() as u:
        live = store.is_live(u.conn, who.client_id)
        key = live and (who.key_issued_at is None or store.key_live(
            u.conn, who.client_id, who.key_issued_at, current_app.extensions["zf_clock"].now()))
    if not live:
        raise Unauthorized(f"接入客户端 {who.client_id} 已被撤销", code="client.revoked", client_id=who.client_id)
    if not key:
        raise Unauthorized(f"接入客户端 {who.client_id} 的此密钥已因轮换停用，请用新密钥重新获取令牌",
                           code="client.key_retired", client_id=who.client_id)


def jwks_document() -> Response:
    """The public keys every service and any department verify tokens with (RFC 7517 JWK Set).
    404 when this deployment signs with an HS256 secret (local development), which is never published."""
    settings = current_app.extensions["zf_settings"]
    signer = jwks.signer(settings)
    if not isinstance(signer, jwks.FileSigner):
        raise NotFound("本部署使用本地开发用的对称密钥签发令牌，没有公开的验签公钥", code="auth.no_jwks")
    resp = jsonify(signer.jwks())
    resp.content_type = "application/jwk-set+json"
    resp.headers["Cache-Control"] = "public, max-age=60"
    return resp


def init_app(app: Flask, api: Api) -> None:
    """Serve the exchange outside bearer authentication, publish the JWKS, and refuse revoked clients' tokens."""
    app.add_url_rule(jwks.JWKS_PATH, "jwks", jwks_document, methods=["GET"])
    api.spec.components.security_scheme("basicAuth", {"type": "http", "scheme": "basic"})
    api.register_blueprint(blp)
    unauthenticated(app, PATH)
    app.extensions[CLIENT_CHECKS].append(refuse_revoked)
