"""The office's other work: ledger imports (dry-run report as a table), inspections and monitoring points,
weekly reports and spot checks, quarterly work reports, SMS ratings of enforcement, monthly bulletins (draft → review → publish,
preview, PDF) and exposures (select → redact with preview → approve → publish)."""
from __future__ import annotations

import uuid
from typing import Any, Callable

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for

from zfcommon import periods
from zfcommon.events.catalogue import SMS_GROUP
from zfcommon.workdays import local_date

from ..adapters import intake, notify
from ..adapters.services import ServiceError
from . import forms, web
from .web import FormErrors, roles

bp = Blueprint("reports", __name__)
LETTER_KINDS = ("escalation_supervision_letter", "weekly_escalated")     # the notices a 督办函 goes out as


# Refusals these pages explain better than a status can: the four-eyes rules of bulletins and exposures.
FOUR_EYES = {("review", 403): "起草人不能审核自己起草的通报，请由另一位同志审核",
             ("approve", 403): "脱敏人不能审核自己脱敏的文本，请由另一位同志审核"}


def _attempt(action: Callable[[], Any], done: str, step: str = "") -> tuple[Any, FormErrors | None]:
    return web.attempt(action, done, explain=lambda exc: FOUR_EYES.get((step, exc.status)))


def _key() -> str:
    return request.form.get("idem") or str(uuid.uuid4())


# --- ledger imports ------------------------------------------------------------------------------------

@bp.route("/imports", methods=["GET", "POST"])
@roles("office")
def imports():
    report, errors = run_import("imports", "台账文件") if request.method == "POST" else (None, None)
    return web.page("reports/imports.html", 422 if errors else 200, report=report, errors=errors,
                    idem=str(uuid.uuid4()))


def run_import(what: str, table: str, **params: str) -> tuple[dict[str, Any] | None, FormErrors | None]:
    """The posted table (a ledger: imports; a task table: task-imports) dry-run or imported by intake: its
    per-row report, or the refusal in Chinese — a header row that is not the layout names the columns."""
    part = request.files.get("file")
    if part is None or not part.filename:
        return None, FormErrors(file=[f"请选择要导入的{table}（Excel或CSV）"])
    dry_run = request.form.get("mode") != "import"
    try:
        report = intake.import_table(web.services(), what, part.filename, part.read(),
                                     part.mimetype or "application/octet-stream", dry_run=dry_run, key=_key(), **params)
        flash("预检完成：以下为逐行检查结果，确认无误后选择“正式导入”" if dry_run else "导入完成")
        return report, None
    except ServiceError as exc:
        if exc.status not in (409, 413, 415, 422):
            raise
        errors = FormErrors.of(exc)
        if exc.body.get("missing") or exc.body.get("unknown"):   # the header row is not the table's layout
            errors["general"][0] = "表头不符合格式" + "".join(
                f"；{label}：{'、'.join(exc.body[key])}" for key, label in
                (("missing", "缺少列"), ("unknown", "无法识别的列"), ("duplicated", "重复的列")) if exc.body.get(key))
            errors["general"][1:] = [f"应有的列：{'、'.join(exc.body.get('columns') or [])}"]
        return (exc.body if exc.body.get("rows") else None), errors    # refused rows: the report still says which


# --- inspections and monitoring points -----------------------------------------------------------------

@bp.route("/inspections", methods=["GET", "POST"])
@roles("office")
def inspections():
    s, errors = web.services(), None
    if request.method == "POST":
        team = [{"name": n} for n in forms.lines("team")]
        body = forms.without_empty({**forms.text("title", "mode", "starts_on", "ends_on", "note"),
                                    "target_units": forms.picked("target_units"), "team": team,
                                    "focus": forms.picked("focus")}, keep=("target_units", "team"))
        created, errors = _attempt(lambda: intake.create(s, "inspections", body, _key()), "明察暗访已计划")
        if created:
            return redirect(url_for("reports.inspection", inspection_id=created["inspection_id"]))
    return web.page("reports/inspections.html", 422 if errors else 200, items=intake.listing(s, "inspections")["items"],
                    directory=intake.directory(s), errors=errors, form=request.form, idem=str(uuid.uuid4()))


