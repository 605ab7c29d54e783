"""Overdue tasks, milestones and project stages climb notify's escalation ladder — the same one cases
climb, same thresholds, same events — and a stage past its grace becomes a case (docs/CAMPAIGNS.md).
Real PostgreSQL; intake's events applied by notify's and the ledger's consumer code; notify's
scheduler pass run with the file clock and asking intake (its test client) for the stage's case.

March 2026 has no public holiday: working days are Monday to Friday. Handling mode immediate
(立行立改): reminder 1 working day before, supervision letter at 1 working day overdue, admonishment
talk at 3, bulletin criticism at 5, accountability proposal at 10."""
from __future__ import annotations

import pytest

from zfcommon import db

from .. import support
from ..support import bearer, carry
from .test_campaigns import DEV, GOV, OFFICE, Office, campaign_body, task_body

pytestmark = pytest.mark.integration
STEP = "cn.zhengfeng.escalation.step_issued.v1"


@pytest.fixture
def office(urls, tmp_path):
    o = Office(urls["intake"], tmp_path / "now")
    yield o
    o.app.extensions["zf_pool"].close()


def scheduler_pass(urls, office: Office) -> None:
    """notify catches up with intake, decides, and intake's later events (a stage's case) come back."""
    def open_case(project_id: str, stage: str) -> str | None:
        r = office.client.post(f"/v1/projects/{project_id}/stages/{stage}/open-case", json={}, headers=OFFICE)
        return r.json["case_id"] if r.status_code == 201 else None
    carry(urls, into=("notify",))
    support.scheduler_pass(urls["notify"], office.clock, open_case)
    carry(urls, into=("notify",), sources=("intake", "notify"))


def ladder_of(urls, subject: str) -> list[tuple]:
    with db.connect(urls["notify"]) as conn:
        return [(r["kind"], r["round"], r["step"], r["reason"], r["unit"], str(r["due"]) if r["due"] else None)
                for r in conn.execute("SELECT * FROM escalation_history WHERE case_id = %s ORDER BY version",
                                      (subject,))]


def test_a_late_milestone_then_the_task_climb_the_ladder_and_completion_stops_it(office, urls):
    c = office.post("/v1/campaigns", campaign_body())["campaign_id"]
    t = office.post("/v1/tasks", task_body(c, deadline="2026-03-20", handling_mode="immediate",
                                           milestones=[{"name": "摸底", "due": "2026-03-06"}]))["task_id"]
    office.day("2026-03-09")                        # the milestone (Friday 03-06) is 1 working day late
    scheduler_pass(urls, office)
    assert ladder_of(urls, t) == [("step", 1, "reminder", None, GOV, "2026-03-06"),
                                  ("step", 1, "supervision_letter", None, GOV, "2026-03-06")]
    office.day("2026-03-10")
    office.post(f"/v1/tasks/{t}/reach-milestone", {"milestone": 1, "note": "摸底完成"}, bearer("unit", unit=GOV), 200)
    office.day("2026-03-19")                        # the deadline is tomorrow: the next round's reminder
    scheduler_pass(urls, office)
    assert ladder_of(urls, t)[2:] == [("stop", 1, "supervision_letter", "new_deadline", None, None),
                                      ("step", 2, "reminder", None, GOV, "2026-03-20")]
    office.post(f"/v1/tasks/{t}/report-completion", {"note": "完成"}, bearer("unit", unit=GOV), 200)
    scheduler_pass(urls, office)
    assert ladder_of(urls, t)[-1] == ("stop", 2, "reminder", "completion_reported", None, None)

    carry(urls, into=("ledger",), sources=("intake", "notify"))
    from ledger.entrypoints.http import create_app as ledger_app
    from ..conftest import settings_for
    ledger = ledger_app(settings_for("ledger", urls["ledger"])).test_client()
    row = ledger.get(f"/v1/tasks/{t}", headers=OFFICE).json
    assert [h["step"] for h in row["escalation_history"] if h["kind"] == "step"] == [
        "reminder", "supervision_letter", "reminder"]
    assert row["escalation_step"] is None           # nothing runs after the completion report


def test_a_stage_past_its_limit_warns_its_unit_and_past_the_grace_becomes_a_case_that_stops_its_ladder(office, urls):
    office.client.put("/v1/project-types/政府投资项目", json={"stages": [
        {"key": "lixiang", "name": "立项", "limit_days": 3}]}, headers=OFFICE)
    p = office.post("/v1/projects", {"name": "城南污水处理厂", "owner": "区城投公司", "project_type": "政府投资项目",
                                     "stage_units": {"lixiang": DEV}, "case_grace_days": 2})["project_id"]
    office.post(f"/v1/projects/{p}/enter-stage", {"stage": "lixiang"}, OFFICE, 200)     # 03-02, due Thursday 03-05
    office.day("2026-03-06")                        # 1 working day past: a supervision letter, no case yet
    scheduler_pass(urls, office)
    subject = f"{p}/lixiang"
    assert [s[2] for s in ladder_of(urls, subject)] == ["reminder", "supervision_letter"]
    assert office.client.get(f"/v1/projects/{p}", headers=OFFICE).json["stages"][0].get("case_id") is None
    office.day("2026-03-09")                        # 2 working days past: the grace is over
    scheduler_pass(urls, office)
    stage = office.client.get(f"/v1/projects/{p}", headers=OFFICE).json["stages"][0]
    case = office.client.get(f"/v1/cases/{stage['case_id']}", headers=OFFICE).json
    assert (case["channel"], case["subject_unit"]) == ("project_monitoring", DEV)
    scheduler_pass(urls, office)                    # the case's event stops the stage's ladder
    assert ladder_of(urls, subject)[-1][0:4] == ("stop", 1, "supervision_letter", "case_opened")
    with db.connect(urls["intake"]) as conn:
        assert conn.execute("SELECT count(*) AS n FROM events WHERE type = %s",
                            ("cn.zhengfeng.project.stage_case_opened.v1",)).fetchone()["n"] == 1
