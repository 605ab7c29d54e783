"""Key projects (重点项目, 全过程监测): the list, registering a project with its type's stages and their
approving units, a project's page (its stage timeline: each stage's unit, limit, dates, working days, whether
it is past its limit, its escalation and the case it became; and the stage commands intake says the person
may record now), project types with their stages and limits, and the per-unit approval-time figures."""
from __future__ import annotations

import uuid
from typing import Any, Iterable, Mapping

from flask import Blueprint, flash, redirect, request, url_for

from ..adapters import intake, ledger
from ..adapters.services import ServiceError
from ..domain import messages
from . import forms, web
from .web import FormErrors, Refused, attempt, roles

bp = Blueprint("projects", __name__)
READERS = ("office", "auditor")
STAGE_ROWS = 8
FIELDS = ("name", "owner", "project_type", "stage_units", "limits", "campaign_id", "handling_mode", "case_grace_days",
          "case_category", "note")
APPROVAL_FILTERS = ("from", "to", "unit", "stage")


@bp.get("/projects")
@roles(*READERS)
def index():
    s = web.services()
    query = {k: request.args.get(k, "").strip() for k in ("campaign", "unit") if request.args.get(k, "").strip()}
    return web.page("projects/index.html", items=ledger.listing(s, "projects", **query)["items"], query=query,
                    campaigns=web.campaign_names(), directory=intake.directory(s))


def _types(s) -> dict[str, list[dict[str, Any]]]:
    return {t["name"]: t["stages"] for t in intake.listing(s, "project-types")["items"]}


@bp.route("/projects/new", methods=["GET", "POST"])
@roles("office")
def register():
    s, errors, form = web.services(), None, request.form
    types = _types(s)
    chosen = form.get("project_type") or request.args.get("project_type", "")
    if request.method == "POST":
        stages = types.get(chosen, [])
        body = forms.without_empty({
            **forms.text("name", "owner", "project_type", "campaign_id", "handling_mode", "case_category", "note"),
            "case_grace_days": forms.number("case_grace_days"),
            "stage_units": {st["key"]: form[f"unit-{st['key']}"] for st in stages if form.get(f"unit-{st['key']}")},
            "limits": {st["key"]: forms.number(f"limit-{st['key']}") for st in stages
                       if forms.number(f"limit-{st['key']}") is not None}}, keep=("stage_units",))
        registered, errors = attempt(lambda: intake.create(s, "projects", body, form.get("idem", "")),
                                     "重点项目已登记", FIELDS)
        if registered:
            return redirect(url_for("projects.project", project_id=registered["project_id"]))
    return web.page("projects/new.html", 422 if errors else 200, types=types, chosen=chosen,
                    stages=types.get(chosen, []), directory=intake.directory(s), campaigns=web.campaign_names(),
                    errors=errors, form=form, idem=form.get("idem") or str(uuid.uuid4()))


def stage_rows(written: Iterable[Mapping[str, Any]], projected: Iterable[Mapping[str, Any]] | None) -> list[dict]:
    """Each stage as intake has it now (state, dates, what the person may record of it) with what the ledger
    adds (past its limit today, working days past, escalation ladders) once it has projected the stage."""
    by_key = {s["stage"]: s for s in projected or ()}
    return [{**by_key.get(s["key"], {}), **s} for s in written]


def _load(project_id: str) -> dict[str, Any]:
    written, view = web.written("projects", project_id), web.projected("projects", project_id)
    return {"written": written, "view": view, "stages": stage_rows(written["stages"], view and view["stages"])}


def render(project_id: str, errors: dict[str, FormErrors] | None = None, status: int = 200, back: str | None = None):
    """The project's page; a refused stage form comes back here with its error, its forms still returning to
    `back`, the page it was sent from (the unit's 审批事项, say)."""
    data = _load(project_id)
    campaign = data["written"].get("campaign_id")
    return web.page("projects/project.html", status, project_id=project_id, **data, errors=errors or {}, back=back,
                    campaign_name=web.campaign_names().get(campaign, campaign) if campaign else None,
                    idem=str(uuid.uuid4()))


@bp.get("/projects/<project_id>")
@roles("office", "auditor", "unit")
def project(project_id: str):
    return render(project_id)


@bp.post("/projects/<project_id>/do/<command>")
@roles("office", "unit")
def do(project_id: str, command: str):
    """Enter or complete one stage (on a day, default today); back to the page the form was on."""
    if command not in messages.STAGE_COMMANDS:
        raise Refused()
    stage = request.form.get("stage", "")
    try:
        intake.step(web.services(), "projects", project_id, command,
                    forms.without_empty({"stage": stage, **forms.text("on")}, keep=("stage",)),
                    request.form.get("idem") or str(uuid.uuid4()), version=forms.version(request.form))
    except ServiceError as exc:
        if exc.status not in (403, 409, 422):
            raise
        return render(project_id, {f"{command}:{stage}": FormErrors.of(exc, ("on",))}, exc.status,
                      web.local_path(request.form.get("back"), url_for("projects.project", project_id=project_id)))
    flash(f"已{messages.STAGE_COMMANDS[command]}")
    return redirect(web.local_path(request.form.get("back"), url_for("projects.project", project_id=project_id)))


@bp.get("/project-types")
@roles(*READERS)
def types(errors: FormErrors | None = None):
    return web.page("projects/types.html", 422 if errors else 200, types=_types(web.services()), errors=errors,
                    form=request.form, rows=range(1, STAGE_ROWS + 1), idem=request.form.get("idem") or str(uuid.uuid4()))


@bp.post("/project-types")
@roles("office")
def set_type():
    form = request.form
    name = form.get("name", "").strip()
    if not name:          # the type's name is the resource's path: nothing to send without it
        return types(FormErrors(name=["此项必填"]))
    stages = forms.rows(form, "stage", ("key", "name", "limit_days"), STAGE_ROWS)
    body = [{**row, "limit_days": forms.number(f"stage-{n}-limit_days")} for n, row in stages]
    _, errors = attempt(lambda: intake.set_project_type(web.services(), name, body, form.get("idem", "")),
                        f"项目类型“{name}”的阶段和时限已保存", ("name", "stages"),
                        forms.row_errors("stages", "stage", stages))
    return types(errors) if errors else redirect(url_for("projects.types"))


@bp.get("/approval-times")
@roles("office", "auditor", "unit")
def approval_times():
    s = web.services()
    query = {k: request.args.get(k, "").strip() for k in APPROVAL_FILTERS if request.args.get(k, "").strip()}
    errors, found = None, {"items": [], "today": None}
    try:
        found = ledger.listing(s, "units/approval-times", **query)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        errors = FormErrors.of(exc, APPROVAL_FILTERS)
    return web.page("projects/approval_times.html", 422 if errors else 200, found=found, query=query, errors=errors,
                    directory=intake.directory(s) if web.account().role != "unit" else None)
