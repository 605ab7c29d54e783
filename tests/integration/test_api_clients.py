"""Department integrations: the office issues, rotates and revokes API clients; clients exchange their
key for a token (RFC 6749 §4.4) and are rate limited in every service — on the real PostgreSQL, and
across the workers of a real gunicorn."""
from __future__ import annotations

import base64
import threading
from collections import Counter

import psycopg
import pytest
import requests

from intake.entrypoints.http import create_app
from ledger.entrypoints.http import create_app as ledger_app
from zfcommon.devstack.ports import free_port

from ..conftest import CONTACT_KEY, JWT_SECRET, settings_for
from ..support import bearer, complaint, gunicorn_serving

pytestmark = pytest.mark.integration

OFFICE = bearer()
UNIT = "县自然资源局"
OTHER = "县住建局"


@pytest.fixture
def client(urls, tmp_path):
    clock = tmp_path / "now"
    clock.write_text("2026-11-23T09:00:00+08:00")
    app = create_app(settings_for("intake", urls["intake"], clock_file=str(clock)))
    c = app.test_client()
    c.clock = clock
    for name in (UNIT, OTHER):
        assert c.post("/v1/directory/units", json={"name": name, "kind": "government_department",
                                                   "supervising_channel": "县监察局"}, headers=OFFICE).status_code == 200
    yield c
    app.extensions["zf_pool"].close()