@bp.route("/inspections/<inspection_id>", methods=["GET", "POST"])
@roles("office")
def inspection(inspection_id: str):
    s, errors = web.services(), None
    if request.method == "POST":
        action = request.form.get("action", "")
        body = {"findings": forms.without_empty(forms.text("unit", "category", "description", "priority", "observed_on")),
                "complete": forms.text("summary"), "cancel": forms.text("reason")}.get(action)
        if body is not None:
            _, errors = _attempt(lambda: intake.step(s, "inspections", inspection_id, action, body, _key()),
                                 "已保存")
            if not errors:
                return redirect(url_for("reports.inspection", inspection_id=inspection_id))
    return web.page("reports/inspection.html", 422 if errors else 200, item=intake.one(s, "inspections", inspection_id),
                    directory=intake.directory(s), errors=errors, idem=str(uuid.uuid4()))


@bp.route("/points", methods=["GET", "POST"])
@roles("office")
def points():
    s, errors = web.services(), None
    if request.method == "POST":
        if request.form.get("action") == "deactivate":
            _, errors = _attempt(lambda: intake.step(s, "monitoring-points", request.form.get("point_id", ""),
                                                     "deactivate", forms.text("reason"), _key()), "监测点已停用")
        else:
            body = forms.without_empty({**forms.text("name", "kind", "organisation", "note"),
                                        "watched_units": forms.picked("watched_units")})
            if request.form.get("address", "").strip():
                body["location"] = {"address": request.form["address"].strip()}
            _, errors = _attempt(lambda: intake.create(s, "monitoring-points", body, _key()), "监测点已设立")
        if not errors:
            return redirect(url_for("reports.points"))
    return web.page("reports/points.html", 422 if errors else 200, items=intake.listing(s, "monitoring-points")["items"],
                    directory=intake.directory(s), errors=errors, form=request.form, idem=str(uuid.uuid4()))


# --- weekly reports and spot checks --------------------------------------------------------------------

@bp.route("/weekly", methods=["GET", "POST"])
@roles("office")
def weekly():
    s, errors = web.services(), None
    if request.method == "POST":
        if request.form.get("action") == "draw":
            _, errors = _attempt(lambda: notify.draw_spot_check(s, request.form.get("month", ""), _key()),
                                 "已抽取本月抽查单位")
        else:
            body = forms.text("unit", "finding", "note")
            _, errors = _attempt(lambda: notify.record_spot_check(s, request.form.get("month", ""), body, _key()),
                                 "抽查结果已登记")
        if not errors:
            return redirect(url_for("reports.weekly", week=request.args.get("week")))
    week = request.args.get("week") or None
    try:
        overview = notify.week_overview(s, week)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        overview, errors = None, FormErrors.of(exc)
    return web.page("reports/weekly.html", 422 if errors else 200, overview=overview, checks=notify.spot_checks(s),
                    errors=errors, week=week or (overview or {}).get("week"), idem=str(uuid.uuid4()))


# --- quarterly work reports ----------------------------------------------------------------------------

@bp.get("/quarterly")
@roles("office", "auditor")
def quarterly():
    """季度工作情况报送: one quarter unit by unit (filed, late, missing, not yet due), each filed report
    readable in full; the last quarter that ended unless another is asked for."""
    quarter = request.args.get("quarter") or None
    try:
        overview, errors = notify.quarter_overview(web.services(), quarter), None
    except ServiceError as exc:
        if exc.status != 422:
            raise
        overview, errors = None, FormErrors.of(exc, ("quarter",))
    return web.page("reports/quarterly.html", 422 if errors else 200, overview=overview, errors=errors,
                    quarter=quarter or (overview or {}).get("quarter"))


@bp.get("/quarterly/export.<any(csv, xlsx):fmt>")
@roles("office", "auditor")
def quarterly_export(fmt: str):
    """The quarter unit by unit with each report in full (季度工作情况汇总), to compile and forward."""
    return web.passthrough(notify.quarterly_export(web.services(), fmt, request.args.get("quarter") or None))


@bp.get("/quarterly/<unit>/<quarter>")
@roles("office", "auditor")
def quarterly_report(unit: str, quarter: str):
    try:
        report = notify.quarterly_report(web.services(), unit, quarter)
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        raise
    return web.page("reports/quarterly_report.html", report=report)


