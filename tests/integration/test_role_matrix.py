"""Every role against every endpoint of every service: allowed cells are never 401/403, refused
cells are 403, and no token is 401. Runs on the real PostgreSQL with each service's Flask app."""
from __future__ import annotations

import pytest

from intake.domain.lifecycle import RULES
from ledger.adapters.repository import apply as ledger_apply
from notify.domain.ladder import DEFAULT_CONFIG as DEFAULT_ESCALATION
from zfcommon import db
from zfcommon.blueprint import declared_roles
from zfcommon.events import parse_event

from ..support import bearer, complaint
from .apps import four_apps

pytestmark = pytest.mark.integration

UNIT = "县自然资源局"
ROLES = {"office": bearer("office"), "unit": bearer("unit", unit=UNIT), "channel": bearer("channel", channel="hotline"),
         "auditor": bearer("auditor"), "public": bearer("public")}
EVERYONE_BUT_PUBLIC = {"office", "auditor", "unit", "channel"}
WHO = {"office": {"office"}, "lead": {"office", "unit"}, "unit": {"office", "unit"}, "visit": {"office", "channel"}}
BODIES = {
    "assign": {"lead_unit": UNIT, "handling_mode": "deadline"},
    "reassign": {"lead_unit": UNIT, "handling_mode": "deadline", "reason": "改派"},
    "merge": {"into_case_id": "no-such-case"}, "return": {"reason": "非本单位"}, "note_progress": {"note": "进展"},
    "request_extension": {"reason": "协调", "requested_deadline": "2030-01-10"},
    "deny_extension": {"reason": "不同意"}, "report_rectified": {"text": "已整改"},
    "report_not_substantiated": {"text": "不属实"}, "order_rework": {"reason": "补课"},
    "choose_recheck": {"reason": "回访不满意"}, "record_recheck": {"outcome": "upheld", "findings": "属实查否"},
    "record_return_visit": {"satisfaction": "satisfied"}, "order_rehandling": {"reason": "重办"},
    "correct_summary": {"summary": "反映窗口推诿"},
}

