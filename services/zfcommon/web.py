"""The Flask base every service's HTTP entrypoint builds on: OpenAPI, problem+json, auth, health,
metrics, correlation ids and access logs."""
from __future__ import annotations

import logging
import socket
import time
import uuid
from typing import Callable, Iterable

from flask import Flask, Response, g, jsonify, request
from flask_smorest import Api
from prometheus_client.registry import Collector
import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout
from werkzeug.exceptions import HTTPException

from . import logs, metrics, ratelimit
from .auth import Principal, principal_from_header
from .problem import Problem, Unavailable, Unprocessable, from_problem, response
from .settings import Settings

log = logging.getLogger(__name__)
PUBLIC_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.json")
UNAUTHENTICATED = "zf_unauthenticated"   # app.extensions key: /v1/ paths that do their own authentication


def broker_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return True
        except OSError:
            continue
    return False


def _flatten_webargs(messages: dict) -> dict:
    # webargs nests errors by location ({"json": {"field": [...]}}); clients want the field names.
    flat: dict = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            flat.update(errors)
        else:
            flat[location] = errors
    return flat


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
    app.extensions["zf_pool"] = pool
    app.extensions[UNAUTHENTICATED] = set()
    api = Api(app)
    pool.open(wait=False)

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        corr = request.headers.get("X-Correlation-Id") or str(uuid.uuid4())
        g.correlation_id = corr[:200]
        logs.correlation_id.set(g.correlation_id)
        logs.case_id.set(None)
        if request.path.startswith("/v1/") and request.path not in app.extensions[UNAUTHENTICATED]:
            g.principal = principal_from_header(settings.jwt_secret, request.headers.get("Authorization"))
            return ratelimit.enforce(pool, g.principal)    # a 429 instead, for a client over its limit
        return None

    @app.after_request
    def _finish(resp: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.HTTP_REQUESTS.labels(settings.service, request.method, route, str(resp.status_code)).inc()
        metrics.HTTP_LATENCY.labels(settings.service, route).observe(elapsed)
        resp.headers["X-Correlation-Id"] = g.get("correlation_id", "")
        ratelimit.decorate(resp)
        if route not in PUBLIC_PATHS:
            log.info("http_request", extra={"method": request.method, "route": route,
                                            "status": resp.status_code, "ms": round(elapsed * 1000, 2)})
        return resp

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return from_problem(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        body = {"type": "about:blank", "title": exc.name, "status": exc.code}
        data = getattr(exc, "data", None) or {}
        if exc.code == 422 and "messages" in data:
            body.update(type="https://zhengfeng.example.cn/problems/validation",
                        title="Validation failed", errors=_flatten_webargs(data["messages"]))
            body["detail"] = "invalid fields: " + ", ".join(sorted(body["errors"]))
        elif exc.description:
            body["detail"] = exc.description
        return response(exc.code or 500, body)

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_away(exc: Exception) -> Response:
        log.warning("database_unavailable", extra={"error": str(exc)[:300]})
        return response(503, {"type": "https://zhengfeng.example.cn/problems/unavailable",
                              "title": "Service unavailable", "status": 503,
                              "detail": "the database is not reachable; nothing was stored, retry shortly"},
                        headers={"Retry-After": "1"})

    @app.errorhandler(Exception)
    def _bug(exc: Exception) -> Response:
        log.exception("unhandled_error")
        return response(500, {"type": "about:blank", "title": "Internal Server Error", "status": 500,
                              "detail": "an unexpected error was logged with the correlation id"})

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
            raise Unavailable("dependencies unreachable: " + ", ".join(k for k, ok in checks.items() if not ok),
                              checks=checks)
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
        raise Unprocessable("If-Match must be a version", errors={"If-Match": ["not a version"]}) from None


def unauthenticated(app: Flask, *paths: str) -> None:
    """Exempt exact /v1/ paths from bearer authentication: endpoints that authenticate the caller
    themselves (the token exchange, signed webhooks). Nothing else under /v1/ is reachable without a token."""
    app.extensions[UNAUTHENTICATED].update(paths)
