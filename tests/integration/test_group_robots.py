"""Notices to units' WeCom (企业微信) and DingTalk (钉钉) group robots on real parts: robots set through
intake's API (served over real HTTP, since notify's sender asks it for their addresses), intake's events
applied by notify's consumer code, notify's sender, and a real HTTP server on loopback standing in for
both robot platforms: it checks WeCom's key and DingTalk's signed URL (timestamp within the hour, HMAC
of the robot's secret) and the markdown payload shapes, and answers as they do — HTTP 200 with an
errcode, 0 only when the message went out."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

from intake.entrypoints.http import create_app as intake_app
from notify.adapters.intake_client import IntakeClient
from notify.entrypoints.http import create_app as notify_app
from notify.entrypoints.sender import Sender
from notify.service_layer.fanout import applier
from notify.service_layer.notice_sending import Channels, Config
from zfcommon import db
from zfcommon.consumer import apply_once
from zfcommon.events import parse_event
from zfcommon.events.catalogue import topic_for

from ..conftest import JWT_SECRET, settings_for
from ..support import bearer, complaint, eventually, rows_as_text, serve_posts

pytestmark = pytest.mark.integration

OFFICE = bearer()
LEAD, HELPER, QUIET = "县自然资源局", "县政务服务中心", "某镇人民政府"
NAME, PHONE = "欧阳明远", "13807391234"      # the complainant: must reach no robot
KEYS = {LEAD: "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa", HELPER: "11111111-2222-4333-8444-555555555555"}
TOKENS = {LEAD: "0c23d6c4e1f7a9b2c3d4e5f6a7b8c9d0", QUIET: "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}
SECRETS = {LEAD: "SEC7a1f0c0b9d2e4f6a8b1c3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5", QUIET: "SECquietsecret0001"}
NOW = "2026-11-23T10:00:00+08:00"


@dataclass
class Platforms:
    """WeCom's and DingTalk's robot endpoints: every request checked and recorded; scripted errcodes."""
    got: list[dict] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)      # credential -> errcodes to answer in turn
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def wecom_url(self, unit: str) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key={KEYS[unit]}"

    def dingtalk_url(self, unit: str) -> str:
        return f"http://127.0.0.1:{self.port}/robot/send?access_token={TOKENS[unit]}"

    def answer(self, path: str, query: dict, doc: dict) -> dict:
        if path == "/cgi-bin/webhook/send":
            unit = next((u for u, k in KEYS.items() if query.get("key") == [k]), None)
            if unit is None:
                return {"errcode": 93000, "errmsg": "invalid webhook url"}
            assert set(doc) == {"msgtype", "markdown"} and doc["msgtype"] == "markdown"
            assert set(doc["markdown"]) == {"content"} and len(doc["markdown"]["content"].encode()) <= 4096
            credential, platform = KEYS[unit], "wecom"
        else:
            unit = next((u for u, t in TOKENS.items() if query.get("access_token") == [t]), None)
            if unit is None:
                return {"errcode": 300001, "errmsg": "token is not exist"}
            timestamp, sign = query["timestamp"][0], query["sign"][0]
            if abs(int(timestamp) - time.time() * 1000) > 3600_000:
                return {"errcode": 310000, "errmsg": "invalid timestamp"}
            secret = SECRETS[unit].encode()
            expected = base64.b64encode(hmac.new(secret, f"{timestamp}\n{SECRETS[unit]}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(sign, expected):
                return {"errcode": 310000, "errmsg": "sign not match"}
            assert set(doc) == {"msgtype", "markdown"} and doc["msgtype"] == "markdown"
            assert set(doc["markdown"]) == {"title", "text"} and doc["markdown"]["title"]
            credential, platform = TOKENS[unit], "dingtalk"
        with self.lock:
            self.got.append({"platform": platform, "unit": unit, **doc["markdown"]})
            queued = self.script.get(credential) or []
            code = queued.pop(0) if queued else 0
        return {"errcode": code, "errmsg": "ok" if code == 0 else "scripted"}

    def to(self, platform: str, unit: str) -> list[dict]:
        with self.lock:
            return [m for m in self.got if m["platform"] == platform and m["unit"] == unit]


def serve(platforms: Platforms) -> ThreadingHTTPServer:
    def answer(path, _headers, body):
        parts = urlsplit(path)
        try:
            doc = platforms.answer(parts.path, parse_qs(parts.query), json.loads(body))
        except AssertionError:
            doc = {"errcode": 40008, "errmsg": "invalid message type"}      # a shape the platforms refuse
        # Both platforms answer 200, their errors included.
        return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()
    server = serve_posts(answer)
    platforms.port = server.server_address[1]
    return server


@dataclass
class World:
    intake: object
    notify: object
    intake_url: str
    urls: dict[str, str]
    platforms: Platforms

    def set_robots(self, unit: str, **robots) -> dict:
        resp = self.intake.put(f"/v1/directory/units/{unit}/robots", json=robots, headers=OFFICE)
        assert resp.status_code == 200, resp.json
        return resp.json

    def carry(self) -> None:
        """intake's events, applied by notify's consumer code (its fan-out queues the notices)."""
        with db.connect(self.urls["intake"]) as conn:
            events = [parse_event(r["payload"]) for r in conn.execute("SELECT payload FROM events ORDER BY position")]
        with db.connect(self.urls["notify"]) as conn:
            for event in events:
                apply_once(conn, event, topic_for(event.type), applier(hotline_on=False))
            conn.commit()

    def send(self) -> None:
        """notify's sender, everything due now (no mail server, no SMS gateway: only robots go out)."""
        settings = settings_for("notify", self.urls["notify"], intake_url=self.intake_url,
                                notice_retry_schedule="0.2,0.2", notice_timeout=2.0)
        sender = Sender(self.urls["notify"], Config.from_settings(settings),
                        Channels(IntakeClient(self.intake_url, JWT_SECRET, 2.0)))
        with db.connect(self.urls["notify"]) as conn, db.connect(self.urls["notify"], autocommit=True) as log_conn:
            sender.drain(conn, log_conn)

    def assigned_case(self, lead: str = LEAD, cooperating: tuple[str, ...] = (HELPER,)) -> str:
        body = complaint(description=f"{NAME}反映：窗口推诿，电话{PHONE}", complainant={"name": NAME, "phone": PHONE})
        case_id = self.intake.post("/v1/cases", json=body, headers=OFFICE).json["case_id"]
        resp = self.intake.post(f"/v1/cases/{case_id}/assign", json={
            "lead_unit": lead, "cooperating_units": list(cooperating), "handling_mode": "deadline"}, headers=OFFICE)
        assert resp.status_code == 200, resp.json
        return case_id

    def notices(self, **query) -> list[dict]:
        resp = self.notify.get("/v1/notices", query_string=query, headers=OFFICE)
        assert resp.status_code == 200, resp.json
        return resp.json

    def robot_notices(self, case_id: str) -> dict[str, dict]:
        return {n["to"]: n for n in self.notices(case_id=case_id) if n["channel"] in ("wecom", "dingtalk")}


