"""intake over HTTP (Flask test client) on the real PostgreSQL."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import psycopg
import pytest

from intake.entrypoints.http import create_app
from zfcommon.workdays import local_date

from ..conftest import settings_for, tracking_code
from ..support import bearer, complaint

pytestmark = pytest.mark.integration


@pytest.fixture
def client(urls):
    app = create_app(settings_for("intake", urls["intake"]))
    yield app.test_client()
    app.extensions["zf_pool"].close()


def count(admin_url: str, table: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.execute(f"SELECT count(*) FROM intake.{table}").fetchone()[0]


def test_a_complaint_is_received_with_its_id_and_location(client, admin_url):
    resp = client.post("/v1/cases", json=complaint(), headers=bearer())
    assert resp.status_code == 201
    case_id = resp.json["case_id"]
    assert resp.headers["Location"] == f"/v1/cases/{case_id}"
    year = local_date(datetime.now(timezone.utc)).year
    assert resp.json == {"case_id": case_id, "case_number": f"ZF-{year}-000001", "status": "received", "version": 1,
                         "tracking_code": tracking_code(case_id)}     # 查询码: with the number, on /public/track
    state = client.get(resp.headers["Location"], headers=bearer()).json
    assert state["status"] == "received" and state["subject_unit"] == "县自然资源局"
    assert state["case_number"] == f"ZF-{year}-000001"
    assert count(admin_url, "events") == 1 and count(admin_url, "outbox") == 1


def test_the_complainant_is_sealed_in_the_store_and_only_the_office_reads_it(client, admin_url):
    case_id = client.post("/v1/cases", json=complaint(), headers=bearer()).json["case_id"]
    with psycopg.connect(admin_url) as conn:
        stored = conn.execute("SELECT payload::text FROM intake.events").fetchone()[0]
    assert "13807391234" not in stored and "李某" not in stored
    seen = client.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "核实"}, headers=bearer()).json
    assert seen["complainant"]["phone"] == "13807391234"
    assert client.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "核实"},
                       headers=bearer("auditor")).status_code == 403


def test_an_anonymous_complaint_is_welcome(client):
    resp = client.post("/v1/cases", json=complaint(complainant=None), headers=bearer())
    assert resp.status_code == 201


def test_bad_input_names_each_bad_field_and_stores_nothing(client, admin_url):
    resp = client.post("/v1/cases", json={"channel": "fax", "description": "", "extra": 1,
                                          "location": {"lat": 123}}, headers=bearer())
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    assert {"channel", "description", "category", "subject_unit", "extra", "location"} <= set(resp.json["errors"])
    assert count(admin_url, "events") == 0


def test_a_body_that_is_not_json_is_a_clear_error(client, admin_url):
    resp = client.post("/v1/cases", data="{not json", headers={**bearer(), "Content-Type": "application/json"})
    assert resp.status_code in (400, 422)
    assert resp.content_type == "application/problem+json"
    assert count(admin_url, "events") == 0


def test_requests_without_a_valid_token_are_refused(client):
    assert client.post("/v1/cases", json=complaint()).status_code == 401
    assert client.post("/v1/cases", json=complaint(), headers=bearer(secret="x" * 40)).status_code == 401
    assert client.post("/v1/cases", json=complaint(), headers=bearer("auditor")).status_code == 403


def test_a_channel_submits_only_on_its_own_channel(client):
    assert client.post("/v1/cases", json=complaint(), headers=bearer("channel", channel="hotline")).status_code == 201
    resp = client.post("/v1/cases", json=complaint(channel="media"), headers=bearer("channel", channel="hotline"))
    assert resp.status_code == 403


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_writes_nothing(client, admin_url):
    headers = {**bearer(), "Idempotency-Key": "order-317"}
    first = client.post("/v1/cases", json=complaint(), headers=headers)
    again = client.post("/v1/cases", json=complaint(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(admin_url, "events") == 1


def test_the_same_key_for_a_different_request_is_refused(client, admin_url):
    headers = {**bearer(), "Idempotency-Key": "order-318"}
    client.post("/v1/cases", json=complaint(), headers=headers)
    resp = client.post("/v1/cases", json=complaint(description="别的问题"), headers=headers)
    assert resp.status_code == 422 and "Idempotency-Key" in resp.json["errors"]
    assert count(admin_url, "events") == 1


def test_concurrent_requests_with_one_key_create_one_case(urls, admin_url):
    app = create_app(settings_for("intake", urls["intake"]))
    headers = {**bearer(), "Idempotency-Key": "burst-1"}
    answers, barrier = [], threading.Barrier(6)

    def post():
        c = app.test_client()
        barrier.wait()
        answers.append(c.post("/v1/cases", json=complaint(), headers=headers))
    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    app.extensions["zf_pool"].close()
    assert {a.status_code for a in answers} == {201}
    assert len({a.json["case_id"] for a in answers}) == 1
    assert count(admin_url, "events") == 1


def test_health_openapi_and_metrics_are_served(client):
    assert client.get("/healthz").json["status"] == "ok"
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/v1/cases" in spec["paths"]
    assert "CaseIn" in spec["components"]["schemas"]
    client.post("/v1/cases", json=complaint(), headers=bearer())
    text = client.get("/metrics").data.decode()
    assert "zf_http_requests_total" in text and "zf_relay_backlog 1.0" in text
