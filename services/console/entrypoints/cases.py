"""Cases: the office's dashboard, the ledger list (filters, paging, exports, bulk assignment), receiving a
lead, and the case page with the commands the person may issue now."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, url_for

from zfcommon.workdays import local_date

from ..adapters import intake, ledger
from ..adapters.services import ServiceError
from ..domain import messages
from . import casepage, evidence, web
from .web import FormErrors, roles

bp = Blueprint("cases", __name__)
READERS = ("office", "auditor")
RECEIVE_FIELDS = ("channel", "category", "description", "subject_unit", "priority", "address", "name", "phone",
                  "confidential")


@bp.get("/dashboard")
@roles("office")
def dashboard():
    s, days = web.services(), web.yellow_days()
    summary = ledger.summary(s, days)
    lists = {
        "red": ledger.cases(s, {"overdue": "true"}, limit=10)["items"],
        "yellow": ledger.cases(s, {"due_within": days}, limit=10)["items"],
        "new": ledger.cases(s, {"status": "received"}, limit=10)["items"],
        "verify": ledger.cases(s, {"status": "rectification_reported,dismissal_reported"}, limit=10)["items"],
    }
    return web.page("cases/dashboard.html", summary=summary, lists=lists, units=ledger.unit_stats(s),
                    calendar_gap=_calendar_gap(s))


def _calendar_gap(s) -> dict[str, Any] | None:
    """Whether an assignment made today with the longest time limit would get no deadline because the
    office calendar lacks a year (the coming year's holidays not entered, no fallback chosen): the
    dashboard says so before anyone assigns. Asks intake's own preview, so the answer is the one an
    assignment would get. A courtesy: if intake cannot answer, the dashboard shows without it."""
    longest = None
    try:
        limits = intake.directory(s).get("limits") or {}
        longest = max(((days, mode, priority) for mode, by in limits.items() for priority, days in by.items()),
                      default=None)
        if longest is not None:
            intake.deadline_preview(s, longest[1], longest[2])
    except ServiceError as exc:
        if longest is not None and exc.status == 422 and exc.body.get("code") == "calendar.year_missing":
            days, mode, priority = longest
            return {"years": exc.body.get("missing_years") or [], "days": days,
                    "mode": messages.HANDLING_MODES.get(mode, mode), "priority": messages.PRIORITIES.get(priority, priority)}
    return None


def _query() -> dict[str, Any]:
    return {k: request.args.get(k, "").strip() for k in ledger.FILTERS if request.args.get(k, "").strip()}


@bp.get("/cases")
@roles(*READERS)
def ledger_list():
    s, query = web.services(), _query()
    errors: FormErrors | None = None
    try:
        page = ledger.cases(s, query, cursor=request.args.get("cursor") or None, limit=50)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        errors, page = FormErrors.of(exc, ledger.FILTERS), {"items": [], "next_cursor": None}
    named = page.get("number_matches") or []
    if len(named) == 1 and set(query) == {"q"} and not web.wants_partial():
        return redirect(url_for("cases.case", case_id=named[0]["case_id"]))   # a number that names one case
    template = "cases/_table.html" if web.wants_partial() else "cases/list.html"
    return web.page(template, 422 if errors else 200, page=page, query=query, errors=errors,
                    directory=intake.directory(s) if not web.wants_partial() else None,
                    campaigns=web.campaign_names() if not web.wants_partial() else None,
                    idem=str(uuid.uuid4()))


@bp.get("/cases/export.<any(csv, xlsx):fmt>")
@roles(*READERS)
def export(fmt: str):
    """The ledger's own export of the current filter, passed through as it streams."""
    return web.passthrough(ledger.export(web.services(), _query(), fmt))


@bp.post("/cases/bulk-assign")
@roles("office")
def bulk_assign():
    """Assign every ticked case to one lead unit in one handling mode; each case is its own command, so
    one refusal (a case assigned meanwhile) does not stop the others, and each result is reported."""
    s = web.services()
    chosen = request.form.getlist("case_id")
    body = {"lead_unit": request.form.get("lead_unit", ""), "handling_mode": request.form.get("handling_mode", "")}
    if not chosen or not all(body.values()):
        flash("批量交办：请勾选案件，并选择牵头单位和处置方式")
        return redirect(web.local_path(request.form.get("back"), url_for("cases.ledger_list")))
    done, refused = 0, []
    for case_id in chosen:
        try:
            intake.command(s, case_id, "assign", body, version=None, key=f"{request.form.get('idem')}:{case_id}")
            done += 1
        except ServiceError as exc:
            refused.append(f"{case_id[:8]}：{messages.problem_text(exc.status, exc.body)}")
    flash(f"批量交办：{done} 件已交办给{body['lead_unit']}" + (f"，{len(refused)} 件未交办" if refused else ""))
    for line in refused:
        flash(line)
    return redirect(web.local_path(request.form.get("back"), url_for("cases.ledger_list")))


@bp.route("/cases/new", methods=["GET", "POST"])
@roles("office")
def receive():
    s = web.services()
    errors, form = None, request.form
    if request.method == "POST":
        complainant = {k: form.get(k, "").strip() for k in ("name", "phone") if form.get(k, "").strip()}
        body = {k: form.get(k, "").strip() for k in ("channel", "category", "description", "subject_unit", "priority")}
        if form.get("address", "").strip():
            body["location"] = {"address": form["address"].strip()}
        if complainant:
            body["complainant"] = {**complainant, "confidential": form.get("confidential") == "on"}
        try:
            created = intake.receive(s, {k: v for k, v in body.items() if v not in ("", None)}, key=form.get("idem", ""))
            flash(f"线索已受理登记：案件编号 {created['case_number']}" + (
                f"，查询码 {created['tracking_code']}（请告知反映人：凭案件编号可在公开网站查询办理进度，"
                "凭查询码查看办理结果）" if created.get("tracking_code") else ""))
            return redirect(url_for("cases.case", case_id=created["case_id"]))
        except ServiceError as exc:
            if exc.status not in (409, 422):
                raise
            errors = FormErrors.of(exc, RECEIVE_FIELDS)
            for nested in ("complainant", "location"):
                if nested in exc.errors:
                    errors.setdefault("name" if nested == "complainant" else "address", []).append(
                        messages.field_message(exc.errors[nested]))
    return web.page("cases/receive.html", 422 if errors else 200, directory=intake.directory(s), errors=errors,
                    form=form, idem=form.get("idem") or str(uuid.uuid4()))


@bp.get("/cases/<case_id>")
@roles("office", "auditor", "unit")
def case(case_id: str):
    return casepage.render(case_id)


@bp.post("/cases/<case_id>/do/<command>")
@roles("office", "unit")
def do(case_id: str, command: str):
    return casepage.run_command(case_id, command)


@bp.post("/cases/<case_id>/reveal")
@roles("office")
def reveal(case_id: str):
    return casepage.reveal(case_id)


@bp.get("/cases/<case_id>/receipt")
@roles("office")
def receipt(case_id: str):
    """受理回执: the receipt printed for a complainant at the counter (a visit, a letter answered on paper):
    the case number and its 查询码, when it was received, and where to track it. Nothing of what was
    reported, nor who reported it: a receipt that is lost gives nobody more than the tracking itself."""
    s = web.services()
    written = intake.case(s, case_id)
    try:
        received_at = ledger.case(s, case_id)["received_at"]
    except ServiceError as exc:
        if exc.status != 404:
            raise
        received_at = None         # received a moment ago: the ledger has not projected it yet
    settings = current_app.extensions["zf_settings"]
    return web.page("cases/receipt.html", case=written, received_at=received_at,
                    tracking_code=written.get("tracking_code"), office=settings.office_name or settings.notice_office,
                    track_url=f"{settings.public_url}/public/track" if settings.public_url else None,
                    signed_on="{0.year}年{0.month}月{0.day}日".format(local_date(web.now())))


@bp.get("/cases/<case_id>/files/<file_id>")
@roles("office", "auditor", "unit")
def file(case_id: str, file_id: str):
    return evidence.download("cases", case_id, file_id)


@bp.get("/cases/<case_id>/as-of")
@roles(*READERS)
def as_of(case_id: str):
    return casepage.as_of_page(ledger.as_of, "cases/as_of.html", case_id)


@bp.get("/deadline-preview")
@roles("office")
def deadline_preview():
    """The deadline an assignment today would get (a fragment the assign form loads as the mode changes)."""
    mode, priority = request.args.get("handling_mode", ""), request.args.get("priority", "normal")
    preview, error = None, None
    if mode:
        try:
            preview = intake.deadline_preview(web.services(), mode, priority)
        except ServiceError as exc:
            if exc.status != 422:
                raise
            error = "；".join(messages.field_message(m) for ms in exc.errors.values() for m in ms) \
                or messages.problem_text(exc.status, exc.body)
    return web.page("cases/_preview.html", preview=preview, error=error, mode=mode)