@pytest.fixture
def world(urls, tmp_path):
    platforms = Platforms()
    robots_server = serve(platforms)
    clock = tmp_path / "now"
    clock.write_text(NOW)
    intake = intake_app(settings_for("intake", urls["intake"], clock_file=str(clock)))
    intake_server = make_server("127.0.0.1", 0, intake, threaded=True)
    threading.Thread(target=intake_server.serve_forever, daemon=True).start()
    notify = notify_app(settings_for("notify", urls["notify"]))
    w = World(intake.test_client(), notify.test_client(), f"http://127.0.0.1:{intake_server.server_port}", urls,
              platforms)
    for name, contacts in ((LEAD, [{"name": "王科长", "email": "wang@zrzyj.example.gov.cn"}]),
                           (HELPER, [{"name": "李主任", "email": "li@zwzx.example.gov.cn"}]), (QUIET, [])):
        assert w.intake.post("/v1/directory/units", json={
            "name": name, "kind": "government_department", "supervising_channel": "县监察局", "contacts": contacts},
            headers=OFFICE).status_code == 200
    w.set_robots(LEAD, wecom={"webhook_url": platforms.wecom_url(LEAD)},
                 dingtalk={"webhook_url": platforms.dingtalk_url(LEAD), "secret": SECRETS[LEAD]})
    w.set_robots(HELPER, wecom={"webhook_url": platforms.wecom_url(HELPER)})
    yield w
    intake_server.shutdown()
    robots_server.shutdown()
    for app in (intake, notify):
        app.extensions["zf_pool"].close()


