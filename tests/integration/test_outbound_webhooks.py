"""Outbound webhooks end to end on real parts: cases driven through intake's API, intake's relay to the
real broker, notify's consumer (fan-out in its transaction), the dispatcher, and a real HTTP receiver
on a loopback port that checks every Standard Webhooks signature with zfcommon.webhooks.verify."""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from intake.entrypoints.http import create_app as intake_app
from notify.entrypoints.dispatcher import dispatcher as make_dispatcher
from notify.entrypoints.http import create_app as notify_app
from notify.service_layer.dispatch import Config
from notify.service_layer.fanout import applier
from zfcommon.relay import Relay
from zfcommon.sealing import Envelope
from zfcommon.webhooks import RETRY_SCHEDULE, WebhookVerificationError, new_secret, sign, verify

from ..conftest import NOTIFY_KEY, settings_for
from ..support import bearer, complaint, eventually, rows_as_text, serve_posts
from .test_consumer import make_consumer
from .test_sealed_secrets import clear_forms

pytestmark = pytest.mark.integration

OFFICE = bearer()
LEAD, HELPER, OTHER, NEW_LEAD = "县自然资源局", "县政务服务中心", "某镇人民政府", "县住建局"
SCALE = 0.00002          # the whole 10-attempt schedule in about 5 s
TIMEOUT = 0.5
HOTLINE_SECRET = new_secret()       # notify signs its callbacks with it
INBOUND_SECRET = new_secret()       # the hotline signs its work orders with it
ORDER_NO = "SY12345-20261123-000317"
NOW = "2026-11-23T09:00:00+08:00"    # intake's clock: a Monday (the hotline signs its orders at this time too)
PERSONAL = ("complainant", "李某", "13807391234")


def unit(name: str) -> dict[str, str]:
    return bearer("unit", sub=f"officer-{name}", unit=name)


# --------------------------------------------------------------------------------------------------
# The receiver: a real HTTP server that verifies each message and answers as it is told.
# --------------------------------------------------------------------------------------------------

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    verified: str          # the webhook-id, or why verification failed

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    secrets: dict[str, list[str]] = field(default_factory=dict)         # path -> secrets to verify with
    script: dict[str, list[tuple]] = field(default_factory=dict)        # path -> (status, headers, hang_s) …
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.got if r.path == path]

    def answer(self, path: str, body: bytes, headers: dict[str, str]) -> tuple:
        try:
            verified = verify(self.secrets.get(path, []), headers, body, time.time())
        except WebhookVerificationError as exc:
            verified = f"invalid: {exc.reason}"
        with self.lock:
            self.got.append(Received(path, headers, body, time.monotonic(), verified))
            queued = self.script.get(path) or []
            step = queued.pop(0) if len(queued) > 1 else (queued[0] if queued else (204, {}, 0))
        return step


def serve(receiver: Receiver) -> ThreadingHTTPServer:
    def answer(path, headers, body):
        status, answer_headers, hang = receiver.answer(path, body, headers)
        if hang:
            time.sleep(hang)
        return status, answer_headers, b""
    server = serve_posts(answer)
    receiver.port = server.server_address[1]
    return server


# --------------------------------------------------------------------------------------------------
# The system: intake's API, relay, notify's consumer, dispatcher and API, all running.
# --------------------------------------------------------------------------------------------------

