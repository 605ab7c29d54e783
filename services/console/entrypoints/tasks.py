"""Tasks (任务分解): the list with the ledger's filters, issuing a task with the five haves (五有; intake
refuses one without them, naming what is missing, and the form shows it next to the fields), a task's page
(the five haves, milestones, progress, its timeline and escalation, and as forms only the commands intake
says the person may give now), evidence files, and importing a task table (dry run as a table, then import).
The office issues, signs off, sends back and cancels; the task's units report; auditors read."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from ..adapters import intake, ledger
from ..adapters.services import ServiceError
from ..domain import messages
from . import commands, evidence, forms, web
from .reports import run_import
from .web import FormErrors, Refused, attempt, roles

bp = Blueprint("tasks", __name__)
READERS = ("office", "auditor")
FILTERS = ("campaign", "unit", "lead_unit", "status", "phase", "overdue")
MILESTONE_ROWS = 5
FIELDS = ("title", "target", "lead_unit", "cooperating_units", "responsible_leader", "measures", "monitor", "deadline",
          "milestones", "campaign_id", "phase", "number", "handling_mode")


@bp.get("/tasks")
@roles(*READERS)
def index():
    s = web.services()
    query = {k: request.args.get(k, "").strip() for k in FILTERS if request.args.get(k, "").strip()}
    errors, page = None, {"items": [], "next_offset": None}
    try:
        page = ledger.listing(s, "tasks", **query, offset=request.args.get("offset") or None, limit=50)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        errors = FormErrors.of(exc, FILTERS)
    partial = web.wants_partial()
    return web.page("tasks/_table.html" if partial else "tasks/index.html", 422 if errors else 200, page=page,
                    query=query, errors=errors, campaigns=web.campaign_names(),
                    directory=None if partial else intake.directory(s))


@bp.route("/tasks/new", methods=["GET", "POST"])
@roles("office")
def issue():
    s, errors, form = web.services(), None, request.form
    if request.method == "POST":
        milestones = forms.rows(form, "milestone", ("name", "due"), MILESTONE_ROWS)
        body = forms.without_empty({
            **forms.text("title", "target", "lead_unit", "responsible_leader", "measures", "monitor", "deadline",
                         "campaign_id", "number", "handling_mode"),
            "phase": forms.number("phase"), "cooperating_units": forms.picked("cooperating_units"),
            "milestones": [row for _, row in milestones]})
        issued, errors = attempt(lambda: intake.create(s, "tasks", body, form.get("idem", "")), "任务已下达", FIELDS,
                                 forms.row_errors("milestones", "milestone", milestones))
        if issued:
            return redirect(url_for("tasks.task", task_id=issued["task_id"]))
    chosen = form.get("campaign_id", request.args.get("campaign_id", ""))
    return web.page("tasks/new.html", 422 if errors else 200, directory=intake.directory(s), errors=errors,
                    form=form, chosen=chosen, campaigns=web.campaign_names(also=chosen), rows=range(1, MILESTONE_ROWS + 1),
                    idem=form.get("idem") or str(uuid.uuid4()))


def _load(task_id: str) -> dict[str, Any]:
    """The task as intake (with what the person may do now) and the ledger (overdue, ladders, timeline) see it."""
    return {"written": web.written("tasks", task_id), "view": web.projected("tasks", task_id)}


def render(task_id: str, *, errors: dict[str, FormErrors] | None = None, form: Any = None, status: int = 200):
    data, who = _load(task_id), web.account()
    allowed = data["written"]["allowed_commands"]
    own = [c for c in allowed if who.role != "office" or c not in commands.TASK_UNIT_COMMANDS]
    on_behalf = [c for c in allowed if who.role == "office" and c in commands.TASK_UNIT_COMMANDS]
    failed = next(iter(errors), None) if errors else None
    milestones = [(str(m["number"]), f"{m['name']}（{m['due']}）") for m in data["written"]["milestones"]
                  if not m["reached"]]
    campaign = data["written"].get("campaign_id")
    return web.page("tasks/task.html", status, task_id=task_id, **data, own=own, on_behalf=on_behalf,
                    forms=commands.TASK_FORMS, errors=errors or {}, failed=failed,
                    values=commands.values(failed, form, commands.TASK_FORMS) if failed else {},
                    choices={"milestone": milestones}, idem=str(uuid.uuid4()),
                    campaign_name=web.campaign_names().get(campaign, campaign) if campaign else None)


@bp.get("/tasks/<task_id>")
@roles("office", "auditor", "unit")
def task(task_id: str):
    return render(task_id)


@bp.post("/tasks/<task_id>/do/<command>")
@roles("office", "unit")
def do(task_id: str, command: str):
    if command not in commands.TASK_FORMS:
        raise Refused()
    try:
        proofs = evidence.uploaded("tasks", task_id, "evidence", ("name", "url", "sha256"))
        body = commands.body(command, request.form, proofs, commands.TASK_FORMS)
        intake.step(web.services(), "tasks", task_id, command, body, request.form.get("idem") or str(uuid.uuid4()),
                    version=forms.version(request.form))
    except ServiceError as exc:
        if exc.status not in (403, 409, 413, 415, 422):
            raise
        names = [f.name for f in commands.TASK_FORMS[command]]
        return render(task_id, errors={command: FormErrors.of(exc, names)}, form=request.form, status=exc.status)
    flash(f"已{messages.TASK_COMMANDS[command]}")
    return redirect(web.local_path(request.form.get("back"), url_for("tasks.task", task_id=task_id)))


@bp.get("/tasks/<task_id>/files/<file_id>")
@roles("office", "auditor", "unit")
def file(task_id: str, file_id: str):
    return evidence.download("tasks", task_id, file_id)


@bp.route("/task-imports", methods=["GET", "POST"])
@roles("office")
def imports():
    s = web.services()
    chosen = request.form.get("campaign_id", request.args.get("campaign_id", ""))
    report, errors = run_import("task-imports", "任务清单", campaign_id=chosen) if request.method == "POST" \
        else (None, None)
    return web.page("tasks/imports.html", 422 if errors else 200, report=report, errors=errors, chosen=chosen,
                    campaigns=web.campaign_names(also=chosen), idem=str(uuid.uuid4()))
