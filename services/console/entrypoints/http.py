"""The console (工作台): `gunicorn 'console.entrypoints.http:create_app()'` (docs/CONSOLE.md).

A backend-for-frontend: server-rendered pages in Chinese, htmx for partial updates, and every case, report
and trail read from and written to the services over HTTP with the logged-in person's own token.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from psycopg import OperationalError
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from zfcommon import db
from zfcommon.clock import clock_for
from zfcommon.problem import Problem
from zfcommon.settings import Settings
from zfcommon.web import create_base_app

from ..adapters.services import ServiceError
from ..domain.accounts import Policy
from ..domain.messages import PROBLEM_STATUS, problem_text
from ..service_layer import accounts as handlers
from . import (accounts, auth, campaigns, cases, directory, filters, integrations, lookbacks, projects, reports, tasks,
               trail, units, web)

HERE = Path(__file__).parent
# Reachable without logging in (the rest need a live session): logging in and out, static files, health.
OPEN = ("auth.login", "auth.logout", "auth.sso_", "static", "healthz", "readyz", "metrics", "api-docs.")
BLUEPRINTS = (auth.bp, cases.bp, units.bp, campaigns.bp, tasks.bp, projects.bp, lookbacks.bp, directory.bp, reports.bp,
              integrations.bp, trail.bp, accounts.bp)


class SessionInterface(SecureCookieSessionInterface):
    """Signed, HttpOnly, SameSite=Lax cookies, marked Secure whenever the request came over HTTPS (behind a
    proxy: with ZF_CONSOLE_PROXIES set, ProxyFix makes X-Forwarded-Proto count)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("console")
    pool = db.make_pool(settings.database_url, max_size=4, name="console")
    app, _ = create_base_app(settings, title="Zhengfeng console (工作台)", pool=pool)
    app.template_folder = str(HERE / "templates")
    app.static_folder = str(HERE / "static")          # served at /static by Flask's own route
    app.secret_key = settings.console_secret_key
    app.session_interface = SessionInterface()
    app.config.update(SESSION_COOKIE_NAME="zf_console", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      WTF_CSRF_TIME_LIMIT=None, MAX_CONTENT_LENGTH=12 * 1024 * 1024)
    if settings.console_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.console_proxies, x_proto=settings.console_proxies,
                                x_host=settings.console_proxies, x_prefix=settings.console_proxies)
    app.extensions.update(
        zf_clock=clock_for(settings.clock_file),
        console_policy=Policy(lockout_attempts=settings.console_lockout_attempts,
                              lockout_minutes=settings.console_lockout_minutes,
                              idle_minutes=settings.console_idle_minutes),
        console_urls={"intake": settings.intake_url, "ledger": settings.ledger_url, "notify": settings.notify_url,
                      "audit": settings.audit_url},
    )
    CSRFProtect(app)
    auth.init_sso(app, settings)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    filters.init_app(app)
    _errors(app)

    @app.before_request
    def _login() -> object:
        endpoint = request.endpoint or ""
        if endpoint.startswith(OPEN):
            return None
        with web.uow() as u:
            who, why = handlers.session_account(u, web.now(), web.policy(), session.get("sid"))
        if who is None:
            session.pop("sid", None)
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None,
                                    why=why))
        g.account = who
        if who.must_change_password and endpoint != "auth.password":
            return redirect(url_for("auth.password"))
        return None

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Cache-Control", "no-store")
            resp.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                    "script-src 'self'; frame-ancestors 'none'; form-action 'self' "
                                    + (settings.oidc_issuer or ""))
        return resp

    @app.get("/")
    def home():
        who = web.account()
        return redirect(url_for({"office": "cases.dashboard", "unit": "units.mine",
                                 "auditor": "trail.events"}[who.role]))
    return app


def _errors(app: Flask) -> None:
    """Every error is a page in Chinese (never a traceback, never English problem text)."""

    def error_page(status: int, message: str):
        return web.page("error.html", status, status=status, message=message)

    @app.errorhandler(ServiceError)
    def _service(exc: ServiceError):
        status = 502 if exc.status >= 500 and exc.status != 503 else exc.status
        return error_page(status, problem_text(exc.status, exc.body))

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return error_page(400, "页面已过期或缺少安全校验信息，请返回刷新页面后重新提交")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return error_page(exc.code or 500, PROBLEM_STATUS.get(exc.code or 500, "请求未能完成"))

    @app.errorhandler(Problem)
    def _problem(exc: Problem):
        return error_page(exc.status, PROBLEM_STATUS.get(exc.status, "请求未能完成"))

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database(exc: Exception):
        return error_page(503, "工作台的数据库暂时无法连接，请稍后再试")

    @app.errorhandler(Exception)
    def _bug(exc: Exception):
        app.logger.exception("unhandled_error")
        return error_page(500, "系统出现意外错误，已记录，请稍后再试或联系系统管理员")
