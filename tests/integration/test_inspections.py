"""Inspections (明察暗访) and monitoring points (效能监测点) over intake's HTTP API on the real PostgreSQL;
their events through the real relay and broker to the ledger, notify and audit consumers."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from audit.adapters import trail
from intake.entrypoints.http import create_app
from ledger.adapters import repository as ledger
from notify.adapters import repository as notify
from zfcommon import db, kafka
from zfcommon.consumer import EventConsumer
from zfcommon.events.catalogue import CASE_TOPIC, INSPECTION_TOPIC, TOPICS, all_topics, dlq_topic
from zfcommon.relay import Relay

from ..conftest import settings_for
from ..support import bearer, group_consumer, read_topic
from .test_consumer import drain

pytestmark = pytest.mark.integration

TARGETS = ["县自然资源局", "县市场监管局"]
OTHER = "城关镇"
OFFICE = bearer("office")
NOW = datetime(2024, 5, 7, 2, 0, tzinfo=timezone.utc)       # 2024-05-07 10:00 in China
PHOTO = {"name": "窗口照片.jpg", "url": "https://files.example.cn/e/1.jpg", "sha256": "ab" * 32,
         "taken_at": "2024-05-07T09:30:00+08:00"}


def plan_body(**overrides) -> dict:
    return {"title": "政务服务窗口作风暗访", "mode": "unannounced", "target_units": TARGETS,
            "team": [{"name": "王组长", "role": "组长", "organisation": "县纪委监委"}],
            "starts_on": "2024-05-07", "ends_on": "2024-05-10", "focus": ["态度冷漠"], "note": "不打招呼,直插窗口",
            **overrides}


def finding_body(**overrides) -> dict:
    return {"unit": TARGETS[0], "category": "态度冷漠", "description": "不动产登记窗口人员上班时间玩手机,群众询问不理睬",
            "priority": "urgent", "location": {"address": "县政务服务中心二楼"}, "evidence": [PHOTO],
            "observed_on": "2024-05-07", **overrides}


class Clock:
    def __init__(self, path: Path):
        self.path = path
        self.set(NOW)

    def set(self, at: datetime) -> None:
        self.path.write_text(at.isoformat())


@pytest.fixture
def clock(tmp_path) -> Clock:
    return Clock(tmp_path / "now")


@pytest.fixture
def app(urls, clock):
    app = create_app(settings_for("intake", urls["intake"], clock_file=str(clock.path)))
    client = app.test_client()
    for name in [*TARGETS, OTHER]:
        assert client.post("/v1/directory/units", json={"name": name, "kind": "government_department",
                                                        "supervising_channel": "县监察局"}, headers=OFFICE).status_code == 200
    yield app
    app.extensions["zf_pool"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def count_events(admin_url: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.execute("SELECT count(*) FROM intake.events").fetchone()[0]


def plan(client, **overrides) -> dict:
    resp = client.post("/v1/inspections", json=plan_body(**overrides), headers=OFFICE)
    assert resp.status_code == 201, resp.json
    return resp.json


def problem(resp, status: int) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.json)
    assert resp.content_type == "application/problem+json"
    return resp.json


def test_each_finding_becomes_a_case_on_the_inspection_channel_linked_back(client, admin_url):
    inspection = plan(client)
    iid = inspection["inspection_id"]
    assert iid.startswith("inspection-") and inspection["status"] == "under_way"
    assert inspection["allowed_commands"] == ["record_finding", "complete", "cancel"]
    resp = client.post(f"/v1/inspections/{iid}/findings", json=finding_body(), headers=OFFICE)
    assert resp.status_code == 201, resp.json
    case_id = resp.json["case_id"]
    assert resp.headers["Location"] == f"/v1/cases/{case_id}" and resp.json["version"] == 2
    case = client.get(f"/v1/cases/{case_id}", headers=OFFICE).json
    assert resp.json["case_number"] == case["case_number"] and case["case_number"].endswith("-000001")
    assert case["channel"] == "inspection" and case["subject_unit"] == TARGETS[0] and case["priority"] == "urgent"
    assert case["origin"] == {"system": "inspection", "ref": resp.json["finding_id"], "parent": iid}
    seen = client.get(f"/v1/inspections/{iid}", headers=OFFICE)
    assert seen.headers["ETag"] == '"2"'
    [finding] = seen.json["findings"]
    assert finding["case_id"] == case_id and finding["evidence"] == [PHOTO] and finding["observed_on"] == "2024-05-07"
    assert finding["case_number"] == case["case_number"]
    with psycopg.connect(admin_url) as conn:
        streams = dict(conn.execute("SELECT stream_id, count(*) FROM intake.events WHERE stream_id <> 'directory'"
                                    " GROUP BY stream_id").fetchall())
        received = conn.execute("SELECT payload->'data' FROM intake.events WHERE stream_id = %s", (case_id,)).fetchone()[0]
    assert streams == {iid: 2, case_id: 1}
    assert received["attachments"] == [PHOTO]


def test_events_reach_the_broker_and_the_consumers_ledger_notify_and_audit(client, urls, broker):
    iid = plan(client)["inspection_id"]
    case_id = client.post(f"/v1/inspections/{iid}/findings", json=finding_body(), headers=OFFICE).json["case_id"]
    client.post(f"/v1/inspections/{iid}/complete", json={"summary": "发现问题1个"}, headers=OFFICE)
    relay = Relay(database_url=urls["intake"], bootstrap=broker.bootstrap, partitions=3)
    relay.check_broker()
    while relay.publish_batch():
        pass
    records = read_topic(broker.bootstrap, INSPECTION_TOPIC, 3)
    assert [json.loads(r.value)["type"] for r in records] == [
        "cn.zhengfeng.inspection.planned.v1", "cn.zhengfeng.inspection.finding_recorded.v1",
        "cn.zhengfeng.inspection.completed.v1"]
    assert {r.key for r in records} == {iid.encode()}
    assert case_id in {json.loads(r.value)["subject"] for r in read_topic(broker.bootstrap, CASE_TOPIC, 1)}

    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    for group, apply, batch, url in (("ledger", ledger.apply, None, urls["ledger"]),
                                     ("notify", notify.apply, None, urls["notify"]),
                                     ("audit", trail.apply, trail.apply_batch, urls["audit"])):
        consumer = EventConsumer(group=group, apply=apply, database_url=url, apply_batch=batch,
                                 kafka_consumer=group_consumer(broker.bootstrap, group, list(TOPICS)),
                                 dlq_producer=kafka.producer(broker.bootstrap))
        drain(consumer)
        consumer.consumer.close()
    with db.connect(urls["ledger"]) as conn:
        row = ledger.get_case(conn, case_id)
    assert row["channel"] == "inspection" and row["origin"]["parent"] == iid
    with db.connect(urls["audit"]) as conn:
        types = [r["type"] for r in conn.execute("SELECT type FROM trail WHERE subject = %s ORDER BY seq", (iid,))]
    assert types[0] == "cn.zhengfeng.inspection.planned.v1" and len(types) == 3
    with db.connect(urls["notify"]) as conn:
        assert conn.execute("SELECT count(*) AS n FROM watched_cases WHERE case_id = %s", (iid,)).fetchone()["n"] == 0
        assert conn.execute("SELECT count(*) AS n FROM watched_cases WHERE case_id = %s",
                            (case_id,)).fetchone()["n"] == 1
    assert read_topic(broker.bootstrap, dlq_topic(INSPECTION_TOPIC), 1, timeout=2) == []


def test_an_unannounced_plan_is_hidden_from_its_target_units_until_completed(client, clock):
    clock.set(NOW - timedelta(days=3))
    secret = plan(client)
    announced = plan(client, mode="announced", title="营商环境明察")
    iid = secret["inspection_id"]
    unit = bearer("unit", unit=TARGETS[0])

    def listed(headers) -> set[str]:
        return {i["inspection_id"] for i in client.get("/v1/inspections", headers=headers).json["items"]}
    assert listed(unit) == {announced["inspection_id"]}
    assert problem(client.get(f"/v1/inspections/{iid}", headers=unit), 404)["detail"] == f"没有检查 {iid}"
    assert listed(bearer("auditor")) == listed(OFFICE) == {iid, announced["inspection_id"]}
    assert listed(bearer("unit", unit=OTHER)) == set()

    clock.set(NOW)                                # under way: still hidden while the team is out
    client.post(f"/v1/inspections/{iid}/findings", json=finding_body(), headers=OFFICE)
    client.post(f"/v1/inspections/{iid}/findings", json=finding_body(unit=TARGETS[1]), headers=OFFICE)
    assert problem(client.get(f"/v1/inspections/{iid}", headers=unit), 404)
    assert client.post(f"/v1/inspections/{iid}/complete", json={}, headers=OFFICE).status_code == 200
    seen = client.get(f"/v1/inspections/{iid}", headers=unit).json
    assert seen["status"] == "completed" and seen["team"] is None and seen["note"] is None
    assert [f["unit"] for f in seen["findings"]] == [TARGETS[0]] and seen["allowed_commands"] == []
    assert client.get(f"/v1/inspections/{announced['inspection_id']}", headers=unit).json["team"][0]["name"] == "王组长"
    assert listed(unit) == {iid, announced["inspection_id"]}


def test_lists_filter_and_page(client):
    first = plan(client)["inspection_id"]
    second = plan(client, target_units=[OTHER], ends_on="2024-05-07")["inspection_id"]
    client.post(f"/v1/inspections/{second}/complete", json={}, headers=OFFICE)
    page = client.get("/v1/inspections?limit=1", headers=OFFICE).json
    assert [i["inspection_id"] for i in page["items"]] == [second] and page["next"]
    rest = client.get(f"/v1/inspections?limit=1&before={page['next']}", headers=OFFICE).json
    assert [i["inspection_id"] for i in rest["items"]] == [first]
    assert [i["inspection_id"] for i in client.get("/v1/inspections?status=completed", headers=OFFICE).json["items"]] \
        == [second]
    assert [i["inspection_id"] for i in client.get(f"/v1/inspections?unit={TARGETS[1]}",
                                                   headers=OFFICE).json["items"]] == [first]


def test_bad_plans_name_the_field_and_store_nothing(client, admin_url):
    before = count_events(admin_url)
    bad = problem(client.post("/v1/inspections", json=plan_body(target_units=["无此单位"], ends_on="2024-05-01",
                                                                 focus=["无此类别"]), headers=OFFICE), 422)
    assert set(bad["errors"]) == {"target_units", "ends_on", "focus"}
    bad = problem(client.post("/v1/inspections", json=plan_body(mode="secret", team=[], extra=1), headers=OFFICE), 422)
    assert {"mode", "team", "extra"} <= set(bad["errors"])
    assert count_events(admin_url) == before


def test_every_refused_finding_says_why_and_stores_nothing(client, admin_url, clock):
    clock.set(NOW - timedelta(days=1))
    iid = plan(client)["inspection_id"]
    url = f"/v1/inspections/{iid}/findings"
    before = count_events(admin_url)
    refused = problem(client.post(url, json=finding_body(), headers=OFFICE), 409)
    assert refused["state"] == "planned" and "2024-05-07" in refused["detail"]
    clock.set(NOW)
    assert problem(client.post(url, json=finding_body(unit=OTHER), headers=OFFICE), 422)["errors"] == {
        "unit": [f"不是此次检查的对象单位：{OTHER}"]}
    assert "category" in problem(client.post(url, json=finding_body(category="无此类别"), headers=OFFICE), 422)["errors"]
    assert "observed_on" in problem(client.post(url, json=finding_body(observed_on="2024-05-01"), headers=OFFICE),
                                    422)["errors"]
    bad = problem(client.post(url, json=finding_body(evidence=[{"name": "x", "url": "ftp://x", "sha256": "XYZ"}]),
                              headers=OFFICE), 422)
    assert "evidence" in bad["errors"] or any(k.startswith("evidence") for k in bad["errors"])
    assert problem(client.post("/v1/inspections/inspection-nope/findings", json=finding_body(), headers=OFFICE),
                   404)["detail"] == "没有这个检查：inspection-nope"
    assert count_events(admin_url) == before
    assert client.post(url, json=finding_body(), headers=OFFICE).status_code == 201
    refused = problem(client.post(f"/v1/inspections/{iid}/cancel", json={"reason": "取消"}, headers=OFFICE), 409)
    assert refused["state"] == "under_way" and "请改为完成检查" in refused["detail"]
    client.post(f"/v1/inspections/{iid}/complete", json={}, headers=OFFICE)
    refused = problem(client.post(url, json=finding_body(), headers=OFFICE), 409)
    assert refused["state"] == "completed" and refused["allowed"] == []
    assert problem(client.post(f"/v1/inspections/{iid}/complete", json={}, headers=OFFICE), 409)["state"] == "completed"


def test_a_case_id_is_not_an_inspection(client):
    case_id = client.post("/v1/cases", json={"channel": "hotline", "category": "推诿扯皮", "description": "推诿",
                                             "subject_unit": TARGETS[0]}, headers=OFFICE).json["case_id"]
    problem(client.get(f"/v1/inspections/{case_id}", headers=OFFICE), 404)
    problem(client.get(f"/v1/monitoring-points/{case_id}", headers=OFFICE), 404)


def test_if_match_and_idempotency_key(client, admin_url):
    iid = plan(client)["inspection_id"]
    url = f"/v1/inspections/{iid}/findings"
    stale = problem(client.post(url, json=finding_body(), headers={**OFFICE, "If-Match": '"7"'}), 409)
    assert stale["stream_id"] == iid
    problem(client.post(url, json=finding_body(), headers={**OFFICE, "If-Match": "x"}), 422)
    key = {**OFFICE, "Idempotency-Key": "finding-1", "If-Match": '"1"'}
    first = client.post(url, json=finding_body(), headers=key)
    again = client.post(url, json=finding_body(), headers=key)
    assert again.status_code == 201 and again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get(f"/v1/inspections/{iid}", headers=OFFICE).json["findings"]) == 1
    problem(client.post(url, json=finding_body(description="另一个问题"), headers=key), 422)
    for path, body in (("/v1/inspections", plan_body()), (f"/v1/inspections/{iid}/complete", {"summary": "完成"})):
        key = {**OFFICE, "Idempotency-Key": f"key-{path}"}
        first, again = client.post(path, json=body, headers=key), client.post(path, json=body, headers=key)
        assert first.status_code in (200, 201) and again.json == first.json, (first.json, again.json)
        assert again.headers["Idempotent-Replayed"] == "true" and again.json["planned_at"].endswith("+00:00")
    assert len(client.get("/v1/inspections", headers=OFFICE).json["items"]) == 2


def test_concurrent_findings_on_one_inspection_all_land(app, admin_url):
    iid = plan(app.test_client())["inspection_id"]
    codes: list[int] = []

    def record(i: int) -> None:
        resp = app.test_client().post(f"/v1/inspections/{iid}/findings",
                                      json=finding_body(description=f"问题{i}"), headers=OFFICE)
        codes.append(resp.status_code)
    threads = [threading.Thread(target=record, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [201, 201, 201]
    findings = app.test_client().get(f"/v1/inspections/{iid}", headers=OFFICE).json["findings"]
    assert len({f["case_id"] for f in findings}) == 3


def register_point(client, **overrides) -> dict:
    resp = client.post("/v1/monitoring-points", json={
        "name": "县政务服务中心企业监测点", "kind": "enterprise", "organisation": "某某建材有限公司",
        "watched_units": TARGETS[:1], **overrides}, headers=OFFICE)
    assert resp.status_code == 201, resp.json
    return resp.json


def test_a_monitoring_point_submits_with_its_own_token_and_each_submission_is_a_case(client):
    pid = register_point(client)["point_id"]
    own = bearer("channel", sub=pid, channel="monitoring_point")
    resp = client.post(f"/v1/monitoring-points/{pid}/submissions", json=finding_body(), headers=own)
    assert resp.status_code == 201, resp.json
    case = client.get(f"/v1/cases/{resp.json['case_id']}", headers=OFFICE).json
    assert case["channel"] == "monitoring_point" and case["case_number"] == resp.json["case_number"]
    assert case["origin"] == {"system": "monitoring_point", "ref": resp.json["submission_id"], "parent": pid}
    point = client.get(f"/v1/monitoring-points/{pid}", headers=own).json
    assert [s["case_id"] for s in point["submissions"]] == [resp.json["case_id"]]
    other = bearer("channel", sub="monitoring-point-other", channel="monitoring_point")
    problem(client.post(f"/v1/monitoring-points/{pid}/submissions", json=finding_body(), headers=other), 403)
    problem(client.get(f"/v1/monitoring-points/{pid}", headers=other), 403)
    # A point reads the cases it submitted, not the other points' cases on the same channel.
    assert client.get(f"/v1/cases/{resp.json['case_id']}", headers=own).status_code == 200
    problem(client.get(f"/v1/cases/{resp.json['case_id']}", headers=other), 404)
    problem(client.get("/v1/monitoring-points", headers=bearer("unit", unit=TARGETS[0])), 403)
    assert [p["point_id"] for p in client.get("/v1/monitoring-points", headers=bearer("auditor")).json["items"]] == [pid]


def test_refused_submissions_name_the_field_or_the_state(client, admin_url):
    pid = register_point(client)["point_id"]
    url = f"/v1/monitoring-points/{pid}/submissions"
    problem(client.post("/v1/monitoring-points", json={"name": "x", "kind": "bank", "watched_units": ["无此单位"]},
                        headers=OFFICE), 422)
    before = count_events(admin_url)
    assert problem(client.post(url, json=finding_body(unit=TARGETS[1]), headers=OFFICE), 422)["errors"] == {
        "unit": [f"不在此监测点监测的单位之列：{TARGETS[1]}"]}
    assert "category" in problem(client.post(url, json=finding_body(category="无此类别"), headers=OFFICE), 422)["errors"]
    assert count_events(admin_url) == before
    key = {**OFFICE, "Idempotency-Key": "deactivate-1"}
    first = client.post(f"/v1/monitoring-points/{pid}/deactivate", json={"reason": "企业已搬迁"}, headers=key)
    again = client.post(f"/v1/monitoring-points/{pid}/deactivate", json={"reason": "企业已搬迁"}, headers=key)
    assert first.json["status"] == "deactivated" and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    refused = problem(client.post(url, json=finding_body(), headers=OFFICE), 409)
    assert refused["state"] == "deactivated"
    assert problem(client.post(f"/v1/monitoring-points/{pid}/deactivate", json={"reason": "再次"}, headers=OFFICE),
                   409)["state"] == "deactivated"
    assert client.get("/v1/monitoring-points?status=active", headers=OFFICE).json["items"] == []
