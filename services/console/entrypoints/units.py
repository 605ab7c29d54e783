"""A unit officer's pages, made for a phone-width screen: my cases and my tasks by what needs doing, the
approval stages it is responsible for (with their enter and complete forms), the weekly (or zero) report,
the quarterly work report, the enforcement actions its parties rate by SMS, and my notices. The services give a unit's token only its own cases, tasks,
projects, reports and notices."""
from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from flask import Blueprint, flash, redirect, request, url_for

from zfcommon import periods
from zfcommon.workdays import local_date

from ..adapters import intake, ledger, notify
from ..adapters.services import ServiceError
from . import projects, web
from .web import FormErrors, roles

bp = Blueprint("units", __name__, url_prefix="/my")
log = logging.getLogger(__name__)


@bp.get("")
@roles("unit")
def mine():
    s, days = web.services(), web.yellow_days()
    in_progress = ledger.cases(s, {"status": "in_progress"}, limit=200)["items"]
    groups = (
        ("sign_for", "待签收", ledger.cases(s, {"status": "assigned"}, limit=200)["items"]),
        ("overdue", "已超期", ledger.cases(s, {"overdue": "true"}, limit=200)["items"]),
        ("due_soon", f"{days}个工作日内到期", ledger.cases(s, {"due_within": days}, limit=200)["items"]),
        ("sent_back", "退回重办", [c for c in in_progress if c.get("rework_count")]),
        ("in_progress", "整改中", [c for c in in_progress if not c.get("rework_count")]),
        ("reported", "已报送待核验", ledger.cases(s, {"status": "rectification_reported,dismissal_reported"},
                                            limit=200)["items"]),
    )
    return web.page("units/mine.html", groups=groups, due_reports=_due_reports(s))


def _due_reports(s) -> list[dict[str, Any]]:
    """The reports the unit owes now: this week's and the last quarter's, while not filed (outstanding, or
    flagged as missing). Read from notify; the cases show without them if notify does not answer."""
    owed = []
    try:
        week = notify.week_overview(s, None)
        quarter = notify.quarter_overview(s, None)
    except ServiceError as exc:
        log.warning("due_reports_unavailable", extra={"status": exc.status})
        return owed
    for overview, label, endpoint in ((week, periods.week_label(week["week"]) + "周报告", "units.weekly"),
                                      (quarter, periods.quarter_label(quarter["quarter"]) + "工作情况",
                                       "units.quarterly")):
        for row in overview["units"]:
            if row["status"] in ("outstanding", "missing"):
                owed.append({"what": label, "due": overview["due"], "missing": row["status"] == "missing",
                             "endpoint": endpoint})
    return owed


Row = Mapping[str, Any]


def task_groups(running: Iterable[Row], reported: Iterable[Row]) -> list[tuple[str, str, list[Row]]]:
    """A unit's tasks by what needs doing, each once: late (the task or a milestone past its date) first,
    then those sent back to redo, then the rest to report on; those reported complete wait for the office."""
    late, sent_back, to_report = [], [], []
    for t in running:
        (late if t.get("overdue") or t.get("milestones_overdue") else
         sent_back if t.get("sent_back_count") else to_report).append(t)
    return [("overdue", "已超期", late), ("sent_back", "退回重办", sent_back), ("to_report", "待报告进展或完成", to_report),
            ("reported", "已报完成待销号", list(reported))]


@bp.get("/tasks")
@roles("unit")
def tasks():
    s = web.services()
    running = ledger.listing(s, "tasks", status="in_progress", limit=200)["items"]
    reported = ledger.listing(s, "tasks", status="completion_reported", limit=200)["items"]
    return web.page("units/tasks.html", groups=task_groups(running, reported))


def stage_groups(found: Iterable[tuple[Row, Row]]) -> list[tuple[str, str, list[tuple[Row, Row]]]]:
    """(project, stage) pairs of a unit's own stages by what needs doing: under way (past the limit first),
    to be entered, done."""
    found = list(found)
    under_way = sorted((p for p in found if p[1]["state"] == "entered"), key=lambda p: not p[1].get("overdue"))
    return [("entered", "审批中", under_way),
            ("not_entered", "待进入", [p for p in found if p[1]["state"] == "not_entered"]),
            ("completed", "已办结", [p for p in found if p[1]["state"] == "completed"])]


@bp.get("/stages")
@roles("unit")
def stages():
    """The approval stages of key projects this unit is responsible for; each stage's forms are those intake
    says this officer may record of it now."""
    s, unit = web.services(), web.account().unit
    found = []
    for view in ledger.listing(s, "projects")["items"]:
        written = intake.one(s, "projects", view["project_id"])
        found.extend(({**view, "version": written["version"]}, st)
                     for st in projects.stage_rows(written["stages"], view["stages"]) if st["unit"] == unit)
    return web.page("units/stages.html", groups=stage_groups(found), idem=str(uuid.uuid4()), errors={})


