"""Campaigns (专项行动) and tasks (任务分解) over intake's HTTP API on the real PostgreSQL: launched with
phases derived from the clock, tasks refused without the five haves, worked by their units, signed off;
cases put in a campaign; every event through the ledger's projection (docs/CAMPAIGNS.md)."""
from __future__ import annotations

import hashlib
import io
from datetime import datetime, timezone
from pathlib import Path

import pytest

from intake.entrypoints.http import create_app
from ledger.entrypoints.http import create_app as ledger_app
from zfcommon import db

from ..conftest import settings_for
from ..support import bearer, carry, complaint

pytestmark = pytest.mark.integration
GOV, DEV, FIN = "区政府办", "区发改委", "区财政局"
OFFICE, AUDITOR = bearer("office"), bearer("auditor")
GOV_UNIT, DEV_UNIT, FIN_UNIT = (bearer("unit", unit=u) for u in (GOV, DEV, FIN))
PHASES = [{"name": "学习教育、深化认识阶段", "starts_on": "2026-02-09", "ends_on": "2026-02-28"},
          {"name": "分项推进、全面实施阶段", "starts_on": "2026-03-01", "ends_on": "2026-10-31"},
          {"name": "总结考核、完善提高阶段", "starts_on": "2026-11-01", "ends_on": "2026-12-30"}]


def campaign_body(**overrides) -> dict:
    return {"name": "机关效能—项目建设年", "lead_office": "区委", "starts_on": "2026-02-09",
            "ends_on": "2026-12-30", "phases": PHASES, "categories": ["办事效率低"], **overrides}


def task_body(campaign_id: str, **overrides) -> dict:
    return {"title": "推进项目建设", "target": "抓好“八个一批”", "lead_unit": GOV, "cooperating_units": [DEV],
            "responsible_leader": "张副区长", "measures": "向上争项目、向外引项目", "monitor": "区纪委（监察局）",
            "deadline": "2026-10-31", "milestones": [{"name": "储备项目包装", "due": "2026-05-29"}],
            "campaign_id": campaign_id, "phase": 2, "number": "1", **overrides}


class Office:
    """intake's app on a fresh database, its clock in a file; `post` asserts the status."""

    def __init__(self, url: str, clock: Path, **settings: str):
        self.clock = clock
        self.day("2026-03-02")
        self.app = create_app(settings_for("intake", url, clock_file=str(clock), **settings))
        self.client = self.app.test_client()
        for unit in (GOV, DEV, FIN):
            self.post("/v1/directory/units", {"name": unit, "kind": "government_department",
                                              "supervising_channel": "区纪委"}, status=200)

    def day(self, day: str) -> None:
        self.clock.write_text(f"{day}T09:00:00+08:00")

    def post(self, path: str, body: dict, headers=OFFICE, status: int = 201) -> dict:
        r = self.client.post(path, json=body, headers=headers)
        assert r.status_code == status, (path, r.status_code, r.json)
        return r.json


@pytest.fixture
def office(urls, tmp_path):
    o = Office(urls["intake"], tmp_path / "now")
    yield o
    o.app.extensions["zf_pool"].close()


def test_a_campaign_is_launched_and_its_phase_follows_the_clock(office):
    c = office.post("/v1/campaigns", campaign_body())
    assert c["phase"]["state"] == "in_phase" and c["phase"]["label"] == "第二阶段"
    office.day("2026-11-02")
    again = office.client.get(f"/v1/campaigns/{c['campaign_id']}", headers=GOV_UNIT).json
    assert again["phase"]["name"] == "总结考核、完善提高阶段"
    refused = office.post("/v1/campaigns", campaign_body(ends_on="2026-10-01"), status=422)
    assert refused["code"] == "campaign.invalid" and "phases.2" in refused["errors"]
    assert office.client.get(f"/v1/campaigns/{c['campaign_id']}", headers=bearer("channel", channel="hotline")
                             ).status_code == 403


