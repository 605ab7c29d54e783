"""Public-key tokens and revocation, end to end over real HTTP: intake, ledger, notify and audit under
gunicorn with EdDSA keys made by `zf keys rotate`, intake's relay publishing to the real broker. Tokens
minted by intake's client exchange and by `zf token` verify everywhere through intake's JWKS; a key
rotation needs no restart; a department verifies with nothing but the JWKS URL; and a revoked client, or
a key a rotation retired, is refused by every service within seconds."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import jwt
import pytest
import requests

from zfcommon import jwks
from zfcommon.devstack.ports import free_port, wait_for_port
from zfcommon.settings import SERVICES

from zfcommon.devstack.broker import LocalBroker

from ..conftest import CONTACT_KEY, NOTIFY_KEY, fresh_database, service_urls

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
UNIT = "县自然资源局"
SERVED = ("intake", "ledger", "notify", "audit")
# Routes a unit's client may reach (200) or is refused by role (403) — either way its token verified.
PROBES = {"intake": "/v1/directory", "ledger": "/v1/cases", "notify": "/v1/notices", "audit": "/v1/events"}
MINTING = ("intake", "notify", "audit")          # the ledger holds no signing key, only the JWKS URL
WITHIN = 10.0                                    # seconds a revocation may take to reach every service


def zf(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "zf"), *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Stack:
    def __init__(self, urls: dict[str, str], bootstrap: str, tmp: Path):
        self.tmp, self.ports = tmp, {s: free_port() for s in SERVICES}
        self.keys = tmp / "keys" / "jwt-keys.json"
        self.keys.parent.mkdir()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}
        base.update({f"ZF_{s.upper()}_PORT": str(p) for s, p in self.ports.items()})
        base.update(KAFKA_BOOTSTRAP_SERVERS=bootstrap, ZF_LOG_LEVEL="WARNING", ZF_JWKS_REFETCH_SECONDS="1")
        self.operator = {**base, "ZF_JWT_KEYS": str(self.keys)}
        self.env = {}
        for s in SERVED:
            metrics = tmp / f"metrics-{s}"
            metrics.mkdir()
            self.env[s] = {**base, "DATABASE_URL": urls[s], "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                           **({"ZF_JWT_KEYS": str(self.keys)} if s in MINTING else {}),
                           **({"ZF_CONTACT_KEY": CONTACT_KEY} if s == "intake" else {}),
                           **({"ZF_NOTIFY_MASTER_KEY": NOTIFY_KEY} if s == "notify" else {})}
        self.procs: list[subprocess.Popen] = []

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def spawn(self, name: str, env: dict[str, str], argv: list[str]) -> None:
        log = open(self.tmp / f"{name}.log", "wb")
        self.procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))
        log.close()

    def start(self) -> None:
        for s in SERVED:
            self.spawn(s, self.env[s], [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.ports[s]}",
                                        "--workers", "2" if s == "ledger" else "1", "--no-control-socket",
                                        "--config", "python:zfcommon.gunicorn_conf",
                                        f"{s}.entrypoints.http:create_app()"])
        self.spawn("intake-relay", self.env["intake"], [sys.executable, "-m", "intake.entrypoints.relay"])
        for s in SERVED:
            wait_for_port(self.ports[s], 90)

    def stop(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def token(self, role: str, sub: str, *scope: str) -> dict[str, str]:
        """A token as an operator mints it: `zf token`, signed with the newest key of the key set."""
        return {"Authorization": f"Bearer {zf(self.operator, 'token', role, sub, *scope)}"}


@pytest.fixture(scope="module")
def stack(pg, tmp_path_factory):
    """One system for the module (starting four gunicorns and a relay is the slow part); each test makes
    its own clients, and the tests that rotate add keys without removing any."""
    tmp = tmp_path_factory.mktemp("tokens")
    broker = LocalBroker(free_port(), tmp).start()
    s = Stack(service_urls(fresh_database(pg)), broker.bootstrap, tmp)
    zf(s.operator, "keys", "rotate")          # the first key, as `zf up` makes it
    with ExitStack() as cleanup:
        cleanup.callback(broker.stop)
        cleanup.callback(s.stop)
        s.start()
        office = s.token("office", "tester")
        assert requests.post(s.url("intake", "/v1/directory/units"), headers=office, timeout=30, json={
            "name": UNIT, "kind": "government_department", "supervising_channel": "县监察局"}).status_code == 200
        yield s


def client_token(s: Stack, key: str) -> dict[str, str]:
    answer = requests.post(s.url("intake", "/v1/token"), data={"grant_type": "client_credentials",
                                                                "client_secret": key}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def answers(s: Stack, headers: dict[str, str]) -> dict[str, requests.Response]:
    return {svc: requests.get(s.url(svc, PROBES[svc]), headers=headers, timeout=30) for svc in SERVED}


def refused_everywhere(s: Stack, headers: dict[str, str], code: str, timeout: float = WITHIN) -> float:
    """Seconds until every service answers 401 `code`; then each answers so several times more (both
    of the ledger's gunicorn workers follow the client events themselves)."""
    started = time.monotonic()
    waiting = set(SERVED)
    while waiting and time.monotonic() - started < timeout:
        for svc in list(waiting):
            resp = requests.get(s.url(svc, PROBES[svc]), headers=headers, timeout=30)
            if resp.status_code == 401 and resp.json().get("code") == code:
                waiting.discard(svc)
        time.sleep(0.1)
    assert not waiting, f"still accepted after {timeout}s by {sorted(waiting)}"
    took = time.monotonic() - started
    for _ in range(4):
        for svc, resp in answers(s, headers).items():
            assert resp.status_code == 401, (svc, resp.text)
            assert resp.headers["Content-Type"].startswith("application/problem+json")
            body = resp.json()
            assert body["code"] == code and "接入客户端" in body["detail"], (svc, body)
    return took


def test_tokens_are_eddsa_and_every_service_verifies_them_through_intakes_jwks(stack):
    published = requests.get(stack.url("intake", "/.well-known/jwks.json"), timeout=30)
    assert published.status_code == 200 and published.headers["Content-Type"] == "application/jwk-set+json"
    keys = published.json()["keys"]
    assert all((k["kty"], k["crv"], k["alg"]) == ("OKP", "Ed25519", "EdDSA") and "d" not in k for k in keys)
    office = stack.token("office", "tester")
    newest = keys[-1]["kid"]
    assert jwt.get_unverified_header(office["Authorization"][7:]) == {"alg": "EdDSA", "kid": newest, "typ": "JWT"}
    for svc, resp in answers(stack, office).items():
        assert resp.status_code == 200, (svc, resp.text)
    # A token signed by a key nobody published is refused, by the ledger (a pure verifier) too.
    stranger = {**stack.operator, "ZF_JWT_KEYS": str(stack.tmp / "stranger.json")}
    (stack.tmp / "stranger.json").unlink(missing_ok=True)
    zf(stranger, "keys", "rotate")
    forged = {"Authorization": f"Bearer {zf(stranger, 'token', 'office', 'mallory')}"}
    for svc, resp in answers(stack, forged).items():
        assert resp.status_code == 401 and resp.json()["code"] == "auth.token_invalid", svc


def test_a_key_rotation_reaches_every_service_without_a_restart(stack):
    before = stack.token("office", "before")
    assert all(r.status_code == 200 for r in answers(stack, before).values())
    pids = [p.pid for p in stack.procs]
    published = len(requests.get(stack.url("intake", "/.well-known/jwks.json"), timeout=30).json()["keys"])
    new_key = json.loads(zf(stack.operator, "keys", "rotate"))
    kids = [k["kid"] for k in requests.get(stack.url("intake", "/.well-known/jwks.json"), timeout=30).json()["keys"]]
    assert new_key["kid"] in kids               # published at once, signing a little later (publish first)
    signer = jwks.FileSigner(stack.keys)
    deadline = time.monotonic() + jwks.SIGN_AFTER + 10
    while signer.signing_key()[0] != new_key["kid"] and time.monotonic() < deadline:
        time.sleep(0.5)
    after = stack.token("office", "after")
    assert jwt.get_unverified_header(after["Authorization"][7:])["kid"] == new_key["kid"]
    for token in (after, before):                  # the new key verifies, and so do the old key's tokens
        for svc, resp in answers(stack, token).items():
            assert resp.status_code == 200, (svc, resp.text)
    kids = [k["kid"] for k in requests.get(stack.url("intake", "/.well-known/jwks.json"), timeout=30).json()["keys"]]
    assert kids[-1] == new_key["kid"] and len(kids) == min(published + 1, 3)
    assert [p.pid for p in stack.procs] == pids and all(p.poll() is None for p in stack.procs)


def test_a_department_verifies_a_token_with_nothing_but_the_jwks_url(stack):
    issued = requests.post(stack.url("intake", "/v1/clients"), headers=stack.token("office", "tester"),
                           json={"department": "县自然资源局信息中心", "unit": UNIT}, timeout=30).json()
    token = client_token(stack, issued["key"])["Authorization"][7:]
    department = jwt.PyJWKClient(stack.url("intake", "/.well-known/jwks.json"))
    claims = jwt.decode(token, department.get_signing_key_from_jwt(token).key, algorithms=["EdDSA"],
                        issuer="zhengfeng")
    assert (claims["client_id"], claims["role"], claims["unit"]) == (issued["client_id"], "unit", UNIT)


def test_a_revoked_clients_unexpired_token_is_refused_by_every_service_within_seconds(stack):
    office = stack.token("office", "tester")
    issued = requests.post(stack.url("intake", "/v1/clients"), headers=office, timeout=30,
                           json={"department": "县自然资源局信息中心", "unit": UNIT}).json()
    client = client_token(stack, issued["key"])
    for svc, resp in answers(stack, client).items():      # accepted (or refused by role only) everywhere
        assert resp.status_code in (200, 403), (svc, resp.text)
    revoked = requests.post(stack.url("intake", f"/v1/clients/{issued['client_id']}/revoke"), headers=office,
                            json={"reason": "系统停用"}, timeout=30)
    assert revoked.status_code == 200
    took = refused_everywhere(stack, client, "client.revoked")
    assert took < WITHIN
    # People's and services' tokens are untouched.
    assert all(r.status_code == 200 for r in answers(stack, office).values())


def test_after_a_rotation_the_old_keys_tokens_are_refused_everywhere_and_the_new_keys_are_not(stack):
    office = stack.token("office", "tester")
    issued = requests.post(stack.url("intake", "/v1/clients"), headers=office, timeout=30,
                           json={"department": "县自然资源局信息中心", "unit": UNIT}).json()
    old = client_token(stack, issued["key"])
    assert answers(stack, old)["ledger"].status_code == 200
    rotated = requests.post(stack.url("intake", f"/v1/clients/{issued['client_id']}/rotate"), headers=office,
                            json={"grace_seconds": 0}, timeout=30)
    assert rotated.status_code == 200
    new = client_token(stack, rotated.json()["key"])
    refused_everywhere(stack, old, "client.key_retired")
    for svc, resp in answers(stack, new).items():
        assert resp.status_code in (200, 403), (svc, resp.text)
    assert answers(stack, new)["ledger"].status_code == 200


def test_until_a_process_has_read_the_client_events_it_refuses_client_tokens_not_people(urls, monkeypatch):
    from ledger.entrypoints.http import create_app as ledger_app
    from zfcommon.auth import issue_token

    from ..conftest import JWT_SECRET, settings_for

    monkeypatch.setattr("zfcommon.revocation.FIRST_READ_WAIT", 0.5)
    ledger = ledger_app(settings_for("ledger", urls["ledger"], f"127.0.0.1:{free_port()}"))   # no broker there
    try:
        c = ledger.test_client()
        token = issue_token(JWT_SECRET, "unit", "c", unit=UNIT, client_id="c", rate_per_minute=5)
        for _ in range(2):
            unsure = c.get("/v1/cases", headers={"Authorization": f"Bearer {token}"})
            assert unsure.status_code == 503 and unsure.headers["Retry-After"] == "1"
            assert unsure.json["code"] == "client.status_unknown" and "撤销" in unsure.json["detail"]
        office = issue_token(JWT_SECRET, "office", "tester")
        assert c.get("/v1/cases", headers={"Authorization": f"Bearer {office}"}).status_code == 200
    finally:
        ledger.extensions["zf_pool"].close()


def test_the_consoles_per_person_tokens_are_signed_with_the_key_set_and_verify_everywhere(stack):
    from console.adapters.services import Caller, Services
    from zfcommon.settings import Settings

    console = Settings(service="console", database_url="unused", kafka_bootstrap_servers="", jwt_secret="",
                       jwt_keys=str(stack.keys))
    services = Services(urls={s: stack.url(s) for s in SERVED}, secret=jwks.signer(console),
                        caller=Caller("office", "zhangsan"))
    for svc in SERVED:
        assert services.request(svc, "GET", PROBES[svc]).status_code == 200, svc
    assert jwt.get_unverified_header(services._token)["alg"] == "EdDSA"


def test_a_deployment_on_the_development_secret_publishes_no_keys(urls):
    from intake.entrypoints.http import create_app as intake_app

    from ..conftest import settings_for

    intake = intake_app(settings_for("intake", urls["intake"]))
    try:
        resp = intake.test_client().get("/.well-known/jwks.json")
        assert resp.status_code == 404 and resp.json["code"] == "auth.no_jwks" and "对称密钥" in resp.json["detail"]
    finally:
        intake.extensions["zf_pool"].close()