@dataclass
class World:
    intake: object
    notify: object
    receiver: Receiver

    def new_case(self, **overrides) -> str:
        resp = self.intake.post("/v1/cases", json=complaint(**overrides), headers=OFFICE)
        assert resp.status_code == 201, resp.json
        return resp.json["case_id"]

    def hotline_case(self) -> str:
        """A case opened the way the hotline opens one: its signed work order (shared/samples)."""
        order = {"工单编号": ORDER_NO, "受理时间": "2026-11-23T08:41:07+08:00", "受理渠道": "电话", "诉求类型": "投诉",
                 "来电人": "李某", "联系电话": "13807391234", "是否保密": True, "诉求标题": "不动产登记窗口推诿",
                 "诉求内容": "窗口工作人员以系统故障为由不予受理，也不一次性告知所需材料。",
                 "建议承办单位": LEAD, "紧急程度": "一般", "附件": []}
        body = json.dumps(order, ensure_ascii=False).encode()
        signed = sign([INBOUND_SECRET], f"msg_{uuid.uuid4().hex}", int(datetime.fromisoformat(NOW).timestamp()),
                      body).as_dict()
        resp = self.intake.post("/v1/hooks/hotline", data=body, headers={**signed, "Content-Type": "application/json"})
        assert resp.status_code == 201, resp.json
        return resp.json["case_id"]

    def do(self, case_id: str, command: str, body=None, headers=OFFICE) -> dict:
        resp = self.intake.post(f"/v1/cases/{case_id}/{command}", json=body or {}, headers=headers)
        assert resp.status_code == 200, resp.json
        return resp.json

    def subscribe(self, unit_name: str, path: str, **extra) -> dict:
        resp = self.notify.post("/v1/subscriptions", json={"unit": unit_name, "url": self.receiver.url(path), **extra},
                                headers=OFFICE)
        assert resp.status_code == 201, resp.json
        self.receiver.secrets[path] = [resp.json["secret"]]
        return resp.json

    def deliveries(self, sub_id: str, headers=OFFICE) -> list[dict]:
        resp = self.notify.get(f"/v1/subscriptions/{sub_id}/deliveries", headers=headers)
        assert resp.status_code == 200, resp.json
        return resp.json

    def subscription(self, sub_id: str) -> dict:
        return self.notify.get(f"/v1/subscriptions/{sub_id}", headers=OFFICE).json


@pytest.fixture
def world(urls, broker, tmp_path):
    receiver = Receiver()
    server = serve(receiver)
    clock = tmp_path / "now"
    clock.write_text(NOW)
    intake = intake_app(settings_for("intake", urls["intake"], clock_file=str(clock),
                                     hotline_webhook_secrets=INBOUND_SECRET))
    notify = notify_app(settings_for("notify", urls["notify"]))
    for name in (LEAD, HELPER, OTHER, NEW_LEAD):
        assert intake.test_client().post("/v1/directory/units", json={
            "name": name, "kind": "government_department", "supervising_channel": "县监察局"},
            headers=OFFICE).status_code == 200
    stop = threading.Event()
    relay = Relay(database_url=urls["intake"], bootstrap=broker.bootstrap, partitions=3, batch=100)
    consumer = make_consumer(urls["notify"], broker.bootstrap, applier(hotline_on=True), group="notify")
    config = Config(secrets=Envelope.from_setting(NOTIFY_KEY, "ZF_NOTIFY_MASTER_KEY"), timeout=TIMEOUT, scale=SCALE, hotline_url=receiver.url("/hotline"),
                    hotline_secrets=(HOTLINE_SECRET,))
    dispatcher = make_dispatcher(urls["notify"], config, workers=2)
    receiver.secrets["/hotline"] = [HOTLINE_SECRET]
    threads = [threading.Thread(target=part.run, args=(stop,), daemon=True) for part in (relay, consumer, dispatcher)]
    for t in threads:
        t.start()
    yield World(intake.test_client(), notify.test_client(), receiver)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    consumer.consumer.close()
    consumer.dlq.close()
    server.shutdown()
    for app in (intake, notify):
        app.extensions["zf_pool"].close()


def types_at(receiver: Receiver, path: str) -> list[str]:
    return [r.json["type"].split(".")[3] for r in receiver.at(path)]


def statuses(world: World, sub_id: str) -> list[str]:
    return [d["status"] for d in world.deliveries(sub_id)]


def assigned_case(world: World, from_hotline: bool = False) -> str:
    case_id = world.hotline_case() if from_hotline else world.new_case()
    world.do(case_id, "assign", {"lead_unit": LEAD, "cooperating_units": [HELPER], "handling_mode": "deadline"})
    return case_id


def run_to_closure(world: World, case_id: str) -> None:
    world.do(case_id, "accept", headers=unit(LEAD))
    world.do(case_id, "report-rectified", {"text": "已完善一次性告知制度"}, headers=unit(LEAD))
    world.do(case_id, "close", {"comment": "整改到位"})


# --------------------------------------------------------------------------------------------------
# Fan-out
# --------------------------------------------------------------------------------------------------

