"""Look-backs (回头看, 防止反弹): the list with how many were drawn, held and rebounded (the ledger's), the
draw form (ratio and filters; intake draws reproducibly and records every input), and a look-back's page:
the drawn items, each with its finding form (held 巩固 / rebounded 反弹) until it has one, and a rebound's
new case linked. The office draws and records; auditors read."""
from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, request, url_for

from ..adapters import intake, ledger
from ..adapters.services import ServiceError
from . import forms, web
from .web import FormErrors, attempt, roles

bp = Blueprint("lookbacks", __name__, url_prefix="/lookbacks")
READERS = ("office", "auditor")
DRAW_FIELDS = ("title", "ratio", "campaign_id", "unit", "category", "closed_from", "closed_to", "kinds")
FINDING_FIELDS = ("outcome", "note", "category")


@bp.get("")
@roles(*READERS)
def index(errors: FormErrors | None = None):
    s, form = web.services(), request.form
    chosen = form.get("campaign_id", request.args.get("campaign_id", ""))
    return web.page("lookbacks/index.html", 422 if errors else 200, items=ledger.listing(s, "lookbacks")["items"],
                    campaigns=web.campaign_names(also=chosen), directory=intake.directory(s), errors=errors, form=form,
                    chosen=chosen,
                    idem=form.get("idem") or str(uuid.uuid4()))


@bp.post("")
@roles("office")
def draw():
    body = forms.without_empty({
        **forms.text("title", "campaign_id", "unit", "category", "closed_from", "closed_to"),
        "ratio": forms.share("ratio"), "kinds": forms.picked("kinds")}, keep=("kinds",))
    drawn, errors = attempt(lambda: intake.create(web.services(), "lookbacks", body, request.form.get("idem", "")),
                            "已抽取，请逐项登记回头看结果", DRAW_FIELDS)
    return index(errors) if errors else redirect(url_for("lookbacks.lookback", lookback_id=drawn["lookback_id"]))


def render(lookback_id: str, errors: dict[str, FormErrors] | None = None, form=None, status: int = 200):
    s = web.services()
    item = intake.one(s, "lookbacks", lookback_id)
    drawn = [c for c in item["candidates"] if c["id"] in item["selected"]]
    return web.page("lookbacks/lookback.html", status, item=item, drawn=drawn,
                    findings={f["id"]: f for f in item["findings"]}, campaigns=web.campaign_names(),
                    directory=intake.directory(s) if "record_finding" in item["allowed_commands"] else None,
                    errors=errors or {}, form=form or {}, idem=str(uuid.uuid4()))


@bp.get("/<lookback_id>")
@roles(*READERS)
def lookback(lookback_id: str):
    return render(lookback_id)


@bp.post("/<lookback_id>/findings")
@roles("office")
def finding(lookback_id: str):
    item_id = request.form.get("id", "")
    body = forms.without_empty({"id": item_id, **forms.text("outcome", "note", "category")}, keep=("id",))
    try:
        intake.step(web.services(), "lookbacks", lookback_id, "findings", body, request.form.get("idem", ""),
                    version=forms.version(request.form))
    except ServiceError as exc:
        if exc.status not in (409, 422):
            raise
        return render(lookback_id, {item_id: FormErrors.of(exc, FINDING_FIELDS)}, request.form, exc.status)
    flash({"held": "已登记：巩固", "rebounded": "已登记：反弹，并已新建案件"}.get(body.get("outcome"), "已登记"))
    return redirect(url_for("lookbacks.lookback", lookback_id=lookback_id))