def test_the_office_revises_the_plan_with_a_reason_and_the_ledger_follows(office, urls):
    c = office.post("/v1/campaigns", campaign_body())
    path = f"/v1/campaigns/{c['campaign_id']}"
    extended = [PHASES[0], {**PHASES[1], "ends_on": "2026-11-15"}, {**PHASES[2], "starts_on": "2026-11-16"}]
    body = campaign_body(phases=extended, reason="区委办发〔2026〕5号：推进阶段延至11月15日")
    assert office.post(f"{path}/revise", body, GOV_UNIT, 403)["status"] == 403
    stale = office.client.post(f"{path}/revise", json=body, headers={**OFFICE, "If-Match": '"7"'})
    assert stale.status_code in (409, 412)
    r = office.post(f"{path}/revise", body, status=200)
    assert r["version"] == 2 and r["phases"][1]["ends_on"] == "2026-11-15"
    assert [x["reason"] for x in r["revisions"]] == [body["reason"]] and r["revisions"][0]["at"]
    office.day("2026-11-10")
    assert office.client.get(path, headers=OFFICE).json["phase"]["label"] == "第二阶段"
    shrunk = office.post(f"{path}/revise", campaign_body(phases=PHASES[:2], ends_on="2026-10-31", reason="缩短"),
                         status=422)
    assert shrunk["code"] == "campaign.invalid" and "phases" in shrunk["errors"] and "不能删除" in shrunk["detail"]
    missing = office.post(f"{path}/revise", campaign_body(phases=extended), status=422)
    assert "reason" in missing["errors"]

    carry(urls)
    ledger = ledger_app(settings_for("ledger", urls["ledger"])).test_client()
    row = ledger.get(f"/v1/campaigns/{c['campaign_id']}", headers=OFFICE).json
    assert row["version"] == 2 and row["phases"][1]["ends_on"] == "2026-11-15"


def test_a_task_without_the_five_haves_is_refused_naming_what_is_missing(office):
    c = office.post("/v1/campaigns", campaign_body())
    refused = office.post("/v1/tasks", task_body(c["campaign_id"], target=None, monitor="", deadline=None), status=422)
    assert refused["code"] == "task.five_haves_missing"
    assert refused["missing"] == ["target", "monitoring", "deadline"]
    assert set(refused["errors"]) == {"target", "monitor", "deadline"}
    assert "有工作目标" in refused["detail"] and "不能下达" in refused["detail"]
    unknown = office.post("/v1/tasks", task_body("campaign-nope"), status=422)
    assert unknown["code"] == "campaign.not_found"


def test_units_work_their_task_the_office_signs_it_off_and_the_ledger_keeps_up(office, urls):
    c = office.post("/v1/campaigns", campaign_body())
    t = office.post("/v1/tasks", task_body(c["campaign_id"]))
    assert t["allowed_commands"] == ["report_progress", "reach_milestone", "report_completion", "cancel"]
    path = f"/v1/tasks/{t['task_id']}"
    assert office.client.get(path, headers=FIN_UNIT).status_code == 404           # not its task
    assert office.client.get(path, headers=DEV_UNIT).json["allowed_commands"] == ["report_progress"]
    office.post(f"{path}/report-progress", {"note": "召开推进会"}, DEV_UNIT, 200)
    assert office.post(f"{path}/reach-milestone", {"milestone": 1, "note": "x"}, DEV_UNIT, 403)["code"] == \
        "task.not_your_task"
    office.day("2026-05-28")
    office.post(f"{path}/reach-milestone", {"milestone": 1, "note": "储备项目已包装"}, GOV_UNIT, 200)
    refused = office.post(f"{path}/sign-off", {}, OFFICE, 409)
    assert refused["state"] == "in_progress" and refused["code"] == "task.transition_refused"
    office.day("2026-10-30")
    done = office.post(f"{path}/report-completion", {"note": "全部完成", "evidence": [
        {"name": "总结.pdf", "url": "https://files.example.cn/t/1.pdf"}]}, GOV_UNIT, 200)
    assert done["status"] == "completion_reported" and done["completion"]["on_time"] is True
    assert office.post(f"{path}/sign-off", {"comment": "同意销号"}, OFFICE, 200)["status"] == "signed_off"

    carry(urls)
    ledger = ledger_app(settings_for("ledger", urls["ledger"])).test_client()
    row = ledger.get(path, headers=OFFICE).json
    assert (row["status"], row["signed_off_on_time"], row["campaign_id"]) == ("signed_off", True, c["campaign_id"])
    assert [m["on_time"] for m in row["milestones"]] == [True] and row["milestones"][0]["reached_at"]
    assert [e["type"].split(".")[3] for e in row["timeline"]] == [
        "issued", "progress_reported", "milestone_reached", "completion_reported", "signed_off"]