# --- SMS ratings of enforcement and supervision (短信评议) ------------------------------------------------

def _periods() -> list[tuple[str, str]]:
    """This quarter and the three before, and this year and the last, newest first."""
    today = local_date(web.now())
    quarters = periods.quarters_back(today, 4)
    return [*((q, periods.quarter_label(q)) for q in quarters),
            *((str(y), f"{y}年") for y in (today.year, today.year - 1))]


@bp.get("/enforcement")
@roles("office", "auditor")
def enforcement():
    """执法监督短信评议: a period's ratings unit by unit (and officer by officer), the numbers a unit recorded
    again and again, and the period's actions; this quarter unless another period is asked for."""
    s, choices = web.services(), _periods()
    period = request.args.get("period") or choices[0][0]
    try:
        found, errors = notify.enforcement_ratings(s, period), None
        actions = notify.enforcement_actions(s, period=period, unit=request.args.get("unit") or None,
                                             limit=100)["items"]
    except ServiceError as exc:
        if exc.status != 422:
            raise
        found, actions, errors = None, [], FormErrors.of(exc, ("period",))
    if period not in dict(choices):
        choices.append((period, period))
    public = current_app.extensions["zf_settings"].public_url
    return web.page("reports/enforcement.html", 422 if errors else 200, found=found, actions=actions, errors=errors,
                    period=period, choices=choices, unit=request.args.get("unit") or "", rosters=notify.rosters(s),
                    staff_url=f"{public}/public/enforcement-staff" if public else None)


@bp.get("/enforcement/export.<any(csv, xlsx):fmt>")
@roles("office", "auditor")
def enforcement_export(fmt: str):
    return web.passthrough(notify.enforcement_export(web.services(), fmt, request.args.get("period") or None))


# --- the register of supervision letters ---------------------------------------------------------------

@bp.get("/letters")
@roles("office", "auditor", "unit")
def letters():
    """督办函登记: the year's supervision letters by number, each with what it was about and its unit; a unit
    officer's, the letters their unit got (notify scopes it)."""
    query = _letter_query("offset")
    try:
        page, errors = notify.letters(web.services(), **query), None
    except ServiceError as exc:
        if exc.status != 422:
            raise
        page, errors = None, FormErrors.of(exc)
    return web.page("reports/letters.html", 422 if errors else 200, page=page, errors=errors, query=query)


@bp.get("/letters/export.<any(csv, xlsx):fmt>")
@roles("office", "auditor", "unit")
def letters_export(fmt: str):
    """The register of the year asked, as notify's spreadsheet, to file or print."""
    return web.passthrough(notify.letters_export(web.services(), fmt, **_letter_query()))


def _letter_query(*more: str) -> dict[str, str]:
    return {k: request.args[k].strip() for k in ("year", "unit", *more) if request.args.get(k, "").strip()}


@bp.get("/letters/<int:notice_id>")
@roles("office", "auditor", "unit")
def letter(notice_id: int):
    """One supervision letter as the unit got it, laid out to print (to stamp and file, or send on paper)."""
    notice = notify.notice(web.services(), notice_id)
    if notice["kind"] not in LETTER_KINDS or not notice.get("text"):
        abort(404)
    return web.page("reports/letter.html", notice=notice, paper=paper(notice["text"]["body"]))


def paper(body: str) -> dict[str, Any]:
    """A letter's text in a 公文's parts: its title and number (centred on paper), the text, and the
    issuer's name and date it ends with (set to the right)."""
    lines = body.rstrip("\n").split("\n")
    head = lines[:2] if len(lines) > 4 and lines[0].replace(" ", "") == "督办函" else []
    rest = lines[len(head):]
    return {"title": head[0].replace(" ", "") if head else None, "number": head[1] if head else None,
            "text": "\n".join(rest[:-2]).strip("\n"), "signed": rest[-2:]}


# --- monthly bulletins ---------------------------------------------------------------------------------

