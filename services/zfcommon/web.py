"""The Flask base every service's HTTP entrypoint builds on: OpenAPI, problem+json, auth and declared
roles, the request-validation layer (zfcommon.inputs), health, metrics, correlation ids and access logs."""
from __future__ import annotations

import logging
import socket
import time
import uuid
from typing import Callable, Iterable

from flask import Flask, Response, g, jsonify, request
from prometheus_client.registry import Collector
import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout
from werkzeug.exceptions import HTTPException

from . import inputs, jwks, liveness, logs, metrics, ratelimit, tracing, trackingcode
from .auth import Principal, principal_from_header
from .blueprint import check_role
from .openapi import Api, ProblemResponses
from .problem import TYPE_BASE, Problem, Unavailable, Unprocessable, from_problem, response
from .settings import Settings

log = logging.getLogger(__name__)
PUBLIC_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.json")
UNAUTHENTICATED = "zf_unauthenticated"   # app.extensions key: /v1/ paths that do their own authentication
CLIENT_CHECKS = "zf_client_checks"       # app.extensions key: checks refusing an API client's token (revoked)


def broker_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return True
        except OSError:
            continue
    return False


# Werkzeug's own refusals (no route, wrong method, body over MAX_CONTENT_LENGTH …), in Chinese.
HTTP_PROBLEMS = {
    400: ("请求无法解析", "bad_request", "请求格式有误，无法解析"),
    404: ("未找到", "not_found", "没有这个资源，请检查网址"),
    405: ("不支持的请求方法", "method_not_allowed", "此资源不接受该请求方法"),
    413: ("请求内容过大", "payload_too_large", "请求体超过了此接口的大小上限"),
}


def create_base_app(settings: Settings, *, title: str, pool: ConnectionPool,
                    collectors: Callable[[], Iterable[Collector]] = lambda: ()) -> tuple[Flask, Api]:
    logs.configure(settings.service, settings.log_level)
    app = Flask(settings.service)
    app.config.update(
        API_TITLE=title, API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"security": [{"bearerAuth": []}],
                          "components": {"securitySchemes": {
                              "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}},
        MAX_CONTENT_LENGTH=1 * 1024 * 1024,
    )
    app.json.ensure_ascii = False   # Chinese stays readable in responses
    app.extensions["zf_settings"] = settings
    app.extensions[trackingcode.EXTENSION] = trackingcode.TrackingKey(settings.tracking_key)
    app.extensions["zf_pool"] = pool
    app.extensions[UNAUTHENTICATED] = set()
    app.extensions[CLIENT_CHECKS] = []
    api = Api(app, spec_kwargs={"extra_plugins": [ProblemResponses()]})
    pool.open(wait=False)
    tracing.instrument(app, settings)         # first: its span covers the hooks below
    token_key = jwks.verifier(settings)     # the JWKS (EdDSA) or, in local development, the HS256 secret

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        corr = request.headers.get("X-Correlation-Id")
        if not corr or inputs.bad_character(corr, inputs.FORBIDDEN_IN_HEADER):
            corr = str(uuid.uuid4())      # never echo a bad one; check_request refuses the request below
        g.correlation_id = corr[:200]
        logs.correlation_id.set(g.correlation_id)
        logs.case_id.set(None)
        if request.path.startswith("/v1/") and request.path not in app.extensions[UNAUTHENTICATED]:
            g.principal = principal_from_header(token_key, request.headers.get("Authorization"))
            if g.principal.client_id is not None:             # before its limit and its role are looked at
                for check in app.extensions[CLIENT_CHECKS]:
                    refused = check(g.principal)
                    if refused is not None:
                        return refused
            refused = ratelimit.enforce(pool, g.principal)    # a 429 instead, for a client over its limit
            if refused is not None:
                return refused
            check_role(app, request, g.principal)             # before the query or the body is read
        inputs.check_request()
        return None

    @app.after_request
    def _finish(resp: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.HTTP_REQUESTS.labels(settings.service, request.method, route, str(resp.status_code)).inc()
        metrics.HTTP_LATENCY.labels(settings.service, route).observe(elapsed)
        resp.headers["X-Correlation-Id"] = g.get("correlation_id", "")
        if resp.is_streamed:        # a download that may outlast the worker's timeout: beat as it goes
            resp.response = liveness.beating(resp.response)
        ratelimit.decorate(resp)
        if route not in PUBLIC_PATHS:
            log.info("http_request", extra={"method": request.method, "route": route,
                                            "status": resp.status_code, "ms": round(elapsed * 1000, 2)})
        return resp

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        log.info("problem_answered", extra={"status": exc.status, "code": exc.code,
                                            **({"reason": exc.reason} if exc.reason else {})})
        return from_problem(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        title, code, detail = HTTP_PROBLEMS.get(status, (exc.name, "http_error", exc.name))
        headers = {k: v for k, v in exc.get_headers() if k == "Allow"}
        log.info("problem_answered", extra={"status": status, "code": code, "reason": exc.description})
        return response(status, {"type": "about:blank", "title": title, "status": status, "code": code,
                                 "detail": detail}, headers)

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_away(exc: Exception) -> Response:
        log.warning("database_unavailable", extra={"error": str(exc)[:300]})
        return from_problem(Unavailable("数据库暂时无法连接，本次请求未保存任何内容，请稍后重试",
                                        code="database_unavailable"), headers={"Retry-After": "1"})

    @app.errorhandler(Exception)
    def _bug(exc: Exception) -> Response:
        log.exception("unhandled_error")
        return response(500, {"type": TYPE_BASE + "internal", "title": Problem.title, "status": 500,
                              "code": Problem.code, "detail": "服务器处理出错，已记录；请稍后重试，或凭关联编号 "
                              f"{g.get('correlation_id', '')} 联系正风办"})

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", service=settings.service)

    @app.get("/readyz")
    def readyz():
        checks = {"database": False}
        if settings.kafka_bootstrap_servers:     # a service without a broker (the console) checks none
            checks["broker"] = broker_reachable(settings.kafka_bootstrap_servers)
        try:
            with pool.connection(timeout=2) as conn:
                conn.execute("SELECT 1")
            checks["database"] = True
        except Exception as exc:  # any failure means not ready; the reason goes to the log
            log.warning("readyz_database_failed", extra={"error": str(exc)})
        if not all(checks.values()):
            names = {"database": "数据库", "broker": "消息代理"}
            raise Unavailable("依赖不可达：" + "、".join(names[k] for k, ok in checks.items() if not ok),
                              code="dependencies_unreachable", checks=checks)
        return jsonify(status="ready", checks=checks)

    @app.get("/metrics")
    def metrics_endpoint():
        body, content_type = metrics.exposition(settings.metrics_dir, collectors())
        return Response(body, content_type=content_type)

    return app, api


def principal() -> Principal:
    return g.principal


def expected_version() -> int | None:
    """The version an `If-Match: "<n>"` header says a command was decided on (None without one); a
    422 naming the header when it holds no version."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    try:
        return int(raw.strip().strip('"'))
    except ValueError:
        raise Unprocessable("If-Match 须为版本号，如 \"3\"", code="request.if_match_invalid",
                            errors={"If-Match": ["不是版本号"]}) from None


def unauthenticated(app: Flask, *paths: str) -> None:
    """Exempt exact /v1/ paths from bearer authentication: endpoints that authenticate the caller
    themselves (the token exchange, signed webhooks). Nothing else under /v1/ is reachable without a token."""
    app.extensions[UNAUTHENTICATED].update(paths)