def test_the_lead_and_cooperating_units_get_their_cases_events_in_order_and_no_one_else(world):
    lead = world.subscribe(LEAD, "/lead")
    helper = world.subscribe(HELPER, "/helper", event_types=["cn.zhengfeng.case.assigned.v1",
                                                             "cn.zhengfeng.case.closed.v1"])
    world.subscribe(OTHER, "/other")
    case_id = assigned_case(world)
    run_to_closure(world, case_id)
    number = world.intake.get(f"/v1/cases/{case_id}", headers=OFFICE).json["case_number"]

    eventually(lambda: len(world.receiver.at("/lead")) == 4 and len(world.receiver.at("/helper")) == 2, 30)
    assert types_at(world.receiver, "/lead") == ["assigned", "accepted", "rectification_reported", "closed"]
    assert types_at(world.receiver, "/helper") == ["assigned", "closed"]
    time.sleep(1)
    assert world.receiver.at("/other") == []
    for r in world.receiver.at("/lead") + world.receiver.at("/helper"):
        assert r.verified == r.headers["webhook-id"], r.verified
        assert r.json["subject"] == case_id and r.json["specversion"] == "1.0"
        assert r.json["casenumber"] == number
        assert r.headers["content-type"].startswith("application/cloudevents+json")
    ids = [r.headers["webhook-id"] for r in world.receiver.at("/lead") + world.receiver.at("/helper")]
    assert len(set(ids)) == 6

    log = world.deliveries(lead["id"])
    assert [d["status"] for d in log] == ["delivered"] * 4
    assert [d["event_type"].split(".")[3] for d in log] == ["closed", "rectification_reported", "accepted", "assigned"]
    attempt = log[0]["log"][0]
    assert attempt["status_code"] == 204 and attempt["duration_ms"] >= 0 and attempt["next_attempt_at"] is None
    assert world.deliveries(helper["id"], headers=unit(HELPER))[0]["case_id"] == case_id


def test_a_reassignment_reaches_the_previous_lead_and_the_new_one(world):
    world.subscribe(LEAD, "/lead")
    world.subscribe(NEW_LEAD, "/new")
    case_id = assigned_case(world)
    world.do(case_id, "reassign", {"lead_unit": NEW_LEAD, "handling_mode": "deadline", "reason": "职责调整"})
    world.do(case_id, "accept", headers=unit(NEW_LEAD))
    eventually(lambda: types_at(world.receiver, "/new") == ["reassigned", "accepted"], 30)
    assert types_at(world.receiver, "/lead") == ["assigned", "reassigned"]


# --------------------------------------------------------------------------------------------------
# Failures: retries, dead letters, redelivery, Retry-After, timeouts, 410
# --------------------------------------------------------------------------------------------------

def test_a_failing_endpoint_is_retried_on_the_schedule_then_dead_lettered_and_can_be_redelivered(world):
    sub = world.subscribe(LEAD, "/lead")
    world.receiver.script["/lead"] = [(500, {}, 0)]
    assigned_case(world)
    eventually(lambda: world.subscription(sub["id"])["active"] is False, 40)

    tries = world.receiver.at("/lead")
    assert len(tries) == len(RETRY_SCHEDULE)
    assert len({r.headers["webhook-id"] for r in tries}) == 1 and all(r.verified.startswith("msg_") for r in tries)
    for i in range(1, len(tries)):        # each wait is the schedule's step, scaled, less at most the jitter
        assert tries[i].at - tries[i - 1].at >= RETRY_SCHEDULE[i] * SCALE * 0.8 - 0.01
    assert tries[-1].at - tries[0].at >= sum(RETRY_SCHEDULE) * SCALE * 0.8 - 0.1
    stopped = world.subscription(sub["id"])
    assert (stopped["disabled_reason"], stopped["owner_notice"]) == ("failing", "sent")
    told = world.notify.get("/v1/notices?kind=webhook_disabled", headers=OFFICE).json   # told another way
    assert [(n["unit"], n["kind"]) for n in told] == [(LEAD, "webhook_disabled")]
    [dead] = world.deliveries(sub["id"])
    assert dead["status"] == "dead" and dead["attempts"] == len(RETRY_SCHEDULE)
    assert [a["status_code"] for a in dead["log"]] == [500] * len(RETRY_SCHEDULE)
    assert all(a["next_attempt_at"] for a in dead["log"][:-1]) and dead["log"][-1]["next_attempt_at"] is None
    assert "dead-lettered" in dead["log"][-1]["error"]

    redeliver = f"/v1/subscriptions/{sub['id']}/deliveries/{dead['id']}/redeliver"
    assert world.notify.post(redeliver, headers=OFFICE).status_code == 409      # disabled: enable first
    world.receiver.script["/lead"] = [(200, {}, 0)]
    assert world.notify.post(f"/v1/subscriptions/{sub['id']}/enable", headers=OFFICE).json["active"] is True
    assert world.notify.post(redeliver, headers=OFFICE).status_code == 202
    eventually(lambda: statuses(world, sub["id"]) == ["delivered"], 20)
    assert world.receiver.at("/lead")[-1].headers["webhook-id"] == dead["id"]