@bp.route("/bulletins", methods=["GET", "POST"])
@roles("office")
def bulletins():
    s, errors = web.services(), None
    if request.method == "POST":
        body = forms.without_empty({**forms.text("month", "note"),
                                    "typical_cases": [{"case_id": c} for c in forms.lines("typical_cases")]})
        drafted, errors = _attempt(lambda: notify.bulletin_step(s, None, "draft", body, _key()), "月通报已起草")
        if drafted:
            return redirect(url_for("reports.bulletin", month=drafted["id"]))
    return web.page("reports/bulletins.html", 422 if errors else 200, items=notify.bulletins(s), errors=errors,
                    form=request.form, idem=str(uuid.uuid4()))


def _stepped(bodies: dict[str, Callable[[], dict]], done: dict[str, str], run: Callable[[str, dict], Any],
             load: Callable[[], dict], template: str):
    """A publication's page: the step its form names (its body from the form), then the page again."""
    errors = None
    if request.method == "POST" and (step := request.form.get("step", "")) in bodies:
        body = bodies[step]()
        _, errors = _attempt(lambda: run(step, body), done[step], step)
        if not errors:
            return redirect(request.path)
    return web.page(template, 422 if errors else 200, item=load(), errors=errors, idem=str(uuid.uuid4()))


@bp.route("/bulletins/<month>", methods=["GET", "POST"])
@roles("office")
def bulletin(month: str):
    s = web.services()
    return _stepped({"redraft": lambda: forms.without_empty(forms.text("note")),
                     "review": lambda: forms.text("decision", "comments"), "publish": dict},
                    {"redraft": "已重新取数起草", "review": "审核意见已保存", "publish": "月通报已发布"},
                    lambda step, body: notify.bulletin_step(s, month, step, body, _key()),
                    lambda: notify.bulletin(s, month), "reports/bulletin.html")


@bp.get("/bulletins/<month>.<any(html, pdf, xlsx):fmt>")
@roles("office")
def bulletin_file(month: str, fmt: str):
    resp = web.passthrough(notify.bulletin_file(web.services(), month, fmt))
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"        # the chart preview is shown in a frame of its page
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    return resp


# --- democratic appraisals -----------------------------------------------------------------------------

@bp.route("/appraisals", methods=["GET", "POST"])
@roles("office", "auditor")
def appraisals():
    """民主评议: every round, and (the office) a form to open one for a quarter or a year."""
    s, errors = web.services(), None
    if request.method == "POST":
        body = forms.without_empty({**forms.text("period", "title", "note"), "key_units": forms.picked("key_units"),
                                    "groups": [g.strip() for g in request.form.get("groups", "").splitlines()
                                               if g.strip()],
                                    "min_ballots": forms.number("min_ballots"),
                                    "sms_group": SMS_GROUP if request.form.get("sms") == "on" else None})
        opened, errors = web.attempt(lambda: notify.appraisal_step(s, None, "open", body, _key()), "民主评议已发起",
                                     ("period", "title", "key_units", "groups", "min_ballots", "units", "weights",
                                      "sms_group"))
        if opened:
            return redirect(url_for("reports.appraisal", period=opened["id"]))
    return web.page("reports/appraisals.html", 422 if errors else 200, items=notify.appraisals(s),
                    directory=intake.directory(s), errors=errors, form=request.form, idem=str(uuid.uuid4()),
                    sms_group=SMS_GROUP)


BALLOT_FIELDS = {"ballots.0.ballot_no": "ballot_no", "ballots.0.group": "group", "ballots.0.ratings": "ratings"}


def _ballot() -> dict:
    """The questionnaire the form holds: a grade for each unit graded (left blank: not graded)."""
    units = request.form.getlist("unit")
    return {"ballots": [{"ballot_no": request.form.get("ballot_no", "").strip(),
                         "group": request.form.get("group", ""),
                         "ratings": [forms.without_empty({"unit": u, "grade": request.form.get(f"grade-{i}", ""),
                                                          "comment": request.form.get(f"comment-{i}", "").strip()})
                                     for i, u in enumerate(units) if request.form.get(f"grade-{i}")]}]}


