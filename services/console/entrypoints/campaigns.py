"""Campaigns (专项行动): the list with each campaign's phase today and its figures (the ledger's), a
campaign's page (phases with their dates, categories, figures in total and per lead unit, its tasks and
cases), and launching one with its dated phases (intake). The office launches; auditors read."""
from __future__ import annotations

import uuid

from flask import Blueprint, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from ..adapters import intake, ledger
from . import forms, web
from .web import attempt, roles

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
READERS = ("office", "auditor")
PHASE_ROWS = 5
PHASE = ("name", "starts_on", "ends_on")
FIELDS = ("name", "lead_office", "starts_on", "ends_on", "description", "categories", "phases", "reason")


@bp.get("")
@roles(*READERS)
def index():
    found = ledger.listing(web.services(), "campaigns")
    return web.page("campaigns/index.html", today=found["today"], items=found["items"])


def _plan(rows: int, *extra: str) -> tuple[dict, dict[str, str]]:
    """The plan the form holds (and `extra` text fields) as intake takes it, and where each phase's errors go."""
    phases = forms.rows(request.form, "phase", PHASE, rows)
    body = forms.without_empty({**forms.text("name", "lead_office", "starts_on", "ends_on", "description", *extra),
                                "categories": forms.picked("categories"), "phases": [row for _, row in phases]},
                               keep=("phases",))
    return body, forms.row_errors("phases", "phase", phases)


@bp.route("/new", methods=["GET", "POST"])
@roles("office")
def launch():
    s, errors = web.services(), None
    if request.method == "POST":
        body, where = _plan(PHASE_ROWS)
        launched, errors = attempt(lambda: intake.create(s, "campaigns", body, request.form.get("idem", "")),
                                   "专项行动已发起", FIELDS, where)
        if launched:
            return redirect(url_for("campaigns.campaign", campaign_id=launched["campaign_id"]))
    return web.page("campaigns/new.html", 422 if errors else 200, directory=intake.directory(s), errors=errors,
                    form=request.form, rows=range(1, PHASE_ROWS + 1), idem=request.form.get("idem") or str(uuid.uuid4()))


@bp.route("/<campaign_id>/revise", methods=["GET", "POST"])
@roles("office")
def revise(campaign_id: str):
    """Revise the plan (调整方案): the whole plan as it should stand and why; intake decides what may change
    (a finished phase keeps its dates, none is removed) and its refusals show next to the fields."""
    s, item, errors = web.services(), web.written("campaigns", campaign_id), None
    rows = max(PHASE_ROWS, len(item["phases"]) + 2)
    form = request.form
    if request.method == "POST":
        body, where = _plan(rows, "reason")
        version = forms.version(form)
        revised, errors = attempt(lambda: intake.step(s, "campaigns", campaign_id, "revise", body,
                                                      form.get("idem", ""), version),
                                  "方案已调整", FIELDS, where)
        if revised:
            return redirect(url_for("campaigns.campaign", campaign_id=campaign_id))
    else:
        form = MultiDict([*((k, item[k] or "") for k in ("name", "lead_office", "starts_on", "ends_on", "description")),
                          *(("categories", c) for c in item["categories"]),
                          *((f"phase-{n}-{k}", p[k]) for n, p in enumerate(item["phases"], 1) for k in PHASE)])
    return web.page("campaigns/revise.html", 422 if errors else 200, item=item, directory=intake.directory(s),
                    errors=errors, form=form, rows=range(1, rows + 1), version=form.get("version") or item["version"],
                    idem=request.form.get("idem") or str(uuid.uuid4()))


@bp.get("/<campaign_id>")
@roles(*READERS)
def campaign(campaign_id: str):
    """The campaign as intake has it (its phase today, its revisions), with the ledger's figures once it has
    projected it."""
    s, view, written = web.services(), web.projected("campaigns", campaign_id), web.written("campaigns", campaign_id)
    return web.page("campaigns/campaign.html", item=view or written, figures=view, revisions=written["revisions"],
                    tasks=ledger.listing(s, "tasks", campaign=campaign_id, limit=200)["items"],
                    cases=ledger.cases(s, {"campaign": campaign_id}, limit=50))