def test_a_tasks_units_upload_evidence_and_every_reader_of_the_task_gets_the_same_bytes(office):
    """The evidence a unit names in its completion report is a file intake keeps, read by whoever reads the task."""
    c = office.post("/v1/campaigns", campaign_body())
    t = office.post("/v1/tasks", task_body(c["campaign_id"], milestones=[]))
    path = f"/v1/tasks/{t['task_id']}/files"
    summary = "项目建设总结".encode() * 50
    stored = office.client.post(path, headers={**GOV_UNIT, "Idempotency-Key": "e1"},
                                data={"file": (io.BytesIO(summary), "总结.pdf", "application/pdf")})
    assert stored.status_code == 201, stored.json
    assert stored.json["task_id"] == t["task_id"] and stored.json["sha256"] == hashlib.sha256(summary).hexdigest()
    url = stored.json["url"].removeprefix("http://localhost")
    for reader in (OFFICE, AUDITOR, GOV_UNIT, DEV_UNIT):
        got = office.client.get(url, headers=reader)
        assert got.status_code == 200 and got.data == summary and got.mimetype == "application/pdf"
    assert office.client.get(url, headers=FIN_UNIT).status_code == 404                 # not its task
    assert office.client.post(path, headers=FIN_UNIT, data={"file": (io.BytesIO(b"x"), "a.txt")}).status_code == 404
    assert office.client.get(url.replace(t["task_id"], "task-none"), headers=OFFICE).status_code == 404
    case_path = url.replace("/v1/tasks/", "/v1/cases/")              # a task is no case, its file no case's
    assert office.client.get(case_path, headers=OFFICE).status_code == 404
    assert office.client.get(f"/v1/cases/{t['task_id']}", headers=OFFICE).status_code == 404
    empty = office.client.post(path, headers=GOV_UNIT, data={"file": (io.BytesIO(b""), "a.txt")})
    assert empty.status_code == 422 and list(empty.json["errors"]) == ["file"]
    done = office.post(f"/v1/tasks/{t['task_id']}/report-completion", {"note": "全部完成", "evidence": [
        {k: stored.json[k] for k in ("name", "url", "sha256")}]}, GOV_UNIT, 200)
    assert done["completion"]["evidence"][0]["sha256"] == stored.json["sha256"]


def test_a_case_joins_a_campaign_on_receipt_or_later_and_the_ledger_filters_by_it(office, urls):
    c = office.post("/v1/campaigns", campaign_body())
    first = office.post("/v1/cases", complaint(campaign_id=c["campaign_id"]))
    second = office.post("/v1/cases", complaint(description="审批超时限"))
    assert office.post("/v1/cases", complaint(campaign_id="campaign-none"), status=422)["errors"]["campaign_id"]
    office.post(f"/v1/cases/{second['case_id']}/set-campaign", {"campaign_id": c["campaign_id"]}, status=200)
    again = office.post(f"/v1/cases/{second['case_id']}/set-campaign", {"campaign_id": c["campaign_id"]}, status=422)
    assert "campaign_id" in again["errors"]
    office.post("/v1/cases", complaint(description="不在专项行动中"))
    carry(urls)
    ledger = ledger_app(settings_for("ledger", urls["ledger"])).test_client()
    listed = ledger.get(f"/v1/cases?campaign={c['campaign_id']}", headers=OFFICE).json["items"]
    assert sorted(i["case_id"] for i in listed) == sorted([first["case_id"], second["case_id"]])
    with db.connect(urls["ledger"]) as conn:
        assert conn.execute("SELECT count(*) AS n FROM cases").fetchone()["n"] == 3


def test_the_office_sees_duplicate_suggestions_with_why_and_confirms_or_dismisses_them(office, urls):
    at = {"address": "县政务服务中心二楼不动产登记窗口"}
    first = office.post("/v1/cases", complaint(description="到县政务服务中心二楼不动产登记窗口办理不动产登记，"
                                                           "窗口说要先去别的部门开证明，来回跑了5趟都没办成。",
                                               location=at))["case_id"]
    office.day("2026-03-04")
    second = office.post("/v1/cases", complaint(description="我办不动产登记被踢皮球，政务中心2楼不动产窗口让我去别处，"
                                                            "别处又叫我回来，前后跑了5回。",
                                                location={"address": "政务中心2楼不动产窗口"}))["case_id"]
    third = office.post("/v1/cases", complaint(description="我办不动产登记被推来推去，跑了5趟，窗口让找别的部门。",
                                               location=at))["case_id"]
    office.post("/v1/cases", complaint(description="县人社局三楼办社保卡补办，工作人员上班玩手机。",
                                       subject_unit="县人社局"))
    carry(urls)
    ledger = ledger_app(settings_for("ledger", urls["ledger"])).test_client()
    path = f"/v1/cases/{first}/duplicate-suggestions"
    found = ledger.get(path, headers=OFFICE).json
    assert {s["case_id"] for s in found["items"]} == {second, third}
    best = found["items"][0]
    assert best["score"] >= found["threshold"] and "被反映单位相同（县自然资源局）" in best["why"]
    numbers = {c: office.client.get(f"/v1/cases/{c}", headers=OFFICE).json["case_number"] for c in (second, third)}
    assert {s["case_id"]: s["case_number"] for s in found["items"]} == numbers     # what people read and quote
    assert ledger.get(path, headers=GOV_UNIT).status_code == 403
    assert ledger.get("/v1/cases/nope/duplicate-suggestions", headers=OFFICE).status_code == 404

    office.post(f"/v1/cases/{first}/dismiss-duplicate", {"candidate_case_id": third, "score": 0.5,
                                                         "reason": "另一件事"}, status=200)
    office.post(f"/v1/cases/{second}/merge", {"into_case_id": first, "reason": "同一诉求"}, status=200)
    carry(urls)
    assert ledger.get(path, headers=OFFICE).json["items"] == []
    again = office.post(f"/v1/cases/{first}/dismiss-duplicate", {"candidate_case_id": third}, status=422)
    assert "candidate_case_id" in again["errors"]


