"""Logging in and out: local accounts (argon2, lockout, forced first change) and, when configured, single
sign-on with the province's identity platform (统一身份认证) over OpenID Connect with PKCE (Authlib)."""
from __future__ import annotations

import secrets

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, flash, redirect, request, session, url_for

from zfcommon.settings import Settings
from zfcommon.workdays import SHANGHAI

from ..adapters.passwords import Hasher
from ..domain.accounts import AccountError, LoginRefused
from ..domain.sso import ClaimMapping, ClaimsRefused, identity
from ..service_layer import accounts as handlers
from . import web

bp = Blueprint("auth", __name__)
REASONS = {"idle": "您长时间未操作，已自动退出，请重新登录", "disabled": "该账号已停用，请联系正风办",
           "ended": "您已退出登录或登录已失效，请重新登录"}


def hasher() -> Hasher:
    return current_app.extensions.setdefault("console_hasher", Hasher())


def _safe_next(target: str | None) -> str:
    return web.local_path(target, url_for("home"))


def _start_session(account, via: str, target: str | None):
    with web.uow() as u:
        sid = handlers.open_session(u, web.now(), account, via)
    session.clear()            # a fresh session (and CSRF token) at every login: no fixation
    session["sid"] = sid
    return redirect(url_for("auth.password") if account.must_change_password else _safe_next(target))


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, login_name = None, ""
    if request.method == "POST":
        login_name = request.form.get("login", "")
        try:
            with web.uow() as u:
                account = handlers.authenticate(u, hasher(), web.now(), web.policy(), login_name,
                                                request.form.get("password", ""))
                u.commit()
            return _start_session(account, "password", request.form.get("next"))
        except LoginRefused as refused:
            error = str(refused)
            if refused.locked_until is not None:
                error += f"（至 {refused.locked_until.astimezone(SHANGHAI):%H:%M}）"
    status = 401 if error else 200
    return web.page("auth/login.html", status, error=error, login_name=login_name,
                    notice=REASONS.get(request.args.get("why", "")), next=request.args.get("next", ""),
                    sso=current_app.extensions.get("console_sso") is not None)


@bp.post("/logout")
def logout():
    sid = session.get("sid")
    if sid:
        with web.uow() as u:
            handlers.logout(u, web.now(), sid)
    session.clear()
    flash("您已安全退出")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    who = web.account()
    if who is None:
        return redirect(url_for("auth.login"))
    errors: dict = {}
    if request.method == "POST":
        try:
            with web.uow() as u:
                handlers.change_password(u, hasher(), web.now(), who.login, request.form.get("current", ""),
                                         request.form.get("new", ""), request.form.get("repeat", ""),
                                         keep_session=session.get("sid"))
            flash("密码已修改")
            return redirect(url_for("home"))
        except AccountError as exc:
            errors = exc.errors
    return web.page("auth/password.html", 422 if errors else 200, errors=errors, forced=who.must_change_password)


# --- single sign-on ---------------------------------------------------------------------------------------

def init_sso(app: Flask, settings: Settings) -> None:
    """Register the identity platform when ZF_OIDC_ISSUER is set (discovery at its well-known URL)."""
    if not settings.oidc_issuer:
        return
    oauth = OAuth(app)
    oauth.register("province", client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
                   server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
                   client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"})
    app.extensions["console_sso"] = (oauth.province, ClaimMapping.parse(
        settings.oidc_role_map, settings.oidc_role_claim, settings.oidc_unit_claim, settings.oidc_login_claim))


@bp.get("/sso/login")
def sso_login():
    sso = current_app.extensions.get("console_sso")
    if sso is None:
        return redirect(url_for("auth.login"))
    session["sso_next"] = _safe_next(request.args.get("next"))
    # Authlib keeps state, nonce and the PKCE verifier in the session, one set per login attempt.
    return sso[0].authorize_redirect(url_for("auth.sso_callback", _external=True), nonce=secrets.token_urlsafe(16))


@bp.get("/sso/callback")
def sso_callback():
    sso = current_app.extensions.get("console_sso")
    if sso is None:
        return redirect(url_for("auth.login"))
    client, mapping = sso
    try:
        # Verifies the ID token: signature (the provider's jwks_uri), iss, aud, exp, iat and nonce.
        token = client.authorize_access_token(leeway=60)
        who = identity(token.get("userinfo") or {}, mapping)
        with web.uow() as u:
            account = handlers.sso_account(u, web.now(), who)
            u.commit()
    except (OAuthError, ValueError) as exc:
        current_app.logger.warning("sso_refused", extra={"error": str(exc)[:300]})
        return _refused("统一身份认证登录未能完成，请重新登录")
    except (ClaimsRefused, LoginRefused) as exc:
        return _refused(str(exc))
    return _start_session(account, "sso", session.pop("sso_next", None))


def _refused(message: str):
    return web.page("auth/login.html", 403, error=message, login_name="", notice=None, next="",
                    sso=current_app.extensions.get("console_sso") is not None)