ROWS = [
    ("intake", "POST", "/v1/cases", complaint(), {"office", "channel"}),
    # POST /v1/hooks/hotline has no row: no role opens it, a Standard Webhooks signature does
    # (tests/integration/test_hotline_webhook.py::test_the_hook_is_signature_gated_not_token_gated).
    ("intake", "GET", "/v1/cases/{case}", None, EVERYONE_BUT_PUBLIC),
    ("intake", "POST", "/v1/cases/{case}/complainant/reveal", {"reason": "回访核实"}, {"office"}),
    ("intake", "GET", "/v1/cases/{case}/complainant/reveals", None, {"office", "auditor"}),
    ("intake", "DELETE", "/v1/cases/{case}/complainant", {"reason": "本人申请"}, {"office"}),
    *[("intake", "POST", f"/v1/cases/{{case}}/{name.replace('_', '-')}", BODIES.get(name, {}), WHO[rule.who])
      for name, rule in RULES.items()],
    ("intake", "GET", "/v1/directory", None, EVERYONE_BUT_PUBLIC),
    ("intake", "POST", "/v1/directory/units", {"name": "新单位", "kind": "other", "supervising_channel": "纪委"},
     {"office"}),
    ("intake", "POST", "/v1/directory/categories", {"name": "新类别", "group": "其他"}, {"office"}),
    ("intake", "DELETE", "/v1/directory/categories/形式主义", None, {"office"}),
    ("intake", "PUT", "/v1/directory/limits", {"limits": {m: {"normal": 5, "urgent": 3, "critical": 1} for m in
                                                         ("immediate", "deadline", "long_term")},
                                              "sign_for_days": 1, "recheck_ratio": 0.2}, {"office"}),
    ("intake", "PUT", "/v1/directory/calendar/2027", {"holidays": ["2027-01-01"], "workdays": []}, {"office"}),
    ("intake", "POST", "/v1/accountability", {"measure": "reminder_talk", "target_kind": "unit", "target": UNIT,
                                              "unit": UNIT, "basis_cases": ["x"], "reason": "提醒"}, {"office"}),
    *[("intake", "POST", f"/v1/imports{query}", None, {"office"}) for query in ("?dry_run=true", "")],
    ("intake", "GET", "/v1/imports/00000000-0000-0000-0000-000000000000", None, {"office", "auditor"}),
    ("intake", "POST", "/v1/clients", {"department": "信息中心", "channel": "hotline"}, {"office"}),
    ("intake", "GET", "/v1/clients", None, {"office", "auditor"}),
    ("intake", "GET", "/v1/clients/client-none", None, {"office", "auditor"}),
    ("intake", "POST", "/v1/clients/client-none/rotate", {"grace_seconds": 0}, {"office"}),
    ("intake", "POST", "/v1/clients/client-none/revoke", {}, {"office"}),
    ("intake", "POST", "/v1/inspections", {"title": "暗访", "mode": "unannounced", "target_units": [UNIT],
                                           "team": [{"name": "王某"}], "starts_on": "2030-01-02",
                                           "ends_on": "2030-01-03"}, {"office"}),
    ("intake", "GET", "/v1/inspections", None, {"office", "auditor", "unit"}),
    ("intake", "GET", "/v1/inspections/inspection-none", None, {"office", "auditor", "unit"}),
    *[("intake", "POST", f"/v1/{path}", {"unit": UNIT, "category": "态度冷漠", "description": "冷漠"}, {"office"})
      for path in ("inspections/inspection-none/findings", "monitoring-points/monitoring-point-none/submissions")],
    ("intake", "POST", "/v1/inspections/inspection-none/complete", {}, {"office"}),
    ("intake", "POST", "/v1/inspections/inspection-none/cancel", {"reason": "取消"}, {"office"}),
    ("intake", "POST", "/v1/monitoring-points", {"name": "企业监测点", "kind": "enterprise"}, {"office"}),
    ("intake", "GET", "/v1/monitoring-points", None, {"office", "auditor"}),
    ("intake", "GET", "/v1/monitoring-points/monitoring-point-none", None, {"office", "auditor"}),
    ("intake", "POST", "/v1/monitoring-points/monitoring-point-none/deactivate", {"reason": "停用"}, {"office"}),
    *[("ledger", "GET", path, None, EVERYONE_BUT_PUBLIC) for path in (
        "/v1/cases", "/v1/cases/{case}", "/v1/cases/{case}/timeline",
        "/v1/cases/{case}/as-of?at=2030-01-01T00:00:00%2B08:00", "/v1/overdue", "/v1/units/stats",
        "/v1/cases/export.csv", "/v1/cases/export.xlsx", "/v1/overdue/export.csv", "/v1/overdue/export.xlsx",
        "/v1/units/stats/export.csv", "/v1/units/stats/export.xlsx")],
    # The campaign machinery (docs/CAMPAIGNS.md): the office acts; units read and work their own tasks and
    # stages (another's answers 404); auditors read; channels and the public see none of it.
    ("intake", "POST", "/v1/cases/{case}/set-campaign", {"campaign_id": None}, {"office"}),
    ("intake", "POST", "/v1/cases/{case}/dismiss-duplicate", {"candidate_case_id": "no-such-case"}, {"office"}),
    ("intake", "POST", "/v1/campaigns", {"name": "专项行动", "lead_office": "县纪委", "starts_on": "2030-01-02",
                                         "ends_on": "2030-03-31", "phases": [{"name": "第一阶段", "starts_on": "2030-01-02",
                                                                               "ends_on": "2030-03-31"}]}, {"office"}),
    ("intake", "POST", "/v1/campaigns/campaign-none/revise", {"reason": "调整"}, {"office"}),
    ("intake", "POST", "/v1/tasks", {"title": "任务"}, {"office"}),
    *[("intake", "POST", f"/v1/tasks/task-none/{name}", body, {"office", "unit"}) for name, body in (
        ("report-progress", {"note": "进展"}), ("reach-milestone", {"milestone": 1, "note": "完成"}),
        ("report-completion", {"note": "完成"}), ("sign-off", {}), ("send-back", {"reason": "补课"}),
        ("cancel", {"reason": "撤销"}))],
    ("intake", "PUT", "/v1/project-types/政府投资项目", {"stages": [{"key": "lixiang", "name": "立项", "limit_days": 5}]},
     {"office"}),
    ("intake", "POST", "/v1/projects", {"name": "项目", "owner": "业主", "project_type": "政府投资项目",
                                        "stage_units": {"lixiang": UNIT}}, {"office"}),
    *[("intake", "POST", f"/v1/projects/project-none/{name}", {"stage": "lixiang"}, {"office", "unit"})
      for name in ("enter-stage", "complete-stage")],
    ("intake", "POST", "/v1/projects/project-none/stages/lixiang/open-case", None, {"office"}),
    ("intake", "POST", "/v1/lookbacks", {"title": "回头看", "ratio": 0.2}, {"office"}),
    ("intake", "POST", "/v1/lookbacks/lookback-none/findings", {"id": "x", "outcome": "held", "note": "巩固"},
     {"office"}),
    *[("intake", "GET", path, None, {"office", "auditor", "unit"}) for path in (
        "/v1/campaigns/campaign-none", "/v1/tasks/task-none", "/v1/project-types", "/v1/projects/project-none",
        "/v1/tasks/task-none/files/00000000-0000-0000-0000-000000000000")],
    ("intake", "POST", "/v1/tasks/task-none/files", None, {"office", "unit"}),
    ("intake", "GET", "/v1/lookbacks/lookback-none", None, {"office", "auditor"}),
    *[("intake", "POST", f"/v1/task-imports{query}", None, {"office"}) for query in ("?dry_run=true", "")],
    ("intake", "GET", "/v1/task-imports/00000000-0000-0000-0000-000000000000", None, {"office", "auditor"}),
    *[("ledger", "GET", path, None, {"office", "auditor", "unit"}) for path in (
        "/v1/tasks", "/v1/tasks/task-none", "/v1/campaigns", "/v1/campaigns/campaign-none", "/v1/projects",
        "/v1/projects/project-none", "/v1/units/approval-times")],
    *[("ledger", "GET", path, None, {"office", "auditor"}) for path in (
        "/v1/campaigns/report?from=2030-01-01&to=2030-01-31", "/v1/lookbacks", "/v1/lookbacks/lookback-none")],
    *[("ledger", "GET", path, None, {"office"}) for path in (
        "/v1/lookback-candidates", "/v1/cases/{case}/duplicate-suggestions")],
    ("notify", "GET", "/v1/watch/{case}", None, {"office", "auditor"}),
    ("notify", "GET", "/v1/escalation/config", None, {"office", "auditor"}),
    ("notify", "PUT", "/v1/escalation/config", DEFAULT_ESCALATION, {"office"}),
    ("notify", "GET", "/v1/escalations", None, {"office", "auditor", "unit"}),
    ("notify", "GET", "/v1/escalations/{case}", None, {"office", "auditor", "unit"}),
    # Bulletins and disclosures: the office writes; published ones are for everyone (drafts answer 404).
    *[("notify", "GET", path, None, set(ROLES)) for path in (
        "/v1/bulletins", "/v1/bulletins/2024-05", "/v1/bulletins/2024-05.pdf", "/v1/disclosures",
        "/v1/disclosures/2024-Q1", "/v1/disclosures/2024-Q1.xlsx")],
    ("notify", "GET", "/v1/bulletins/rules", None, {"office", "auditor"}),
    ("notify", "PUT", "/v1/bulletins/rules", {"base": 100, "min_cases": 3, "deductions": dict.fromkeys(
        ("overdue", "late_sign_for", "weekly_missed", "criticism", "accountability", "recheck_overturned",
         "unsatisfied", "rework"), 1)}, {"office"}),
    *[("notify", "POST", path, body, {"office"}) for path, body in (
        ("/v1/bulletins", {"month": "2024-05"}), ("/v1/bulletins/2024-05/redraft", {}),
        ("/v1/bulletins/2024-05/review", {"decision": "approved"}), ("/v1/bulletins/2024-05/publish", None),
        ("/v1/disclosures", {"quarter": "2024-Q1"}), ("/v1/disclosures/2024-Q1/publish", None))],
    # Appraisals: the office opens, enters questionnaires and publishes; published results are for everyone,
    # the questionnaires for the office and auditors.
    *[("notify", "GET", path, None, set(ROLES)) for path in (
        "/v1/appraisals", "/v1/appraisals/2024-Q1", "/v1/appraisals/2024-Q1.html")],
    ("notify", "GET", "/v1/appraisals/2024-Q1/ballots", None, {"office", "auditor"}),
    ("notify", "GET", "/v1/appraisals/2024-Q1/ballots/template.xlsx", None, {"office", "auditor"}),
    ("notify", "POST", "/v1/appraisals/2024-Q1/ballots/import?dry_run=true", None, {"office"}),
    *[("notify", "POST", path, body, {"office"}) for path, body in (
        ("/v1/appraisals", {"period": "2024-Q1"}), ("/v1/appraisals/2024-Q1/ballots", {"ballots": [
            {"ballot_no": "1", "group": "企业", "ratings": [{"unit": UNIT, "grade": "satisfied"}]}]}),
        ("/v1/appraisals/2024-Q1/draft", None), ("/v1/appraisals/2024-Q1/redraft", None),
        ("/v1/appraisals/2024-Q1/review", {"decision": "approved"}), ("/v1/appraisals/2024-Q1/publish", None))],
    # SMS appraisal of enforcement: units (their own) and the office record; insiders and units read.
    ("notify", "POST", "/v1/enforcement-actions", {
        "kind": "supervision", "matter": "窗口检查", "performed_on": "2024-01-02", "phone": "13512345678",
        "officers": [{"name": "张三", "badge_no": None}]}, {"office", "unit"}),
    *[("notify", "GET", path, None, {"office", "auditor", "unit"}) for path in (
        "/v1/enforcement-actions", "/v1/enforcement-actions/00000000-0000-0000-0000-000000000000",
        "/v1/enforcement-ratings?period=2024-Q1", "/v1/enforcement-ratings/export.xlsx?period=2024-Q1")],
    *[("notify", "GET", path, None, set(ROLES)) for path in ("/v1/enforcement-staff", f"/v1/enforcement-staff/{UNIT}")],
    ("notify", "PUT", f"/v1/enforcement-staff/{UNIT}", {"staff": []}, {"office", "unit"}),
    # Exposures of typical cases: the office acts, auditors read; everyone reads /public/ without a token.
    *[("notify", "GET", path, None, {"office", "auditor"}) for path in (
        "/v1/exposures", "/v1/exposures/exp-none", "/v1/exposures/exp-none/preview")],
    *[("notify", "POST", path, body, {"office"}) for path, body in (
        ("/v1/exposures", {"case_id": "no-such-case", "title": "典型案例"}), ("/v1/exposures/exp-none/redaction", {}),
        ("/v1/exposures/exp-none/approve", {}), ("/v1/exposures/exp-none/publish", None),
        ("/v1/exposures/exp-none/withdraw", {"reason": "撤回"}))],
    # Weekly reports: units file their own (the office on their behalf) and read their own; spot checks are the office's.
    ("notify", "POST", "/v1/weekly-reports", {"unit": UNIT, "week": "2026-W01", "zero": True}, {"office", "unit"}),
    *[("notify", "GET", path, None, {"office", "auditor", "unit"}) for path in (
        "/v1/weekly-reports", "/v1/weekly-reports/overview", "/v1/weekly-reports/escalations",
        f"/v1/weekly-reports/{UNIT}/2026-W01", "/v1/reporting/config")],
    ("notify", "POST", "/v1/quarterly-reports", {"unit": UNIT, "quarter": "2026-Q1", "summary": "本季度工作情况"},
     {"office", "unit"}),
    *[("notify", "GET", path, None, {"office", "auditor", "unit"}) for path in (
        "/v1/quarterly-reports", "/v1/quarterly-reports/overview", f"/v1/quarterly-reports/{UNIT}/2026-Q1",
        "/v1/quarterly-reports/export.csv", "/v1/quarterly-reports/export.xlsx")],
    ("notify", "PUT", "/v1/reporting/config", {"due_rule": "week_end", "spot_check_ratio": 0.2, "escalation": {
        "reminder": 1, "supervision_letter": 2, "admonishment_talk": None, "bulletin_criticism": 3,
        "accountability_proposal": None}}, {"office"}),
    ("notify", "POST", "/v1/spot-checks", {"month": "2026-01"}, {"office"}),
    ("notify", "GET", "/v1/spot-checks", None, {"office", "auditor"}),
    ("notify", "POST", "/v1/spot-checks/2026-01/results", {"unit": UNIT, "finding": "confirmed_nothing"}, {"office"}),
    ("notify", "POST", "/v1/subscriptions", {"unit": UNIT, "url": "https://hooks.example.cn/zf"}, {"office", "unit"}),
    *[("notify", "GET", f"/v1/subscriptions{path}", None, {"office", "auditor", "unit"})
      for path in ("", "/sub-none", "/sub-none/deliveries")],
    *[("notify", "POST", f"/v1/subscriptions/sub-none/{path}", body, {"office", "unit"}) for path, body in (
        ("rotate-secret", {}), ("disable", None), ("enable", None), ("test", None),
        ("deliveries/msg-none/redeliver", None))],
    ("notify", "GET", "/v1/hotline-callbacks", None, {"office", "auditor"}),
    ("notify", "POST", "/v1/hotline-callbacks/msg-none/redeliver", None, {"office"}),
    ("notify", "GET", "/v1/notices", None, {"office", "auditor", "unit"}),
    ("notify", "GET", "/v1/notices/1", None, {"office", "auditor", "unit"}),
    ("notify", "POST", "/v1/notices/1/retry", None, {"office"}),
    # POST /v1/sms/replies has no row: the SMS gateway's Standard Webhooks signature opens it, not a role
    # (tests/integration/test_notices.py::test_a_satisfaction_reply_is_recorded_on_intake_once_…).
    *[(svc, "GET", "/v1/streams/digests?until=2030-01-01T00:00:00%2B08:00", None, {"office", "auditor"})
      for svc in ("intake", "notify")],
    *[("audit", method, path, None, {"office", "auditor"}) for method, path in (
        ("GET", "/v1/events"), ("GET", "/v1/events/stream"), ("GET", "/v1/reconciliation"), ("POST", "/v1/reconciliation"),
        ("GET", "/v1/log/sth"), ("GET", "/v1/log/checkpoint"), ("GET", "/v1/log/public-keys"),
        ("GET", "/v1/log/sth-consistency?first=1&second=1"), ("GET", "/v1/log/proof-by-hash?hash=AA%3D%3D&tree_size=1"),
        ("GET", "/v1/log/entries?start=0&end=0"), ("GET", "/v1/log/cases/{case}/leaves"),
        ("GET", "/v1/cases/{case}/as-of?at=2030-01-01T00:00:00%2B08:00"))],
]