def issue(client, **body) -> dict:
    resp = client.post("/v1/clients", json={"department": "县自然资源局信息中心", "unit": UNIT, **body},
                       headers=OFFICE)
    assert resp.status_code == 201, resp.json
    return resp.json


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def exchange(client, key: str, client_id: str | None = None):
    if client_id is not None:
        return client.post("/v1/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, key))
    return client.post("/v1/token", data={"grant_type": "client_credentials", "client_secret": key})


def token_headers(client, key: str) -> dict[str, str]:
    resp = exchange(client, key)
    assert resp.status_code == 200, resp.json
    return {"Authorization": f"Bearer {resp.json['access_token']}"}


def stored(admin_url: str, query: str) -> list:
    with psycopg.connect(admin_url) as conn:
        return conn.execute(query).fetchall()


def test_the_office_issues_a_client_and_its_key_exists_only_in_the_answer(client, admin_url):
    issued = issue(client)
    client_id, key = issued["client_id"], issued["key"]
    assert key.startswith(f"zfk_{client_id}_")
    assert issued["role"] == "unit" and issued["unit"] == UNIT and issued["channel"] is None
    assert issued["rate_per_minute"] == 60 and issued["status"] == "active" and issued["live_keys"] == 1
    seen = client.get(f"/v1/clients/{client_id}", headers=bearer("auditor"))
    assert seen.status_code == 200 and "key" not in seen.json and seen.json["created_by"] == "office:tester"
    assert [c["client_id"] for c in client.get("/v1/clients", headers=OFFICE).json["clients"]] == [client_id]
    # Neither the key nor its hash is in the event; the key is nowhere in the database.
    [(etype, payload)] = stored(admin_url, "SELECT type, payload::text FROM intake.events WHERE stream_id"
                                           f" = '{client_id}'")
    assert etype == "cn.zhengfeng.client.registered.v1" and UNIT in payload
    [(digest,)] = stored(admin_url, "SELECT encode(key_hash, 'hex') FROM intake.api_keys")
    assert key not in payload and digest not in payload
    assert not stored(admin_url, f"SELECT 1 FROM intake.idempotency_keys WHERE body::text LIKE '%{key}%'")


@pytest.mark.parametrize("body, fields", [
    ({"unit": "不存在的单位"}, {"unit"}),
    ({"unit": None, "channel": "fax"}, {"channel"}),
    ({"channel": "hotline"}, {"unit", "channel"}),
    ({"unit": None}, {"unit", "channel"}),
    ({"rate_per_minute": 100000}, {"rate_per_minute"}),
    ({"rate_per_minute": 0}, {"rate_per_minute"}),
    ({"department": ""}, {"department"}),
    ({"scope": "all"}, {"scope"}),
])
def test_a_client_needs_one_known_scope_and_a_sane_rate(client, admin_url, body, fields):
    resp = client.post("/v1/clients", json={"department": "信息中心", "unit": UNIT, **body}, headers=OFFICE)
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert fields <= set(resp.json["errors"]), resp.json
    assert not stored(admin_url, "SELECT 1 FROM intake.api_clients")


def test_a_retried_issue_makes_one_client_and_never_stores_the_key(client, admin_url):
    headers = {**OFFICE, "Idempotency-Key": "issue-1"}
    body = {"department": "热线中心", "channel": "hotline"}
    first = client.post("/v1/clients", json=body, headers=headers)
    again = client.post("/v1/clients", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Location"] == first.headers["Location"]
    assert again.json["client_id"] == first.json["client_id"] and again.json["key"] is None
    assert first.json["key"].startswith("zfk_")
    assert len(stored(admin_url, "SELECT 1 FROM intake.api_clients")) == 1
    assert not stored(admin_url, "SELECT 1 FROM intake.idempotency_keys WHERE body::text LIKE '%zfk_%'")


def test_a_unit_client_sees_its_unit_and_a_channel_client_submits_on_its_channel(client, urls):
    ours = client.post("/v1/cases", json=complaint(), headers=OFFICE).json["case_id"]
    theirs = client.post("/v1/cases", json=complaint(), headers=OFFICE).json["case_id"]
    client.post(f"/v1/cases/{ours}/assign", json={"lead_unit": UNIT, "handling_mode": "deadline"}, headers=OFFICE)
    client.post(f"/v1/cases/{theirs}/assign", json={"lead_unit": OTHER, "handling_mode": "deadline"}, headers=OFFICE)
    unit_client = issue(client)
    resp = exchange(client, unit_client["key"], unit_client["client_id"])
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert set(resp.json) == {"access_token", "token_type", "expires_in"}
    assert resp.json["token_type"] == "Bearer" and resp.json["expires_in"] == 600
    as_unit = {"Authorization": f"Bearer {resp.json['access_token']}"}
    assert client.get(f"/v1/cases/{ours}", headers=as_unit).status_code == 200
    assert client.get(f"/v1/cases/{theirs}", headers=as_unit).status_code == 404    # not even its existence
    assert client.post("/v1/cases", json=complaint(), headers=as_unit).status_code == 403
    accepted = client.post(f"/v1/cases/{ours}/accept", json={}, headers=as_unit)
    assert accepted.status_code == 200, accepted.json
    assert client.get(f"/v1/clients/{unit_client['client_id']}", headers=OFFICE).json["last_used_at"]

    hotline = issue(client, unit=None, channel="hotline", department="12345热线")
    as_hotline = token_headers(client, hotline["key"])
    made = client.post("/v1/cases", json=complaint(), headers=as_hotline)
    assert made.status_code == 201
    assert client.post("/v1/cases", json=complaint(channel="media"), headers=as_hotline).status_code == 403
    with psycopg.connect(urls["intake"]) as conn:
        actor = conn.execute("SELECT payload->>'actor' FROM events WHERE stream_id = %s",
                             (made.json["case_id"],)).fetchone()[0]
    assert actor == f"channel:{hotline['client_id']}"


def test_after_a_rotation_both_keys_work_until_the_grace_period_ends(client, admin_url):
    issued = issue(client)
    old = issued["key"]
    resp = client.post(f"/v1/clients/{issued['client_id']}/rotate", json={"grace_seconds": 3600}, headers=OFFICE)
    assert resp.status_code == 200, resp.json
    new = resp.json["key"]
    assert new != old and resp.json["live_keys"] == 2 and resp.json["rotated_at"]
    assert resp.json["next_key_expiry"].startswith("2026-11-23T02:00:00")
    assert exchange(client, old).status_code == exchange(client, new).status_code == 200
    client.clock.write_text("2026-11-23T10:00:01+08:00")           # the hour of grace is over
    assert exchange(client, old).status_code == 401
    assert exchange(client, new).status_code == 200
    assert client.get(f"/v1/clients/{issued['client_id']}", headers=OFFICE).json["live_keys"] == 1
    types = [t for (t,) in stored(admin_url, "SELECT type FROM intake.events WHERE stream_id ="
                                             f" '{issued['client_id']}' ORDER BY version")]
    assert types == ["cn.zhengfeng.client.registered.v1", "cn.zhengfeng.client.key_rotated.v1"]


def test_a_rotation_without_grace_stops_the_old_key_at_once(client):
    issued = issue(client)
    resp = client.post(f"/v1/clients/{issued['client_id']}/rotate", json={"grace_seconds": 0}, headers=OFFICE)
    assert exchange(client, issued["key"]).status_code == 401
    assert exchange(client, resp.json["key"]).status_code == 200


def test_a_rotation_without_a_body_gives_a_day_of_grace(client):
    issued = issue(client)
    resp = client.post(f"/v1/clients/{issued['client_id']}/rotate", headers=OFFICE)
    assert resp.status_code == 200, resp.json
    assert resp.json["next_key_expiry"].startswith("2026-11-24T01:00:00")


def test_revocation_stops_every_key_and_intake_refuses_outstanding_tokens_at_once(client, urls, admin_url):
    issued = issue(client)
    client_id = issued["client_id"]
    rotated = client.post(f"/v1/clients/{client_id}/rotate", json={"grace_seconds": 3600}, headers=OFFICE).json
    outstanding = token_headers(client, issued["key"])
    resp = client.post(f"/v1/clients/{client_id}/revoke", json={"reason": "系统停用"}, headers=OFFICE)
    assert resp.status_code == 200 and resp.json["status"] == "revoked" and resp.json["live_keys"] == 0
    assert resp.json["revoked_by"] == "office:tester" and resp.json["revoke_reason"] == "系统停用"
    for key in (issued["key"], rotated["key"]):
        refused = exchange(client, key)
        assert refused.status_code == 401 and refused.json["error"] == "invalid_client"
    gone = client.get("/v1/directory", headers=outstanding)
    assert gone.status_code == 401 and gone.json["code"] == "client.revoked"
    # Ledger, notify and audit refuse it within seconds: tests/integration/test_public_key_tokens.py.
    again = client.post(f"/v1/clients/{client_id}/revoke", json={}, headers=OFFICE)
    assert again.status_code == 409 and again.json["state"] == "revoked"
    assert client.post(f"/v1/clients/{client_id}/rotate", json={}, headers=OFFICE).status_code == 409
    [(payload,)] = stored(admin_url, "SELECT payload::text FROM intake.events WHERE type ="
                                     " 'cn.zhengfeng.client.revoked.v1'")
    assert "系统停用" in payload and "zfk_" not in payload


def test_consumers_take_client_events_and_only_the_trail_keeps_them(client, urls):
    from audit.adapters.trail import apply as audit_apply
    from ledger.adapters.repository import apply as ledger_apply
    from notify.adapters.repository import apply as notify_apply
    from zfcommon import db
    from zfcommon.events import parse_event

    issued = issue(client)
    client.post(f"/v1/clients/{issued['client_id']}/rotate", json={"grace_seconds": 0}, headers=OFFICE)
    client.post(f"/v1/clients/{issued['client_id']}/revoke", json={}, headers=OFFICE)
    with db.connect(urls["intake"]) as conn:
        events = [parse_event(r["payload"]) for r in conn.execute(
            "SELECT payload FROM events WHERE stream_id = %s ORDER BY version", (issued["client_id"],))]
    assert [e.topic for e in events] == ["intake.client.events"] * 3
    for service, apply in (("ledger", ledger_apply), ("notify", notify_apply), ("audit", audit_apply)):
        with db.connect(urls[service]) as conn:
            for event in events:
                apply(conn, event)          # raising here would send the event to the dead-letter topic
            conn.commit()
    with db.connect(urls["audit"]) as conn:
        trail = conn.execute("SELECT type, units FROM trail ORDER BY seq").fetchall()
    assert [r["type"].split(".")[3] for r in trail] == ["registered", "key_rotated", "revoked"]
    assert trail[0]["units"] == [UNIT]          # the trail finds a unit's clients by unit


@pytest.mark.parametrize("path", ["/v1/clients/client-nope", "/v1/clients/client-nope/rotate",
                                  "/v1/clients/client-nope/revoke"])
def test_an_unknown_client_is_404(client, path):
    resp = client.open(path, method="GET" if path.endswith("nope") else "POST", json={}, headers=OFFICE)
    assert resp.status_code == 404 and resp.content_type == "application/problem+json"


def _expired_key(client) -> str:
    issued = issue(client)
    client.post(f"/v1/clients/{issued['client_id']}/rotate", json={"grace_seconds": 0}, headers=OFFICE)
    return issued["key"]


def _revoked_key(client) -> str:
    issued = issue(client)
    client.post(f"/v1/clients/{issued['client_id']}/revoke", json={}, headers=OFFICE)
    return issued["key"]


BAD_CREDENTIALS = {
    "none": lambda c, k: ({"grant_type": "client_credentials"}, {}),
    "empty secret": lambda c, k: ({"grant_type": "client_credentials", "client_secret": ""}, {}),
    "wrong secret": lambda c, k: ({"grant_type": "client_credentials", "client_secret": k + "x"}, {}),
    "not a key": lambda c, k: ({"grant_type": "client_credentials", "client_secret": "hunter2"}, {}),
    "bearer instead": lambda c, k: ({"grant_type": "client_credentials"}, {"Authorization": f"Bearer {k}"}),
    "basic not base64": lambda c, k: ({"grant_type": "client_credentials"}, {"Authorization": "Basic %%%"}),
    "basic without colon": lambda c, k: ({"grant_type": "client_credentials"},
                                         {"Authorization": "Basic " + base64.b64encode(k.encode()).decode()}),
    "basic wrong secret": lambda c, k: ({"grant_type": "client_credentials"}, basic(k.split("_")[1], "zfk_x")),
    "basic another id": lambda c, k: ({"grant_type": "client_credentials"}, basic("client-000000000000", k)),
    "form another id": lambda c, k: ({"grant_type": "client_credentials", "client_id": "client-0", "client_secret": k},
                                     {}),
    "expired key": lambda c, k: ({"grant_type": "client_credentials", "client_secret": _expired_key(c)}, {}),
    "revoked key": lambda c, k: ({"grant_type": "client_credentials", "client_secret": _revoked_key(c)}, {}),
}


@pytest.mark.parametrize("shape", BAD_CREDENTIALS)
def test_bad_credentials_of_every_shape_are_an_rfc6749_invalid_client(client, shape):
    form, headers = BAD_CREDENTIALS[shape](client, issue(client)["key"])
    resp = client.post("/v1/token", data=form, headers=headers)
    assert resp.status_code == 401 and resp.content_type == "application/json"
    assert resp.json["error"] == "invalid_client" and resp.json["error_description"]
    assert resp.headers["WWW-Authenticate"].startswith("Basic") and resp.headers["Cache-Control"] == "no-store"
    assert "access_token" not in resp.json


@pytest.mark.parametrize("kwargs, error", [
    ({"data": {"client_secret": "zfk_x"}}, "invalid_request"),
    ({"data": {"grant_type": "password", "client_secret": "zfk_x"}}, "unsupported_grant_type"),
    ({"json": {"grant_type": "client_credentials", "client_secret": "zfk_x"}}, "invalid_request"),
])
def test_malformed_token_requests_are_rfc6749_errors(client, kwargs, error):
    resp = client.post("/v1/token", **kwargs)
    assert resp.status_code == 400 and resp.json["error"] == error


def test_two_ways_of_authenticating_at_once_are_refused(client):
    key = issue(client)["key"]
    resp = client.post("/v1/token", data={"grant_type": "client_credentials", "client_secret": key},
                       headers=basic(key.split("_")[1], key))
    assert resp.status_code == 400 and resp.json["error"] == "invalid_request"


@pytest.mark.parametrize("path", ["/v1/token/", "/v1/tokens", "/v1/clients"])
def test_only_the_token_exchange_is_reachable_without_a_bearer_token(client, path):
    resp = client.get(path)
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"


def test_a_client_over_its_limit_gets_429_in_other_services_too(client, urls, broker):
    key = issue(client, rate_per_minute=3)["key"]
    headers = token_headers(client, key)
    # the ledger reads the client events from a broker before it lets a client token through
    ledger = ledger_app(settings_for("ledger", urls["ledger"], broker.bootstrap))
    try:
        c = ledger.test_client()
        answers = [c.get("/v1/cases", headers=headers) for _ in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0", "0"]
        refused = answers[-1]
        assert refused.content_type == "application/problem+json" and 1 <= int(refused.headers["Retry-After"]) <= 60
        office = c.get("/v1/cases", headers=OFFICE)
        assert office.status_code == 200 and "RateLimit-Limit" not in office.headers
    finally:
        ledger.extensions["zf_pool"].close()
    # Each service counts in its own database: intake has not seen this client's requests yet.
    assert client.get("/v1/directory", headers=headers).headers["RateLimit-Remaining"] == "2"


def test_when_the_database_is_away_a_client_request_is_refused_not_waved_through(broker):
    from zfcommon.auth import issue_token
    dead = f"postgresql://zf_ledger:x@127.0.0.1:{free_port()}/nowhere?connect_timeout=1"
    app = ledger_app(settings_for("ledger", dead, broker.bootstrap))
    try:
        token = issue_token(JWT_SECRET, "unit", "c", unit=UNIT, client_id="c", rate_per_minute=5)
        resp = app.test_client().get("/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
        assert resp.json["code"] == "database_unavailable"
    finally:
        app.extensions["zf_pool"].close()


@pytest.fixture
def gunicorn_intake(urls, tmp_path):
    """intake under a real gunicorn with two workers, on the test database."""
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = {"DATABASE_URL": urls["intake"], "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "ZF_JWT_ALGORITHM": "HS256",
           "ZF_JWT_SECRET": JWT_SECRET, "ZF_CONTACT_KEY": CONTACT_KEY, "PROMETHEUS_MULTIPROC_DIR": str(metrics),
           "ZF_LOG_LEVEL": "WARNING"}
    with gunicorn_serving("intake.entrypoints.http:create_app()", env, tmp_path / "gunicorn.log") as base:
        yield base


def test_the_limit_holds_exactly_across_gunicorn_workers_and_processes(gunicorn_intake, urls):
    """N+k requests within a minute, at once, spread over two gunicorn workers and a third process
    (this test's own app): exactly k are refused, each with Retry-After."""
    base = gunicorn_intake
    office = requests.Session()
    office.headers.update(OFFICE)
    assert office.post(f"{base}/v1/directory/units", json={"name": UNIT, "kind": "government_department",
                                                           "supervising_channel": "县监察局"}).status_code == 200
    limit, extra = 12, 5
    issued = office.post(f"{base}/v1/clients", json={"department": "信息中心", "unit": UNIT,
                                                     "rate_per_minute": limit}).json()
    answer = requests.post(f"{base}/v1/token", data={"grant_type": "client_credentials"},
                           auth=(issued["client_id"], issued["key"]))
    assert answer.status_code == 200, answer.text
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    local = create_app(settings_for("intake", urls["intake"]))
    statuses: list[int] = []
    retry_after: list[str] = []
    gate = threading.Barrier(limit + extra)
    lock = threading.Lock()

    def call(i: int) -> None:
        gate.wait()
        if i % 3 == 0:
            resp = local.test_client().get("/v1/directory", headers=headers)
            status, retry = resp.status_code, resp.headers.get("Retry-After")
        else:
            resp = requests.get(f"{base}/v1/directory", headers=headers, timeout=30)
            status, retry = resp.status_code, resp.headers.get("Retry-After")
        with lock:
            statuses.append(status)
            if retry is not None:
                retry_after.append(retry)

    try:
        threads = [threading.Thread(target=call, args=(i,)) for i in range(limit + extra)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        local.extensions["zf_pool"].close()
    assert Counter(statuses) == {200: limit, 429: extra}
    assert len(retry_after) == extra and all(1 <= int(s) <= 60 for s in retry_after)
    # Internal tokens are never limited, however many requests they make.
    assert all(office.get(f"{base}/v1/directory").status_code == 200 for _ in range(limit + extra))