def test_a_hanging_endpoint_times_out_and_retry_after_is_honoured(world):
    sub = world.subscribe(LEAD, "/lead")
    world.receiver.script["/lead"] = [(204, {}, 2 * TIMEOUT), (429, {"Retry-After": "1"}, 0), (204, {}, 0)]
    assigned_case(world)
    eventually(lambda: statuses(world, sub["id"]) == ["delivered"], 30)
    [delivery] = world.deliveries(sub["id"])
    timed_out, throttled, done = delivery["log"]
    assert timed_out["status_code"] is None and "no answer within" in timed_out["error"]
    assert throttled["status_code"] == 429 and done["status_code"] == 204
    tries = world.receiver.at("/lead")
    assert tries[2].at - tries[1].at >= 0.95           # the receiver asked for a second


def test_an_endpoint_answering_410_is_disabled_and_gets_nothing_more(world):
    sub = world.subscribe(LEAD, "/lead")
    world.receiver.script["/lead"] = [(410, {}, 0)]
    case_id = assigned_case(world)
    eventually(lambda: world.subscription(sub["id"])["disabled_reason"] == "gone", 30)
    world.do(case_id, "accept", headers=unit(LEAD))
    time.sleep(2)
    assert len(world.receiver.at("/lead")) == 1
    assert [d["status"] for d in world.deliveries(sub["id"])] == ["dead"]


# --------------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------------