@bp.route("/appraisals/<period>", methods=["GET", "POST"])
@roles("office", "auditor")
def appraisal(period: str):
    """A round: its settings, the questionnaires entered, the results (so far), and the office's steps:
    enter a questionnaire, close and draft, review (another office user), publish."""
    s, errors = web.services(), None
    if request.method == "POST":
        step = request.form.get("step", "")
        if step == "import":
            report, errors = _questionnaires(s, period)
            if report is not None or errors:
                return _appraisal_page(s, period, errors, report)
        bodies = {"ballots": _ballot, "draft": lambda: None, "redraft": lambda: None,
                  "review": lambda: forms.text("decision", "comments"), "publish": lambda: None}
        done = {"ballots": "评议票已录入", "draft": "已截止收票并形成评议结果", "redraft": "已重新统计评议结果",
                "review": "审核意见已保存", "publish": "评议结果已发布"}
        if step in bodies:
            body = bodies[step]()
            _, errors = web.attempt(lambda: notify.appraisal_step(s, period, step, body, _key()), done[step],
                                    ("ballot_no", "group", "ratings") if step == "ballots" else (),
                                    BALLOT_FIELDS if step == "ballots" else None,
                                    explain=lambda exc: FOUR_EYES.get(("review", exc.status)) if step == "review"
                                    else None)
            if not errors:
                return redirect(url_for("reports.appraisal", period=period))
    return _appraisal_page(s, period, errors)


def _appraisal_page(s, period: str, errors: FormErrors | None, report: dict | None = None):
    item = notify.appraisal(s, period)
    entered = notify.appraisal_ballots(s, period)["items"]
    return web.page("reports/appraisal.html", 422 if errors else 200, item=item, ballots=entered, errors=errors,
                    report=report, form=request.form if errors else {}, idem=str(uuid.uuid4()))


def _questionnaires(s, period: str) -> tuple[dict | None, FormErrors | None]:
    """The posted questionnaire table dry-run or entered by notify: its per-row report, or the refusal."""
    part = request.files.get("file")
    if part is None or not part.filename:
        return None, FormErrors(file=["请选择评议票录入表（Excel或CSV）"])
    dry_run = request.form.get("mode") != "import"
    try:
        report = notify.appraisal_import(s, period, part.filename, part.read(),
                                         part.mimetype or "application/octet-stream", dry_run=dry_run, key=_key())
        flash("预检完成：以下为逐行检查结果，确认无误后选择“正式导入”" if dry_run else
              f"已录入 {report['counts'].get('imported', 0)} 份评议票")
        return report, None
    except ServiceError as exc:
        if exc.status not in (409, 413, 415, 422):
            raise
        return (exc.body if exc.body.get("rows") else None), FormErrors.of(exc, ("file",))


@bp.get("/appraisals/<period>/template.xlsx")
@roles("office", "auditor")
def appraisal_template(period: str):
    return web.passthrough(notify.appraisal_template(web.services(), period))


@bp.get("/appraisals/<period>.<any(html, pdf, xlsx):fmt>")
@roles("office", "auditor")
def appraisal_file(period: str, fmt: str):
    return web.passthrough(notify.appraisal_file(web.services(), period, fmt))


# --- exposures -----------------------------------------------------------------------------------------

@bp.route("/exposures", methods=["GET", "POST"])
@roles("office")
def exposures():
    s, errors = web.services(), None
    if request.method == "POST":
        body = forms.text("case_id", "title", "category", "lesson")
        selected, errors = _attempt(lambda: notify.exposure_step(s, None, "select", body, _key()), "已选定曝光案例")
        if selected:
            return redirect(url_for("reports.exposure", exposure_id=selected["id"]))
    return web.page("reports/exposures.html", 422 if errors else 200, items=notify.exposures(s), errors=errors,
                    form=request.form, idem=str(uuid.uuid4()))


@bp.route("/exposures/<exposure_id>", methods=["GET", "POST"])
@roles("office")
def exposure(exposure_id: str):
    s = web.services()
    return _stepped({"redaction": lambda: forms.without_empty({**forms.text("text", "title", "lesson"),
                                                               "remove": forms.lines("remove"),
                                                               "addresses": forms.lines("addresses")}),
                     "approve": lambda: forms.without_empty({"revision": forms.number("revision")}),
                     "publish": dict, "withdraw": lambda: forms.text("reason")},
                    {"redaction": "已脱敏，请另一位同志审核", "approve": "已审核通过", "publish": "已发布", "withdraw": "已撤回"},
                    lambda step, body: notify.exposure_step(s, exposure_id, step, body, _key()),
                    lambda: notify.exposure(s, exposure_id), "reports/exposure.html")