@pytest.fixture(scope="module")
def world(pg):
    with four_apps(pg) as (apps, urls):
        clients = {name: app.test_client() for name, app in apps.items()}
        office = ROLES["office"]
        clients["intake"].post("/v1/directory/units", json={"name": UNIT, "kind": "government_department",
                                                            "supervising_channel": "县监察局"}, headers=office)
        case_id = clients["intake"].post("/v1/cases", json=complaint(), headers=office).json["case_id"]
        clients["intake"].post(f"/v1/cases/{case_id}/assign", json=BODIES["assign"], headers=office)
        with db.connect(urls["intake"]) as source, db.connect(urls["ledger"]) as target:
            for row in source.execute("SELECT payload FROM events ORDER BY position"):
                ledger_apply(target, parse_event(row["payload"]))
            target.commit()
        yield clients, case_id


def call(client, method: str, path: str, body, headers):
    return client.open(path, method=method, json=body, headers=headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service,method,path,body,allowed", ROWS,
                         ids=[f"{r[0]} {r[1]} {r[2]}" for r in ROWS])
def test_every_role_gets_exactly_what_it_may(world, service, method, path, body, allowed, role):
    clients, case_id = world
    resp = call(clients[service], method, path.format(case=case_id), body, ROLES[role])
    if role in allowed:
        assert resp.status_code not in (401, 403), (resp.status_code, resp.get_data(as_text=True)[:300])
    else:
        assert resp.status_code == 403, (resp.status_code, resp.get_data(as_text=True)[:300])
        assert resp.content_type == "application/problem+json"