def test_an_assignment_reaches_the_lead_units_wecom_and_signed_dingtalk_groups_and_the_helpers_wecom(world):
    case_id = world.assigned_case()
    world.carry()
    world.send()

    sent = world.robot_notices(case_id)
    assert {r: (n["status"], n["kind"]) for r, n in sent.items()} == {
        f"wecom:{LEAD}": ("sent", "case_assigned"), f"dingtalk:{LEAD}": ("sent", "case_assigned"),
        f"wecom:{HELPER}": ("sent", "case_assigned")}
    number = world.intake.get(f"/v1/cases/{case_id}", headers=OFFICE).json["case_number"]
    [wecom] = world.platforms.to("wecom", LEAD)
    [dingtalk] = world.platforms.to("dingtalk", LEAD)
    assert wecom["content"].startswith(f"### 【交办通知】推诿扯皮（案件{number}）")
    assert dingtalk["title"] == f"【交办通知】推诿扯皮（案件{number}）" and dingtalk["text"] == wecom["content"]
    assert "现将以下问题线索交你单位牵头办理" in wecom["content"]
    assert "你单位为配合单位" in world.platforms.to("wecom", HELPER)[0]["content"]
    # The groups read what units read: the masked summary, never who complained.
    for message in world.platforms.got:
        text = json.dumps(message, ensure_ascii=False)
        assert NAME not in text and PHONE not in text and "欧阳" not in text


def test_robot_addresses_and_secrets_are_in_no_event_and_no_table_in_clear(world):
    case_id = world.assigned_case()
    world.carry()
    world.send()
    assert len(world.robot_notices(case_id)) == 3
    secrets = [*KEYS.values(), TOKENS[LEAD], SECRETS[LEAD]]
    for service in ("intake", "notify", "ledger", "audit"):
        rows = rows_as_text(world.urls[service])
        for secret in secrets:
            assert secret not in rows and secret.encode().hex() not in rows, f"{service} keeps a robot secret"
    with db.connect(world.urls["intake"]) as conn:
        [event] = [r["payload"] for r in conn.execute(
            "SELECT payload FROM events WHERE type = 'cn.zhengfeng.directory.unit_robots_set.v1'"
            " AND payload->'data'->>'unit' = %s", (HELPER,))]
    assert event["data"]["wecom"].startswith("rb_") and event["data"]["dingtalk"] is None


