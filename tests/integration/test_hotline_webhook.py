"""POST /v1/hooks/hotline: the 12345 hotline's signed work orders, on the real PostgreSQL (Flask test
client, and once through a real gunicorn over HTTP)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
import requests
import standardwebhooks

from intake.entrypoints.http import create_app
from zfcommon import webhooks
from zfcommon.devstack.ports import free_port, wait_for_port

from ..conftest import CONTACT_KEY, JWT_SECRET, settings_for, tracking_code
from ..support import bearer, hotline_order

pytestmark = pytest.mark.integration

SECRET, NEXT_SECRET = webhooks.new_secret(), webhooks.new_secret()
PATH = "/v1/hooks/hotline"
ORDER_NO = "SY12345-20261123-000317"


def encode(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def signed(body: bytes, secrets=(SECRET,), msg_id: str | None = None, at: float | None = None) -> dict[str, str]:
    stamp = int(time.time() if at is None else at)
    return {**webhooks.sign(secrets, msg_id or f"msg_{uuid.uuid4().hex}", stamp, body).as_dict(),
            "Content-Type": "application/json"}


def deliver(client, doc=None, *, body: bytes | None = None, **sign_args):
    body = encode(hotline_order() if doc is None else doc) if body is None else body
    return client.post(PATH, data=body, headers=signed(body, **sign_args))


def count(admin_url: str, table: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.execute(f"SELECT count(*) FROM intake.{table}").fetchone()[0]


def stored_nothing(admin_url: str) -> bool:
    return [count(admin_url, t) for t in ("events", "hotline_orders", "idempotency_keys")] == [0, 0, 0]


def make_client(url: str, secrets: str = SECRET):
    app = create_app(settings_for("intake", url, hotline_webhook_secrets=secrets))
    return app, app.test_client()


@pytest.fixture
def client(urls):
    app, test_client = make_client(urls["intake"])
    yield test_client
    app.extensions["zf_pool"].close()


def test_a_complaint_order_opens_a_hotline_case_that_carries_the_order_number(client, admin_url):
    resp = deliver(client)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    case_id = resp.json["case_id"]
    assert resp.json == {"case_id": case_id, "case_number": resp.json["case_number"], "order_no": ORDER_NO,
                         "status": "received", "tracking_code": tracking_code(case_id)}
    assert re.fullmatch(r"ZF-20\d\d-000001", resp.json["case_number"])
    assert resp.headers["Location"] == f"/v1/cases/{case_id}"
    case = client.get(f"/v1/cases/{case_id}", headers=bearer()).json
    assert (case["channel"], case["subject_unit"], case["priority"]) == ("hotline", "县自然资源局", "normal")
    assert case["origin"]["system"] == "hotline" and case["origin"]["ref"] == ORDER_NO
    assert case["origin"]["extra"]["time_limit_workdays"] == 5 and case["origin"]["extra"]["intake_channel"] == "电话"
    with psycopg.connect(admin_url) as conn:
        payload = conn.execute("SELECT payload::text FROM intake.events").fetchone()[0]
        actor = conn.execute("SELECT payload->>'actor' FROM intake.events").fetchone()[0]
        assert conn.execute("SELECT case_id FROM intake.hotline_orders WHERE order_no = %s",
                            (ORDER_NO,)).fetchone()[0] == case_id
    assert "13807391234" not in payload and "李某" not in payload, "the caller travels sealed"
    assert actor == "channel:hotline-webhook"


def test_the_caller_is_sealed_and_only_the_office_reads_it_with_the_confidentiality_flag(client):
    case_id = deliver(client).json["case_id"]
    seen = client.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "核实"}, headers=bearer()).json
    assert seen["complainant"] == {"name": "李某", "phone": "13807391234", "confidential": True}
    hotline = bearer("channel", channel="hotline")
    assert client.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "核实"},
                       headers=hotline).status_code == 403


def test_a_request_signed_by_the_reference_sdk_is_accepted(client):
    body = encode(hotline_order())
    msg_id = "msg_" + uuid.uuid4().hex
    now = datetime.now(timezone.utc)       # one instant for the signature and the header (a second may turn between two)
    signature = standardwebhooks.Webhook(SECRET).sign(msg_id, now, body.decode())
    resp = client.post(PATH, data=body, headers={"webhook-id": msg_id, "webhook-signature": signature,
                                                 "webhook-timestamp": str(int(now.timestamp())),
                                                 "Content-Type": "application/json"})
    assert resp.status_code == 201, resp.get_data(as_text=True)


def test_while_keys_rotate_either_secret_and_a_two_signature_header_are_accepted(urls):
    app, client = make_client(urls["intake"], f"{SECRET}, {NEXT_SECRET}")
    try:
        assert deliver(client, secrets=(NEXT_SECRET,)).status_code == 201
        assert deliver(client, secrets=(SECRET,)).status_code == 200, "the same order: its case"
        assert deliver(client, secrets=(webhooks.new_secret(), NEXT_SECRET)).status_code == 200
        assert deliver(client, secrets=(webhooks.new_secret(),)).status_code == 401
    finally:
        app.extensions["zf_pool"].close()


@pytest.mark.parametrize("tamper, check", [
    (lambda h, b: ({**h, "webhook-timestamp": str(int(time.time()) - 301)}, b), "timestamp_out_of_tolerance"),
    (lambda h, b: ({**h, "webhook-timestamp": str(int(time.time()) + 301)}, b), "timestamp_out_of_tolerance"),
    (lambda h, b: (h, b.replace("李某".encode(), "王某".encode())), "signature_mismatch"),
    (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b), "headers_missing"),
    (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "headers_missing"),
    (lambda h, b: ({k: v for k, v in h.items() if not k.startswith("webhook-")}, b), "headers_missing"),
], ids=["stale", "future", "tampered body", "no signature", "no id", "no webhook headers"])
def test_a_bad_signature_or_timestamp_is_401_naming_the_check_and_stores_nothing(client, admin_url, tamper, check):
    body = encode(hotline_order())
    headers, body = tamper(signed(body), body)
    resp = client.post(PATH, data=body, headers=headers)
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"
    assert resp.json["check"] == check and resp.json["code"] == f"webhook.{check}"
    assert resp.json["detail"].startswith("Webhook 签名校验未通过")
    assert stored_nothing(admin_url)


def test_the_hook_is_signature_gated_not_token_gated(client, admin_url):
    body = encode(hotline_order())
    for role in ("office", "channel"):
        token = bearer(role, channel="hotline") if role == "channel" else bearer(role)
        resp = client.post(PATH, data=body, headers={**token, "Content-Type": "application/json"})
        assert resp.status_code == 401, "a token alone is no signature"
        assert resp.json["code"] == "webhook.headers_missing"
    assert stored_nothing(admin_url)
    assert client.post(PATH, data=body, headers=signed(body)).status_code == 201, "no token needed"
    assert client.get("/v1/hooks/nothing-here").status_code == 401, "only the hook itself is exempt"


def test_a_retried_webhook_id_gets_the_first_answer_byte_for_byte_and_stores_nothing_new(client, admin_url):
    body = encode(hotline_order())
    headers = signed(body, msg_id="msg_retry")
    first = client.post(PATH, data=body, headers=headers)
    again = client.post(PATH, data=body, headers={**headers, **signed(body, msg_id="msg_retry")})
    assert first.status_code == again.status_code == 201
    assert first.get_data() == again.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(admin_url, "events") == 1 and count(admin_url, "idempotency_keys") == 1


def test_a_webhook_id_reused_for_another_body_is_refused_naming_it(client, admin_url):
    deliver(client, msg_id="msg_reused")
    resp = deliver(client, hotline_order(工单编号="OTHER-1"), msg_id="msg_reused")
    assert resp.status_code == 422 and "webhook-id" in resp.json["errors"]
    assert count(admin_url, "events") == 1


def test_the_same_order_under_a_new_webhook_id_answers_with_its_existing_case(client, admin_url):
    first = deliver(client).json
    client.post(f"/v1/cases/{first['case_id']}/assign", json={"lead_unit": "县自然资源局", "handling_mode": "deadline"},
                headers=bearer())
    second = deliver(client, hotline_order(诉求内容="再次来电催办"))
    assert second.status_code == 200
    assert second.json["case_id"] == first["case_id"] and second.json["order_no"] == ORDER_NO
    assert count(admin_url, "hotline_orders") == 1 and count(admin_url, "idempotency_keys") == 2


@pytest.mark.parametrize("kind", ["咨询", "建议", "求助"])
def test_other_kinds_are_acknowledged_without_a_case(client, admin_url, kind):
    resp = deliver(client, hotline_order(诉求类型=kind, 建议承办单位=...))
    assert resp.status_code == 200
    assert resp.json["case_id"] is None and resp.json["status"] == "not_a_case" and kind in resp.json["reason"]
    assert "未立案" in resp.json["reason"], "the office reads the reason: Chinese"
    assert count(admin_url, "events") == 0 and count(admin_url, "hotline_orders") == 0
    assert count(admin_url, "idempotency_keys") == 1, "only the answer, for a retry"


@pytest.mark.parametrize("body, content_type, status, code, says", [
    (b"{" + b" " * (256 * 1024) + b"}", "application/json", 413, "hotline.too_large", "256 KiB"),
    (encode(hotline_order()), "text/plain", 415, "request.unsupported_media_type", "application/json"),
    (encode(hotline_order()), None, 415, "request.unsupported_media_type", "application/json"),
    (b'{"\xe5\xb7\xa5": ', "application/json", 400, "json.malformed", "JSON"),
    (b"\xff\xfe", "application/json", 400, "json.malformed", "JSON"),
    (b"[1, 2]", "application/json", 422, "hotline.not_an_object", "JSON 对象"),
    ('{"工单编号": "A", "工单编号": "B"}'.encode(), "application/json", 422, "json.duplicate_key", "工单编号"),
    (encode(hotline_order(诉求内容="窗口\u0000推诿")), "application/json", 422, "input.forbidden_character", "诉求内容"),
    (encode(hotline_order(建议承办单位=...)), "application/json", 422, "hotline.invalid_order", "建议承办单位"),
    (encode(hotline_order(诉求类型=...)), "application/json", 422, "hotline.invalid_order", "诉求类型"),
    (encode(hotline_order(紧急程度="火急", 纬度=91)), "application/json", 422, "hotline.invalid_order", "紧急程度"),
], ids=["oversized", "text/plain", "no content type", "malformed", "not utf-8", "array", "duplicate key", "NUL",
        "no unit", "no kind", "bad urgency and latitude"])
def test_bad_bodies_are_named_and_store_nothing(client, admin_url, body, content_type, status, code, says):
    headers = signed(body)
    if content_type:
        headers["Content-Type"] = content_type
    else:
        headers.pop("Content-Type")
    resp = client.post(PATH, data=body, headers=headers)
    assert resp.status_code == status and resp.content_type == "application/problem+json", resp.get_data()[:300]
    assert resp.json["code"] == code and says in resp.json["detail"]
    if status == 422 and code != "hotline.not_an_object":
        assert says in resp.json["errors"]
    assert stored_nothing(admin_url)


def test_without_secrets_the_hook_is_not_configured(urls, admin_url):
    app, client = make_client(urls["intake"], "")
    try:
        resp = deliver(client)
        assert resp.status_code == 503 and "ZF_HOTLINE_WEBHOOK_SECRETS" in resp.json["detail"]
        assert stored_nothing(admin_url)
    finally:
        app.extensions["zf_pool"].close()


def test_a_default_category_the_taxonomy_lacks_is_503_for_the_office_to_fix(urls, admin_url):
    app = create_app(settings_for("intake", urls["intake"], hotline_webhook_secrets=SECRET,
                                  hotline_default_category="待分类"))
    try:
        resp = deliver(app.test_client())
        assert resp.status_code == 503 and "ZF_HOTLINE_DEFAULT_CATEGORY" in resp.json["detail"]
        assert stored_nothing(admin_url)
    finally:
        app.extensions["zf_pool"].close()


def test_a_malformed_secret_stops_intake_at_start_up(urls):
    from zfcommon.settings import ConfigError
    with pytest.raises(ConfigError, match="ZF_HOTLINE_WEBHOOK_SECRETS"):
        create_app(settings_for("intake", urls["intake"], hotline_webhook_secrets="whsec_not-base64!"))


def _race(client_factory, bodies_and_headers):
    answers, start = [None] * len(bodies_and_headers), threading.Barrier(len(bodies_and_headers))

    def one(i, body, headers):
        c = client_factory()
        start.wait()
        resp = c.post(PATH, data=body, headers=headers)
        answers[i] = (resp.status_code, resp.get_data())
    threads = [threading.Thread(target=one, args=(i, b, h)) for i, (b, h) in enumerate(bodies_and_headers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_concurrent_deliveries_of_one_webhook_get_one_answer_and_one_case(urls, admin_url):
    app, _ = make_client(urls["intake"])
    try:
        body = encode(hotline_order())
        headers = signed(body, msg_id="msg_concurrent")
        answers = _race(app.test_client, [(body, headers)] * 3)
        assert {status for status, _ in answers} == {201} and len({raw for _, raw in answers}) == 1
        assert count(admin_url, "events") == 1 and count(admin_url, "idempotency_keys") == 1
    finally:
        app.extensions["zf_pool"].close()


def test_concurrent_deliveries_of_one_order_under_different_ids_open_one_case(urls, admin_url):
    app, _ = make_client(urls["intake"])
    try:
        body = encode(hotline_order())
        answers = _race(app.test_client, [(body, signed(body)) for _ in range(3)])
        assert sorted(status for status, _ in answers) == [200, 200, 201]
        assert len({json.loads(raw)["case_id"] for _, raw in answers}) == 1
        assert count(admin_url, "events") == 1 and count(admin_url, "hotline_orders") == 1
    finally:
        app.extensions["zf_pool"].close()


@pytest.fixture
def gunicorn(urls, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}
    env.update({"DATABASE_URL": urls["intake"], "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                "ZF_JWT_ALGORITHM": "HS256", "ZF_JWT_SECRET": JWT_SECRET, "ZF_CONTACT_KEY": CONTACT_KEY, "ZF_HOTLINE_WEBHOOK_SECRETS": SECRET,
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                             "--workers", "2", "--config", "python:zfcommon.gunicorn_conf",
                             "intake.entrypoints.http:create_app()"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_over_real_http_a_signed_order_opens_a_case_and_a_retry_gets_the_same_bytes(gunicorn, admin_url):
    body = encode(hotline_order())
    headers = signed(body, msg_id="msg_http")
    first = requests.post(gunicorn + PATH, data=body, headers=headers, timeout=10)
    again = requests.post(gunicorn + PATH, data=body, headers=headers, timeout=10)
    assert first.status_code == again.status_code == 201 and first.content == again.content
    assert requests.post(gunicorn + PATH, data=body, headers={**headers, "webhook-signature": "v1,AAAA"},
                         timeout=10).status_code == 401
    unsigned = requests.post(gunicorn + PATH, data=body, headers=bearer(), timeout=10)
    assert unsigned.status_code == 401 and unsigned.headers["Content-Type"] == "application/problem+json"
    case = requests.get(gunicorn + f"/v1/cases/{first.json()['case_id']}", headers=bearer(), timeout=10).json()
    assert case["origin"]["ref"] == ORDER_NO
    assert count(admin_url, "events") == 1
