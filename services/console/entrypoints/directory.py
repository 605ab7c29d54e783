"""The office's directory (units, categories, time limits, calendar years) and its settings: the escalation
thresholds (notify's) and the yellow light's working days (the console's own office setting)."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from ..adapters import intake, notify
from ..adapters.services import ServiceError
from ..domain import lights, messages
from . import forms, web
from .web import FormErrors, roles

bp = Blueprint("directory", __name__, url_prefix="/directory")
MODES, PRIORITIES = tuple(messages.HANDLING_MODES), tuple(messages.PRIORITIES)
RUNGS = tuple(messages.ESCALATION_STEPS)


@bp.get("")
@roles("office")
def index(errors: dict[str, FormErrors] | None = None, status: int = 200):
    return web.page("directory/index.html", status, directory=intake.directory(web.services()), errors=errors or {},
                    form=request.form, modes=MODES, priorities=PRIORITIES, idem=str(uuid.uuid4()))


def _dates(text: str) -> list[str]:
    return [d.strip() for d in text.replace("，", ",").replace("\n", ",").split(",") if d.strip()]


def _body(what: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    f = request.form
    if what == "unit":
        return {"name": f.get("name", "").strip(), "kind": f.get("kind", ""),
                "supervising_channel": f.get("supervising_channel", "").strip(),
                "active": f.get("active", "on") == "on"}, {}
    if what == "category":
        return {"name": f.get("name", "").strip(), "group": f.get("group", "").strip()}, {}
    if what == "limits":
        limits = {m: {p: _int(f.get(f"limit-{m}-{p}")) for p in PRIORITIES} for m in MODES}
        return {"limits": limits, "sign_for_days": _int(f.get("sign_for_days")),
                "recheck_ratio": forms.finite(f.get("recheck_ratio")),
                "calendar_fallback": f.get("calendar_fallback") or None}, {}
    if what == "calendar":
        return {"holidays": _dates(f.get("holidays", "")), "workdays": _dates(f.get("workdays", ""))}, \
            {"year": _int(f.get("year"))}
    return None, {"name": f.get("name", "")}


def _int(raw: str | None) -> Any:
    try:
        return int(str(raw).strip())
    except ValueError:
        return raw


@bp.post("/<any(unit, category, remove_category, limits, calendar):what>")
@roles("office")
def change(what: str):
    body, extra = _body(what)
    try:
        intake.change_directory(web.services(), what, body, request.form.get("idem", ""), **extra)
    except ServiceError as exc:
        if exc.status not in (404, 409, 422):
            raise
        return index({what: FormErrors.of(exc)}, exc.status)
    flash("名录已更新")
    return redirect(url_for("directory.index"))


@bp.route("/settings", methods=["GET", "POST"])
@roles("office")
def settings():
    s, errors = web.services(), {}
    if request.method == "POST" and request.form.get("what") == "yellow_days":
        try:
            days = lights.check_yellow_days(request.form.get("yellow_days"))
            who = web.account()
            with web.uow() as u:
                before = u.store.setting("yellow_days")
                u.store.set_setting("yellow_days", days, who.actor, web.now())
                u.store.record(web.now(), who.actor, "setting", "yellow_days_set", "yellow_days",
                               before=before, after=days)
                u.commit()
            flash(f"黄灯提前工作日已设为{days}天")
            return redirect(url_for("directory.settings"))
        except ValueError as exc:
            errors["yellow"] = FormErrors(yellow_days=[str(exc)])
    elif request.method == "POST":
        config = {"deadline": {m: _rungs(f"deadline-{m}") for m in MODES}, "sign_for": _rungs("sign_for")}
        try:
            notify.set_escalation_config(s, config, key=request.form.get("idem", ""))
            flash("督办升级阈值已保存")
            return redirect(url_for("directory.settings"))
        except ServiceError as exc:
            if exc.status != 422:
                raise
            errors["ladder"] = FormErrors.of(exc)
    return web.page("directory/settings.html", 422 if errors else 200, config=notify.escalation_config(s),
                    errors=errors, modes=MODES, rungs=RUNGS, idem=str(uuid.uuid4()))


def _rungs(prefix: str) -> dict[str, Any]:
    return {r: (None if not request.form.get(f"{prefix}-{r}", "").strip() else _int(request.form.get(f"{prefix}-{r}")))
            for r in RUNGS}