def test_after_a_rotation_messages_carry_two_signatures_each_verifying_alone(world):
    sub = world.subscribe(LEAD, "/lead")
    old = sub["secret"]
    def rotate():
        return world.notify.post(f"/v1/subscriptions/{sub['id']}/rotate-secret", json={"grace_hours": 1},
                                 headers={**OFFICE, "Idempotency-Key": "rotate-1"})
    first, again = rotate(), rotate()
    assert first.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    new = first.json["secret"]
    assert new.startswith("whsec_") and new != old and again.json["secret"] == new
    world.receiver.secrets["/lead"] = [new]
    assigned_case(world)
    [message] = eventually(lambda: world.receiver.at("/lead"), 30)
    assert len(message.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert verify([secret], message.headers, message.body, time.time()) == message.headers["webhook-id"]
    assert "secret" not in world.subscription(sub["id"])


# --------------------------------------------------------------------------------------------------
# Hotline callbacks
# --------------------------------------------------------------------------------------------------

def test_the_hotline_hears_each_status_change_of_its_orders_under_its_order_number(world):
    case_id = assigned_case(world, from_hotline=True)
    assigned_case(world)                                   # not from the hotline: no callback
    run_to_closure(world, case_id)
    eventually(lambda: len(world.receiver.at("/hotline")) == 4, 30)
    calls = world.receiver.at("/hotline")
    bodies = [c.json for c in calls]
    assert [b["状态代码"] for b in bodies] == ["assigned", "in_progress", "rectification_reported", "closed"]
    assert [b["状态名称"] for b in bodies] == ["已交办", "整改中", "已报整改", "已销号"]
    number = world.intake.get(f"/v1/cases/{case_id}", headers=OFFICE).json["case_number"]
    assert all(b["工单编号"] == ORDER_NO and b["案件编号"] == number and b["案件ID"] == case_id
               and b["承办单位"] == LEAD for b in bodies)
    assert all(c.verified == c.headers["webhook-id"] for c in calls)
    assert [b["是否办结"] for b in bodies] == [False, False, False, True]
    assert (bodies[-1]["办理结果"], bodies[-1]["办结意见"]) == ("已完善一次性告知制度", "整改到位")
    assert bodies[0]["变更时间"].endswith("+08:00")
    log = world.notify.get("/v1/hotline-callbacks", headers=OFFICE).json
    assert [d["status"] for d in log] == ["delivered"] * 4 and all(d["subscription_id"] is None for d in log)


def test_the_hotlines_secrets_live_only_in_settings_never_in_a_table(world, urls):
    """The whsec_ secrets of the hotline (notify's callbacks, intake's work orders) are settings, held
    where the other keys are (a Secret, the env file); neither service writes them into its tables,
    and the callbacks verify with the reference Standard Webhooks SDK."""
    case_id = assigned_case(world, from_hotline=True)
    run_to_closure(world, case_id)
    eventually(lambda: len(world.receiver.at("/hotline")) == 4, 30)
    for call in world.receiver.at("/hotline"):
        Webhook(HOTLINE_SECRET).verify(call.body, call.headers)      # raises unless signed with it
    for service in ("intake", "notify"):
        rows = rows_as_text(urls[service])
        for secret in (HOTLINE_SECRET, INBOUND_SECRET):
            assert not any(form in rows for form in clear_forms(secret)), f"a hotline secret is in {service}'s tables"


def test_no_message_carries_the_complainant(world):
    world.subscribe(LEAD, "/lead")
    case_id = assigned_case(world, from_hotline=True)
    run_to_closure(world, case_id)
    eventually(lambda: len(world.receiver.at("/lead")) == 4 and len(world.receiver.at("/hotline")) == 4, 30)
    for r in world.receiver.got:
        text = r.body.decode()
        assert not any(p in text for p in PERSONAL), text


# --------------------------------------------------------------------------------------------------
# The subscription API
# --------------------------------------------------------------------------------------------------

def test_units_manage_only_their_own_subscriptions_and_bad_ones_are_refused(world):
    def post(body, headers=OFFICE):
        return world.notify.post("/v1/subscriptions", json=body, headers=headers)
    own = post({"unit": LEAD, "url": "https://lead.example.cn/hooks"}, unit(LEAD))
    assert own.status_code == 201 and own.json["secret"].startswith("whsec_")
    assert own.json["created_by"].startswith("unit:")
    assert post({"unit": HELPER, "url": "https://x.example.cn/h"}, unit(LEAD)).status_code == 403
    assert post({"unit": LEAD, "url": "http://lead.example.cn/hooks"}).json["errors"].keys() == {"url"}
    bad = post({"unit": LEAD, "url": "https://x.example.cn", "event_types": ["cn.zhengfeng.case.teleported.v1"]})
    assert bad.status_code == 422 and "event_types" in bad.json["errors"]
    other = post({"unit": HELPER, "url": "https://helper.example.cn/hooks"})
    assert [s["id"] for s in world.notify.get("/v1/subscriptions", headers=unit(LEAD)).json] == [own.json["id"]]
    assert world.notify.get(f"/v1/subscriptions/{other.json['id']}", headers=unit(LEAD)).status_code == 404
    assert len(world.notify.get("/v1/subscriptions", headers=bearer("auditor")).json) == 2
    keyed = {**OFFICE, "Idempotency-Key": "create-1"}
    body = {"unit": OTHER, "url": "https://other.example.cn/hooks"}
    first, again = post(body, keyed), post(body, keyed)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json["id"] == first.json["id"]
    assert post({**body, "description": "另一个"}, keyed).status_code == 422


def test_a_test_message_is_delivered_and_logged(world):
    sub = world.subscribe(LEAD, "/lead")
    queued = world.notify.post(f"/v1/subscriptions/{sub['id']}/test", headers=unit(LEAD))
    assert queued.status_code == 202 and queued.json["event_type"] == "cn.zhengfeng.webhook.ping.v1"
    [ping] = eventually(lambda: world.receiver.at("/lead"), 20)
    assert ping.verified == queued.json["id"] and ping.json["data"]["subscription_id"] == sub["id"]
    eventually(lambda: statuses(world, sub["id"]) == ["delivered"], 10)
