"""Key projects (重点项目) and look-backs (回头看) over intake's and the ledger's HTTP APIs on the real
PostgreSQL: stages with working-day limits, a stage past its grace becoming a case on channel
project_monitoring, the approval-time figures; a reproducible look-back draw over the ledger's
closed cases and signed-off tasks, a rebound opening its case and counting against the unit."""
from __future__ import annotations

import hashlib
import math
import threading

import pytest
from werkzeug.serving import make_server

from ledger.entrypoints.http import create_app as ledger_app
from zfcommon.draw import draw

from ..conftest import settings_for
from ..support import bearer, carry, complaint
from .test_campaigns import DEV, FIN, GOV, OFFICE, Office, campaign_body, task_body

pytestmark = pytest.mark.integration
STAGES = [{"key": "lixiang", "name": "立项", "limit_days": 5}, {"key": "yongdi", "name": "用地", "limit_days": 10},
          {"key": "shigong", "name": "施工许可", "limit_days": 3}]


@pytest.fixture
def ledger(urls):
    app = ledger_app(settings_for("ledger", urls["ledger"]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield app.test_client(), f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["zf_pool"].close()


@pytest.fixture
def office(urls, tmp_path, ledger):
    o = Office(urls["intake"], tmp_path / "now", ledger_url=ledger[1])
    yield o
    o.app.extensions["zf_pool"].close()


def test_a_stage_runs_against_its_limit_and_past_the_grace_becomes_a_project_monitoring_case(office, urls, ledger):
    office.client.put("/v1/project-types/政府投资项目", json={"stages": STAGES}, headers=OFFICE)
    refused = office.post("/v1/projects", {"name": "城南污水处理厂", "owner": "区城投公司", "project_type": "没有的类型",
                                           "stage_units": {}}, status=422)
    assert refused["code"] == "project.unknown_type"
    missing = office.post("/v1/projects", {"name": "城南污水处理厂", "owner": "区城投公司", "project_type": "政府投资项目",
                                           "stage_units": {"lixiang": DEV}}, status=422)
    assert missing["code"] == "project.invalid" and "yongdi" in missing["errors"]["stage_units"][0]
    p = office.post("/v1/projects", {"name": "城南污水处理厂", "owner": "区城投公司", "project_type": "政府投资项目",
                                     "stage_units": {"lixiang": DEV, "yongdi": FIN, "shigong": GOV},
                                     "case_grace_days": 2})
    path = f"/v1/projects/{p['project_id']}"
    # Monday 2026-03-02: 立项 entered, 5 working days → due Monday 03-09; completed Wednesday 03-04.
    assert office.post(f"{path}/enter-stage", {"stage": "lixiang"}, bearer("unit", unit=DEV), 200)["stages"][0][
        "due"] == "2026-03-09"
    assert office.post(f"{path}/enter-stage", {"stage": "yongdi"}, bearer("unit", unit=DEV), 403)["code"] == \
        "project.not_your_stage"
    office.day("2026-03-04")
    done = office.post(f"{path}/complete-stage", {"stage": "lixiang"}, bearer("unit", unit=DEV), 200)["stages"][0]
    assert (done["working_days"], done["on_time"]) == (2, True)
    again = office.post(f"{path}/complete-stage", {"stage": "lixiang"}, OFFICE, 409)
    assert again["state"] == "completed" and again["code"] == "project.stage_transition_refused"
    office.post(f"{path}/enter-stage", {"stage": "shigong", "on": "2026-03-04"}, OFFICE, 200)   # due 03-09
    office.day("2026-03-10")        # one working day past: within the grace of 2
    early = office.post(f"{path}/stages/shigong/open-case", {}, OFFICE, 422)
    assert early["code"] == "project.within_grace"
    office.day("2026-03-11")
    opened = office.post(f"{path}/stages/shigong/open-case", {}, OFFICE, 201)
    case = office.client.get(f"/v1/cases/{opened['case_id']}", headers=OFFICE).json
    assert (case["channel"], case["category"], case["subject_unit"]) == ("project_monitoring", "办事效率低", GOV)
    assert case["origin"] == {"system": "project_monitoring", "ref": f"{p['project_id']}/shigong",
                              "parent": p["project_id"]}
    assert office.post(f"{path}/stages/shigong/open-case", {}, OFFICE, 409)["state"] == "entered"

    carry(urls)
    client, _ = ledger
    detail = client.get(path, headers=bearer("unit", unit=GOV)).json
    assert [s["state"] for s in detail["stages"]] == ["completed", "not_entered", "entered"]
    assert detail["stages"][2]["case_id"] == opened["case_id"]
    assert client.get(path, headers=bearer("unit", unit="城关镇")).status_code == 404
    times = client.get("/v1/units/approval-times", headers=OFFICE).json["items"]
    assert {(r["unit"], r["stage"]): (r["completed"], r["median_working_days"], r["worst_working_days"], r["open"])
            for r in times} == {(DEV, "立项"): (1, 2.0, 2, 0), (GOV, "施工许可"): (0, None, None, 1)}
    assert client.get("/v1/units/approval-times", headers=bearer("channel", channel="hotline")).status_code == 403


def test_each_stage_says_what_the_caller_may_record_of_it_now(office):
    """A client offers per stage only what its reader may do: the office every stage, a unit its own."""
    office.client.put("/v1/project-types/政府投资项目", json={"stages": STAGES}, headers=OFFICE)
    p = office.post("/v1/projects", {"name": "城北学校", "owner": "区教育局", "project_type": "政府投资项目",
                                     "stage_units": {"lixiang": DEV, "yongdi": FIN, "shigong": DEV}})
    assert [s["allowed_commands"] for s in p["stages"]] == [["enter_stage"]] * 3
    path = f"/v1/projects/{p['project_id']}"
    entered = office.post(f"{path}/enter-stage", {"stage": "lixiang"}, bearer("unit", unit=DEV), 200)
    assert [s["allowed_commands"] for s in entered["stages"]] == [["complete_stage"], [], ["enter_stage"]]
    as_fin = office.client.get(path, headers=bearer("unit", unit=FIN)).json
    assert [s["allowed_commands"] for s in as_fin["stages"]] == [[], ["enter_stage"], []]
    office.post(f"{path}/complete-stage", {"stage": "lixiang"}, OFFICE, 200)
    as_office = office.client.get(path, headers=OFFICE).json
    assert [s["allowed_commands"] for s in as_office["stages"]] == [[], ["enter_stage"], ["enter_stage"]]
    assert [s["allowed_commands"] for s in office.client.get(path, headers=bearer("auditor")).json["stages"]] == \
        [[], [], []]


def _closed_case(office: Office, description: str, campaign_id: str) -> str:
    case_id = office.post("/v1/cases", complaint(description=description, campaign_id=campaign_id))["case_id"]
    office.post(f"/v1/cases/{case_id}/assign", {"lead_unit": GOV, "handling_mode": "deadline"}, status=200)
    office.post(f"/v1/cases/{case_id}/accept", {}, bearer("unit", unit=GOV), 200)
    office.post(f"/v1/cases/{case_id}/report-rectified", {"text": "已整改"}, bearer("unit", unit=GOV), 200)
    office.post(f"/v1/cases/{case_id}/close", {}, status=200)
    return case_id


def test_a_look_back_draws_reproducibly_and_a_rebound_opens_a_linked_case_counted_against_the_unit(office, urls, ledger):
    c = office.post("/v1/campaigns", campaign_body())["campaign_id"]
    cases = [_closed_case(office, f"窗口推诿第{i}件", c) for i in range(3)]
    t = office.post("/v1/tasks", task_body(c, milestones=[]))["task_id"]
    office.post(f"/v1/tasks/{t}/report-completion", {"note": "完成"}, bearer("unit", unit=GOV), 200)
    office.post(f"/v1/tasks/{t}/sign-off", {}, status=200)
    office.post("/v1/cases", complaint(description="尚未办结"))          # open: never a candidate
    carry(urls)

    office.day("2026-04-01")
    lb = office.post("/v1/lookbacks", {"title": "第一季度回头看", "ratio": 0.5, "campaign_id": c})
    assert sorted(x["id"] for x in lb["candidates"]) == sorted([*cases, t])
    # Anyone can recompute the draw from the event: the seed, each draw, the ⌈ratio × n⌉ lowest selected.
    lines = "\n".join(sorted(f"{x['kind']}:{x['id']}" for x in lb["candidates"]))
    assert lb["seed"] == f"{lb['nonce']}:{hashlib.sha256(lines.encode()).hexdigest()}"
    assert all(x["draw"] == draw(f"{lb['seed']}:{x['kind']}:{x['id']}") for x in lb["candidates"])
    lowest = sorted(lb["candidates"], key=lambda x: (x["draw"], x["kind"], x["id"]))[:math.ceil(0.5 * 4)]
    assert lb["selected"] == [x["id"] for x in lowest]
    # Findings are the office's to record: the auditor reading the look-back is offered none.
    assert lb["allowed_commands"] == ["record_finding"]
    as_auditor = office.client.get(f"/v1/lookbacks/{lb['lookback_id']}", headers=bearer("auditor")).json
    assert as_auditor["allowed_commands"] == []

    path = f"/v1/lookbacks/{lb['lookback_id']}/findings"
    not_drawn = next(x["id"] for x in lb["candidates"] if x["id"] not in lb["selected"])
    assert office.post(path, {"id": not_drawn, "outcome": "held", "note": "x"}, status=422)["code"] == \
        "lookback.not_drawn"
    held, rebounded = lb["selected"]
    office.post(path, {"id": held, "outcome": "held", "note": "整改成果巩固"})
    after = office.post(path, {"id": rebounded, "outcome": "rebounded", "note": "窗口推诿问题再次出现",
                               "category": "推诿扯皮"})
    assert after["status"] == "completed"
    new_case = after["findings"][-1]["case_id"]
    case = office.client.get(f"/v1/cases/{new_case}", headers=OFFICE).json
    assert (case["channel"], case["subject_unit"], case["campaign_id"]) == ("lookback", GOV, c)
    assert case["origin"]["ref"] == rebounded and case["origin"]["parent"] == lb["lookback_id"]
    assert office.post(path, {"id": held, "outcome": "held", "note": "x"}, status=409)["code"] == "lookback.completed"

    carry(urls)
    client, _ = ledger
    stats = {r["unit"]: r for r in client.get("/v1/units/stats", headers=OFFICE).json["items"]}
    assert (stats[GOV]["lookback_rebounds"], stats[GOV]["lookback_held"], stats[GOV]["tasks_signed_off"]) == (1, 1, 1)
    listed = client.get("/v1/lookbacks", headers=bearer("auditor"))
    assert listed.status_code == 200, listed.json
    assert [(x["lookback_id"], x["drawn"], x["held"], x["rebounded"]) for x in listed.json["items"]] == [
        (lb["lookback_id"], 2, 1, 1)]
    campaign = client.get(f"/v1/campaigns/{c}", headers=OFFICE).json
    assert {k: campaign["figures"][k] for k in ("cases_received", "cases_closed", "tasks", "tasks_signed_off",
                                                "lookback_drawn", "lookback_held", "lookback_rebounds")} == {
        "cases_received": 4, "cases_closed": 3, "tasks": 1, "tasks_signed_off": 1, "lookback_drawn": 2,
        "lookback_held": 1, "lookback_rebounds": 1}
    listed = client.get(f"/v1/lookbacks/{lb['lookback_id']}", headers=bearer("auditor")).json
    assert (listed["drawn"], listed["held"], listed["rebounded"]) == (2, 1, 1)
    assert client.get("/v1/lookbacks", headers=bearer("unit", unit=GOV)).status_code == 403
