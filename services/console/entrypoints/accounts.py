"""Accounts (office): who may log in, with which role and unit; every change recorded. Auditors (and the
office) read the console's record of account changes, lockouts and setting changes (reveals of complainants are intake's events, in the trail)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from ..adapters import intake
from ..adapters.services import ServiceError
from ..domain.accounts import AccountError
from ..service_layer import accounts as handlers
from . import auth, web
from .web import roles

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
FIELDS = ("login", "display_name", "role", "unit", "phone")


def _units() -> list[str]:
    try:
        return [u["name"] for u in intake.directory(web.services())["units"] if u.get("active", True)]
    except ServiceError:
        return []


@bp.get("")
@roles("office")
def index():
    with web.uow() as u:
        rows = u.store.accounts()
    return web.page("accounts/index.html", accounts=rows, now=web.now())


@bp.route("/new", methods=["GET", "POST"])
@roles("office")
def new():
    errors, created = {}, None
    form = request.form
    if request.method == "POST":
        try:
            with web.uow() as u:
                password = handlers.create_account(u, auth.hasher(), web.account().actor, web.now(),
                                                   **{k: form.get(k, "") for k in FIELDS})
            created = {"login": form.get("login", "").strip().lower(), "password": password}
        except AccountError as exc:
            errors = exc.errors
    return web.page("accounts/form.html", 422 if errors else 200, errors=errors, form=form, created=created,
                    units=_units(), editing=None)


@bp.route("/<login>", methods=["GET", "POST"])
@roles("office")
def edit(login: str):
    with web.uow() as u:
        account = u.store.account(login)
    if account is None:
        return web.page("error.html", 404, status=404, message=f"没有登录名为“{login}”的账号")
    errors, form = {}, request.form if request.method == "POST" else {
        k: getattr(account, k) or "" for k in FIELDS}
    if request.method == "POST":
        try:
            with web.uow() as u:
                handlers.update_account(u, web.account().actor, web.now(), login,
                                        **{k: form.get(k, "") for k in FIELDS if k != "login"})
            flash("账号已保存")
            return redirect(url_for("accounts.index"))
        except AccountError as exc:
            errors = exc.errors
    return web.page("accounts/form.html", 422 if errors else 200, errors=errors, form=form, created=None,
                    units=_units(), editing=account)


@bp.post("/<login>/disable")
@roles("office")
def disable(login: str):
    return _toggle(login, True)


@bp.post("/<login>/enable")
@roles("office")
def enable(login: str):
    return _toggle(login, False)


def _toggle(login: str, disabled: bool):
    try:
        with web.uow() as u:
            handlers.set_disabled(u, web.account().actor, web.now(), login, disabled)
        flash(f"账号 {login} 已{'停用' if disabled else '启用'}")
    except AccountError as exc:
        flash("；".join(m for ms in exc.errors.values() for m in ms))
    return redirect(url_for("accounts.index"))


@bp.post("/<login>/reset")
@roles("office")
def reset(login: str):
    try:
        with web.uow() as u:
            password = handlers.reset_password(u, auth.hasher(), web.account().actor, web.now(), login)
    except AccountError as exc:
        flash("；".join(m for ms in exc.errors.values() for m in ms))
        return redirect(url_for("accounts.index"))
    return web.page("accounts/form.html", errors={}, form={}, created={"login": login, "password": password,
                                                                      "reset": True}, units=[], editing=None)


@bp.get("/activity")
@roles("office", "auditor")
def activity():
    kind = request.args.get("kind") or None
    before = request.args.get("before", type=int)
    with web.uow() as u:
        rows = u.store.activity(kind=kind, before=before, limit=50)
    return web.page("accounts/activity.html", rows=rows, kind=kind)