def _this_week() -> str:
    iso = local_date(web.now()).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


@bp.route("/weekly", methods=["GET", "POST"])
@roles("unit")
def weekly():
    s = web.services()
    errors, form = None, request.form
    if request.method == "POST":
        zero = form.get("zero") == "yes"
        body = {"week": form.get("week", "").strip(), "zero": zero, "note": form.get("note", "").strip() or None}
        if not zero:
            body.update(_listed(form))
        if form.get("corrects"):
            body["corrects"] = form["corrects"]
        try:
            notify.file_weekly_report(s, {k: v for k, v in body.items() if v is not None}, key=form.get("idem", ""))
            flash("零报告已报送" if zero else "周报告已报送")
            return redirect(url_for("units.weekly"))
        except ServiceError as exc:
            if exc.status not in (409, 422):
                raise
            errors = FormErrors.of(exc, ("week", "zero", "note", "progress", "self_found"))
    reports = notify.weekly_reports(s, limit=12)["items"]
    cases = ledger.cases(s, {"status": "in_progress"}, limit=100)["items"]
    week = form.get("week") or _this_week()
    latest = next((r for r in reports if r["week"] == week and r.get("id")), None)
    return web.page("units/weekly.html", 422 if errors else 200, errors=errors, reports=reports, cases=cases,
                    week=week, latest=latest, form=form, idem=form.get("idem") or str(uuid.uuid4()),
                    last_week=_previous(week))


def _listed(form: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    """A report form's progress on the unit's cases (one box per case, left empty when nothing moved)
    and the problems it found itself (one a line)."""
    return {"progress": [{"case_id": c, "note": form.get(f"progress-{c}", "").strip()}
                         for c in form.getlist("case_id") if form.get(f"progress-{c}", "").strip()],
            "self_found": [{"description": d.strip()} for d in form.get("self_found", "").splitlines() if d.strip()]}


def _quarters() -> list[str]:
    """The quarters a unit may file for on the page, newest first: this one (in its last days) and the
    three before; the second is the one being reported on now (due the 5th working day after it)."""
    return periods.quarters_back(local_date(web.now()), 4)


@bp.route("/quarterly", methods=["GET", "POST"])
@roles("unit")
def quarterly():
    """The unit's quarterly work report (季度工作情况, seed 001: within 5 working days after the quarter):
    what it did, its cases' progress, what it found itself, its plans. Filing again corrects the last
    filing, whose text the form starts from."""
    s = web.services()
    errors, form = None, request.form
    if request.method == "POST":
        body = {"quarter": form.get("quarter", "").strip(), "summary": form.get("summary", "").strip(),
                "next_steps": form.get("next_steps", "").strip() or None, "note": form.get("note", "").strip() or None,
                **_listed(form), "corrects": form.get("corrects") or None}
        try:
            notify.file_quarterly_report(s, {k: v for k, v in body.items() if v is not None},
                                         key=form.get("idem", ""))
            flash("季度工作情况已报送")
            return redirect(url_for("units.quarterly", quarter=body["quarter"]))
        except ServiceError as exc:
            if exc.status not in (409, 422):
                raise
            errors = FormErrors.of(exc, ("quarter", "summary", "progress", "self_found", "next_steps", "note"))
    reports = notify.quarterly_reports(s, limit=8)["items"]
    recent = _quarters()
    quarter = form.get("quarter") or request.args.get("quarter") or recent[1]
    choices = [(q, periods.quarter_label(q)) for q in dict.fromkeys([*recent, quarter])]
    latest = next((r for r in _filed(s, quarter) if r.get("id")), None)
    values = form if request.method == "POST" else _as_form(latest)
    cases = ledger.cases(s, {"status": "in_progress"}, limit=100)["items"]
    return web.page("units/quarterly.html", 422 if errors else 200, errors=errors, reports=reports, cases=cases,
                    quarter=quarter, choices=choices, latest=latest, form=values,
                    idem=form.get("idem") or str(uuid.uuid4()))


def _filed(s, quarter: str) -> list[dict[str, Any]]:
    """The unit's report for `quarter` (or its flag), if the text names a quarter at all."""
    try:
        periods.quarter(quarter)
    except ValueError:
        return []
    return notify.quarterly_reports(s, quarter=quarter, limit=1)["items"]


def _as_form(report: Mapping[str, Any] | None) -> dict[str, str]:
    """A filed report as the form's fields, so a correction starts from what was filed."""
    if not report:
        return {}
    return {"summary": report.get("summary") or "", "next_steps": report.get("next_steps") or "",
            "note": report.get("note") or "",
            "self_found": "\n".join(p["description"] for p in report.get("self_found") or []),
            **{f"progress-{p['case_id']}": p["note"] for p in report.get("progress") or []}}


def _previous(week: str) -> str:
    try:
        year, number = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1) - timedelta(days=7)
    except ValueError:
        return week
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def officers(raw: str) -> list[dict[str, Any]]:
    """The form's officers, one a line: a name, then (after a space or a comma) the 执法证号 if any."""
    out = []
    for line in raw.splitlines():
        name, _, badge = line.strip().replace("，", " ").replace(",", " ").partition(" ")
        if name:
            out.append({"name": name, "badge_no": badge.strip() or None})
    return out