@pytest.mark.parametrize("service,method,path,body,allowed", ROWS, ids=[f"{r[0]} {r[1]} {r[2]}" for r in ROWS])
def test_no_token_is_unauthorised_everywhere(world, service, method, path, body, allowed):
    clients, case_id = world
    resp = call(clients[service], method, path.format(case=case_id), body, {})
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"


WRITES = [row for row in ROWS if row[1] != "GET"]


@pytest.mark.parametrize("service,method,path,body,allowed", WRITES, ids=[f"{r[0]} {r[1]} {r[2]}" for r in WRITES])
def test_the_role_is_checked_before_the_body_is_read(world, service, method, path, body, allowed):
    """An auditor posting `{}` (or anything) to a write it may not do is told 403, not which fields are missing."""
    clients, case_id = world
    for role in set(ROLES) - allowed:
        for sent in ({}, "not json at all"):
            resp = clients[service].open(path.format(case=case_id), method=method, headers=ROLES[role],
                                         **({"json": sent} if isinstance(sent, dict) else {"data": sent}))
            assert resp.status_code == 403, (role, resp.status_code, resp.get_data(as_text=True)[:300])
            assert resp.content_type == "application/problem+json" and resp.json["code"] in (
                "auth.role_forbidden", "monitoring_point.not_this_point")


@pytest.mark.parametrize("service", ["intake", "ledger", "notify", "audit"])
def test_every_v1_operation_declares_who_may_call_it(world, service):
    """The role rule of every /v1 operation is known before its arguments are parsed (zfcommon.blueprint);
    only the paths that authenticate callers themselves (signed webhooks, the token exchange) declare none."""
    clients, _ = world
    app = clients[service].application
    undeclared = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/") or rule.rule in app.extensions["zf_unauthenticated"]:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            with app.test_request_context(rule.rule, method=method):
                from flask import request
                request.url_rule, request.view_args = rule, {}
                if declared_roles(app, request) is None:
                    undeclared.append(f"{method} {rule.rule}")
    assert undeclared == []
    document = clients[service].get("/openapi.json").json
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/") and path not in app.extensions["zf_unauthenticated"] and method != "parameters":
                assert operation["x-roles"], (method, path)