def test_the_office_reads_which_robots_a_unit_has_units_may_not_read_addresses(world):
    assert world.intake.get(f"/v1/directory/units/{LEAD}/robots", headers=OFFICE).json == {
        "unit": LEAD, "robots": ["dingtalk", "wecom"]}
    units = {u["name"]: u["robots"] for u in world.intake.get("/v1/directory", headers=OFFICE).json["units"]}
    assert units == {LEAD: ["dingtalk", "wecom"], HELPER: ["wecom"], QUIET: []}
    addresses = world.intake.get(f"/v1/directory/units/{LEAD}/robots/addresses", headers=OFFICE).json
    assert addresses["dingtalk"] == {"webhook_url": world.platforms.dingtalk_url(LEAD), "secret": SECRETS[LEAD]}
    for role, scope in (("unit", {"unit": LEAD}), ("auditor", {})):
        assert world.intake.get(f"/v1/directory/units/{LEAD}/robots/addresses",
                                headers=bearer(role, **scope)).status_code == 403
    assert world.intake.get("/v1/directory/units/无此单位/robots", headers=OFFICE).json["code"] == "directory.unit_unknown"
    refused = world.intake.put(f"/v1/directory/units/{LEAD}/robots", headers=OFFICE, json={
        "dingtalk": {"webhook_url": world.platforms.dingtalk_url(LEAD), "secret": "no-prefix"}})
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["dingtalk.secret"]
    assert "no-prefix" not in refused.get_data(as_text=True)


def test_an_errcode_with_http_200_is_a_failure_a_rate_limit_is_tried_again_a_bad_signature_fails(world):
    world.set_robots(QUIET, dingtalk={"webhook_url": world.platforms.dingtalk_url(QUIET), "secret": "SECwrong"})
    world.platforms.script[KEYS[LEAD]] = [45009]              # WeCom: API frequency out of limit, once
    world.platforms.script[TOKENS[LEAD]] = [130101, 130101]   # DingTalk: sent too fast, twice
    lead_case = world.assigned_case(cooperating=())
    quiet_case = world.assigned_case(lead=QUIET, cooperating=())
    world.carry()

    def settled():
        world.send()
        states = {r: n["status"] for c in (lead_case, quiet_case) for r, n in world.robot_notices(c).items()}
        return states if "queued" not in states.values() else None
    assert eventually(settled, 10, 0.25) == {f"wecom:{LEAD}": "sent", f"dingtalk:{LEAD}": "sent",
                                             f"dingtalk:{QUIET}": "failed"}
    lead = world.robot_notices(lead_case)
    log = world.notify.get(f"/v1/notices/{lead[f'dingtalk:{LEAD}']['id']}", headers=OFFICE).json["log"]
    assert [a["result"] for a in log] == ["retry", "retry", "sent"]
    assert log[0]["error"] == "errcode 130101: scripted"
    failed = world.robot_notices(quiet_case)[f"dingtalk:{QUIET}"]
    assert failed["last_error"] == "errcode 310000: sign not match" and failed["attempts"] == 1   # failed at once
    assert world.platforms.to("dingtalk", QUIET) == []


def test_a_robot_replaced_before_the_notice_went_out_is_not_used_and_its_address_is_gone(world):
    case_id = world.assigned_case(cooperating=())
    world.carry()
    world.set_robots(LEAD, dingtalk={"webhook_url": world.platforms.dingtalk_url(LEAD), "secret": SECRETS[LEAD]})
    world.carry()
    world.send()
    sent = world.robot_notices(case_id)
    assert (sent[f"dingtalk:{LEAD}"]["status"], sent[f"wecom:{LEAD}"]["status"]) == ("sent", "skipped")
    assert sent[f"wecom:{LEAD}"]["last_error"] == "the unit has no wecom group robot any more"
    with db.connect(world.urls["intake"]) as conn:
        kinds = [r["kind"] for r in conn.execute("SELECT kind FROM unit_robots WHERE unit = %s", (LEAD,))]
    assert kinds == ["dingtalk"]


def test_a_unit_with_no_contacts_but_a_robot_is_reached_through_it(world):
    world.set_robots(QUIET, dingtalk={"webhook_url": world.platforms.dingtalk_url(QUIET), "secret": SECRETS[QUIET]})
    case_id = world.assigned_case(lead=QUIET, cooperating=())
    world.carry()
    world.send()
    assert [(n["channel"], n["status"]) for n in world.notices(case_id=case_id)] == [("dingtalk", "sent")]