ROSTER_COLUMNS = ("name", "badge_no", "section", "post", "duties")


def staff_lines(raw: str) -> list[dict[str, Any]]:
    """The roster as typed or pasted from a spreadsheet: a person a line, 姓名|执法证号|科室|职务|岗位职责
    (tabs or ｜ between them too); an empty cell is none."""
    out = []
    for line in raw.splitlines():
        cells = [c.strip() for c in line.replace("\t", "|").replace("｜", "|").split("|")]
        if any(cells):
            cells += [""] * (len(ROSTER_COLUMNS) - len(cells))
            out.append({k: v or None for k, v in zip(ROSTER_COLUMNS, cells[:4] + ["|".join(cells[4:])])})
    return out


def staff_problems(staff: list[dict[str, Any]]) -> list[str]:
    """Each line that lacks what the public board needs, said as the person typed it (the line's number)."""
    names = {"name": "姓名", "post": "职务", "duties": "岗位职责"}
    return [f"第{i}行缺少{'、'.join(names[k] for k in names if not p.get(k))}（格式：姓名|执法证号|科室|职务|岗位职责）"
            for i, p in enumerate(staff, 1) if not all(p.get(k) for k in names)]


def roster_text(roster: Mapping[str, Any] | None) -> str:
    return "\n".join("|".join(p.get(k) or "" for k in ROSTER_COLUMNS) for p in (roster or {}).get("staff", []))


@bp.route("/enforcement", methods=["GET", "POST"])
@roles("unit")
def enforcement():
    """执法监督短信评议 (seed 001): the unit records each enforcement or supervision action with the party's
    mobile number, and the party is asked by SMS to rate it; the unit sees its recent actions and ratings.
    Its enforcement staff, published for the public (公述民评 公示), are kept on the same page."""
    s = web.services()
    errors, form = None, request.form
    unit = web.account().unit
    if request.method == "POST" and form.get("action") == "roster":
        staff = staff_lines(form.get("staff", ""))
        if problems := staff_problems(staff):
            errors = FormErrors({"general": ["公示名单有误，请按提示修改"], "staff": problems})
        else:
            _, errors = web.attempt(lambda: notify.publish_roster(s, unit, staff, key=form.get("idem", "")),
                                    "执法监督人员已公示", ("staff",))
        if not errors:
            return redirect(url_for("units.enforcement"))
    elif request.method == "POST":
        body = {"kind": form.get("kind", ""), "performed_on": form.get("performed_on", "").strip(),
                "section": form.get("section", "").strip() or None, "matter": form.get("matter", "").strip(),
                "party": form.get("party", "").strip() or None, "officers": officers(form.get("officers", "")),
                "phone": form.get("phone", "").strip()}
        _, errors = web.attempt(lambda: notify.record_enforcement(s, body, key=form.get("idem", "")),
                                "已登记，系统将向执法监督对象发送评价短信",
                                ("kind", "performed_on", "section", "matter", "party", "officers", "phone"))
        if not errors:
            return redirect(url_for("units.enforcement"))
    actions = notify.enforcement_actions(s, limit=50)["items"]
    roster = notify.roster(s, unit)
    return web.page("units/enforcement.html", 422 if errors else 200, errors=errors, actions=actions, form=form,
                    today=local_date(web.now()), idem=form.get("idem") or str(uuid.uuid4()), roster=roster,
                    staff=form.get("staff") if form.get("action") == "roster" else roster_text(roster))


@bp.get("/notices")
@roles("unit")
def notices():
    """The unit's notices, newest first, each once with how each of its channels went (notify queues
    one per channel and contact), and each in full as its e-mail reads, sent or not."""
    grouped: dict[tuple, dict] = {}
    for n in notify.notices(web.services(), limit=100):
        one = grouped.setdefault((n["event_id"], n["kind"]), {**n, "deliveries": {}})
        one["deliveries"].setdefault(n["channel"], n["status"])
    return web.page("units/notices.html", notices=list(grouped.values()))
