"""Campaigns (专项行动): the list with each campaign's phase today and its figures (the ledger's), a
campaign's page (phases with their dates, categories, figures in total and per lead unit, its tasks and
cases), and launching one with its dated phases (intake). The office launches; auditors read."""
from __future__ import annotations

import uuid

from flask import Blueprint, redirect, request, url_for

from ..adapters import intake, ledger
from . import forms, web
from .web import attempt, roles

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
READERS = ("office", "auditor")
PHASE_ROWS = 5
PHASE = ("name", "starts_on", "ends_on")
FIELDS = ("name", "lead_office", "starts_on", "ends_on", "description", "categories", "phases")


@bp.get("")
@roles(*READERS)
def index():
    found = ledger.listing(web.services(), "campaigns")
    return web.page("campaigns/index.html", today=found["today"], items=found["items"])


@bp.route("/new", methods=["GET", "POST"])
@roles("office")
def launch():
    s, errors = web.services(), None
    if request.method == "POST":
        phases = forms.rows(request.form, "phase", PHASE, PHASE_ROWS)
        body = forms.without_empty({**forms.text("name", "lead_office", "starts_on", "ends_on", "description"),
                                    "categories": forms.picked("categories"), "phases": [row for _, row in phases]},
                                   keep=("phases",))
        launched, errors = attempt(lambda: intake.create(s, "campaigns", body, request.form.get("idem", "")),
                                   "专项行动已发起", FIELDS, forms.row_errors("phases", "phase", phases))
        if launched:
            return redirect(url_for("campaigns.campaign", campaign_id=launched["campaign_id"]))
    return web.page("campaigns/new.html", 422 if errors else 200, directory=intake.directory(s), errors=errors,
                    form=request.form, rows=range(1, PHASE_ROWS + 1), idem=request.form.get("idem") or str(uuid.uuid4()))


@bp.get("/<campaign_id>")
@roles(*READERS)
def campaign(campaign_id: str):
    """The campaign as intake has it (its phase today), with the ledger's figures once it has projected it."""
    s, view = web.services(), web.projected("campaigns", campaign_id)
    return web.page("campaigns/campaign.html", item=view or web.written("campaigns", campaign_id), figures=view,
                    tasks=ledger.listing(s, "tasks", campaign=campaign_id, limit=200)["items"],
                    cases=ledger.cases(s, {"campaign": campaign_id}, limit=50))