def test_a_busy_window_still_scores_the_nearest_cases_and_those_of_the_same_unit(office, urls, monkeypatch):
    """More open cases in the window than are scored (POOL, 2 here): the nearest in time on either side and
    those naming the same unit are, so neither a duplicate received just before the case nor one about the
    same unit weeks earlier is lost behind newer unrelated cases (only the newest were scored before)."""
    from ledger.service_layer import plan_views
    monkeypatch.setattr(plan_views, "POOL", 2)
    text = "到县政务服务中心二楼不动产登记窗口办理不动产登记，窗口说要先去别的部门开证明，来回跑了5趟都没办成。"
    office.day("2026-03-02")
    same_unit = office.post("/v1/cases", complaint(description="我办不动产登记被踢皮球，政务中心2楼不动产窗口让我去"
                                                               "别处，别处又叫我回来，前后跑了5回。"))["case_id"]
    other = [office.post("/v1/cases", complaint(description=f"县人社局{i}楼办社保卡补办，工作人员上班玩手机。",
                                                subject_unit="县人社局"))["case_id"] for i in range(3)]
    office.day("2026-03-09")
    just_before = office.post("/v1/cases", complaint(description=text, subject_unit="县政务服务中心"))["case_id"]
    office.day("2026-03-10")
    case = office.post("/v1/cases", complaint(description=text))["case_id"]
    office.day("2026-03-11")
    other += [office.post("/v1/cases", complaint(description=f"县医保局{i}号窗口报销材料反复退回。",
                                                 subject_unit="县医保局"))["case_id"] for i in range(3)]
    carry(urls)
    ledger = ledger_app(settings_for("ledger", urls["ledger"])).test_client()
    found = ledger.get(f"/v1/cases/{case}/duplicate-suggestions", headers=OFFICE).json["items"]
    assert {s["case_id"] for s in found} == {just_before, same_unit}
    assert not {s["case_id"] for s in found} & set(other)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_task_table_is_imported_with_the_ledger_imports_rules(urls, tmp_path):
    from .. import seed004
    o = Office(urls["intake"], tmp_path / "clock")
    try:
        for unit in seed004.UNITS:
            o.post("/v1/directory/units", {"name": unit, "kind": "government_department",
                                           "supervising_channel": "区纪委"}, status=200)
        c = o.post("/v1/campaigns", seed004.CAMPAIGN)["campaign_id"]

        def send(table, query):
            return o.client.post(f"/v1/task-imports?campaign_id={c}&{query}", data=seed004.workbook(table),
                                 content_type=XLSX, headers=OFFICE)
        broken = seed004.rows(**{"5": {"监察评估": "", "推进措施": ""}, "9": {"完成时限": "十月底"}})
        dry = send(broken, "dry_run=true")
        assert dry.status_code == 200 and dry.json["counts"] == {"rows": 12, "ok": 10, "error": 2, "duplicate": 0,
                                                                 "imported": 0}
        by_serial = {r["serial"]: r for r in dry.json["rows"]}
        assert set(by_serial["5"]["errors"]) == {"推进措施", "监察评估"} and "完成时限" in by_serial["9"]["errors"]
        assert send(broken, "").status_code == 422                        # all or nothing: nothing stored
        done = send(seed004.rows(), "")
        assert done.status_code == 201 and done.json["counts"]["imported"] == 12
        task_id = next(r["task_id"] for r in done.json["rows"] if r["serial"] == "1")
        task = o.client.get(f"/v1/tasks/{task_id}", headers=OFFICE).json
        assert (task["lead_unit"], task["phase"], task["campaign_id"], task["deadline"]) == ("区政府办", 2, c,
                                                                                             "2026-10-30")
        assert task["cooperating_units"][:2] == ["区发改委", "区招商局"]
        again = send(seed004.rows(), "")
        assert again.status_code == 201 and again.json["counts"] == {"rows": 12, "ok": 0, "error": 0, "duplicate": 12,
                                                                     "imported": 0}
        record = o.client.get(f"/v1/task-imports/{done.json['import_id']}", headers=bearer("auditor")).json
        assert record["kind"] == "tasks" and record["counts"]["imported"] == 12
        assert o.client.get(f"/v1/imports/{done.json['import_id']}", headers=OFFICE).status_code == 404
    finally:
        o.app.extensions["zf_pool"].close()
