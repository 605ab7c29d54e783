"""Notices end to end on real parts: cases driven through intake's API (served over real HTTP, since notify
asks it for the complainant's number), intake's and notify's relays to the real broker, notify's
consumer queueing notices, the sender handing them to a real SMTP server on loopback (aiosmtpd) and a
real HTTP receiver standing in for the SMS gateway, and the gateway's signed replies coming back."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

from intake.entrypoints.http import create_app as intake_app
from notify.adapters import notices as store
from notify.adapters.intake_client import IntakeClient
from notify.entrypoints.http import create_app as notify_app
from notify.entrypoints.sender import Sender
from notify.service_layer import notice_sending
from notify.service_layer import notices as handlers
from notify.service_layer.fanout import applier, batch_applier
from notify.service_layer.notice_sending import Channels, Config
from zfcommon import db, kafka
from zfcommon.consumer import EventConsumer
from zfcommon.devstack.ports import free_port
from zfcommon.events.catalogue import TOPICS, all_topics
from zfcommon.eventstore import EventStore
from zfcommon.relay import Relay
from zfcommon.settings import Settings
from zfcommon.webhooks import new_secret, sign

from ..conftest import JWT_SECRET, settings_for, tracking_code
from ..support import bearer, complaint, eventually, group_consumer, hotline_order, rows_as_text, serve_posts
from .test_hotline_webhook import deliver

pytestmark = pytest.mark.integration

OFFICE = bearer()
LEAD, HELPER, QUIET = "县自然资源局", "县政务服务中心", "某镇人民政府"
PHONE = "13807391234"                       # the hotline caller's: must never reach notify's tables or logs
LEAD_PHONE, LEAD_MAIL, HELPER_MAIL = "13900000001", "wang@zrzyj.example.gov.cn", "li@zwzx.example.gov.cn"
NOW = "2026-11-23T10:00:00+08:00"           # intake's clock: a Monday
INBOUND_SECRET = new_secret()               # the hotline signs its work orders with it
REPLY_SECRET = new_secret()                 # the SMS gateway signs complainants' replies with it
SMS_TOKEN = "sms-gateway-token"
MAIL_FROM = "notices@zf.example.gov.cn"


# --------------------------------------------------------------------------------------------------
# The outside world: an SMTP server and an SMS gateway, both real, on loopback.
# --------------------------------------------------------------------------------------------------

@dataclass
class Mailbox:
    messages: list = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default_policy),
                              envelope.content))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for rcpts, m, _ in self.messages if address in rcpts]


@dataclass
class Gateway:
    """The SMS provider: records every request and answers as scripted per number."""
    got: list[dict] = field(default_factory=list)
    script: dict[str, list[tuple[int, float]]] = field(default_factory=dict)     # to -> [(status, hang_s) …]
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send"

    def answer(self, doc: dict, headers: dict) -> tuple[int, float]:
        with self.lock:
            self.got.append({**doc, "authorization": headers.get("authorization")})
            queued = self.script.get(doc.get("to")) or []
            return queued.pop(0) if len(queued) > 1 else (queued[0] if queued else (200, 0))

    def to(self, number: str) -> list[dict]:
        with self.lock:
            return [d for d in self.got if d["to"] == number]


def serve_gateway(gateway: Gateway) -> ThreadingHTTPServer:
    def answer(_path, headers, body):
        status, hang = gateway.answer(json.loads(body), headers)
        time.sleep(hang)
        return status, {"Content-Type": "application/json"}, json.dumps(
            {"message_id": f"gw-{uuid.uuid4().hex[:8]}"} if status < 300 else {"error": "scripted"}).encode()
    server = serve_posts(answer)
    gateway.port = server.server_address[1]
    return server


class Recorded(logging.Handler):
    """Every log record of the run, with its extras, to search for the complainant's number."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(repr(record.__dict__))


# --------------------------------------------------------------------------------------------------
# The system
# --------------------------------------------------------------------------------------------------

@dataclass
class World:
    intake: object
    notify: object
    intake_url: str
    urls: dict[str, str]
    bootstrap: str
    mailbox: Mailbox
    gateway: Gateway
    smtp_port: int
    stop: threading.Event
    threads: list = field(default_factory=list)

    def settings(self, **extra) -> Settings:
        base = dict(smtp_host="127.0.0.1", smtp_port=self.smtp_port, mail_from=MAIL_FROM, sms_url=self.gateway.url,
                    sms_token=SMS_TOKEN, notice_retry_schedule="0.3,0.3", notice_timeout=2.0,
                    intake_url=self.intake_url, case_link="https://zf.example.gov.cn/cases/{case_id}")
        return settings_for("notify", self.urls["notify"], self.bootstrap, **{**base, **extra})

    def start_sender(self, **extra) -> None:
        settings = self.settings(**extra)
        sender = Sender(self.urls["notify"], Config.from_settings(settings),
                        Channels(IntakeClient(self.intake_url, JWT_SECRET, 2.0)), workers=2)
        thread = threading.Thread(target=sender.run, args=(self.stop,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def hotline_case(self, phone: str = PHONE) -> str:
        """A case opened the way the 12345 hotline opens one: its signed work order."""
        order = hotline_order(**{"工单编号": f"SY12345-20261123-{uuid.uuid4().int % 1000000:06d}", "联系电话": phone})
        resp = deliver(self.intake, order, secrets=(INBOUND_SECRET,), at=datetime.fromisoformat(NOW).timestamp())
        assert resp.status_code == 201, resp.json
        return resp.json["case_id"]

    def do(self, case_id: str, command: str, body=None, headers=OFFICE) -> dict:
        resp = self.intake.post(f"/v1/cases/{case_id}/{command}", json=body or {}, headers=headers)
        assert resp.status_code == 200, resp.json
        return resp.json

    def assign(self, case_id: str) -> None:
        self.do(case_id, "assign", {"lead_unit": LEAD, "cooperating_units": [HELPER], "handling_mode": "deadline"})

    def close(self, case_id: str) -> None:
        self.do(case_id, "accept", headers=bearer("unit", unit=LEAD))
        self.do(case_id, "report-rectified", {"text": "已完善一次性告知制度"}, headers=bearer("unit", unit=LEAD))
        self.do(case_id, "close", {"comment": "整改到位"})

    def notices(self, headers=OFFICE, **query) -> list[dict]:
        resp = self.notify.get("/v1/notices", query_string=query, headers=headers)
        assert resp.status_code == 200, resp.json
        return resp.json

    def notice(self, notice_id: int) -> dict:
        return self.notify.get(f"/v1/notices/{notice_id}", headers=OFFICE).json

    def record(self, stream: str, type_: str, data: dict) -> None:
        """An event of notify's own (an escalation step, a missed weekly report) as its writer would
        append it: into notify's store, published by notify's relay."""
        with db.connect(self.urls["notify"]) as conn:
            store_ = EventStore(conn, service="notify")
            store_.record(stream, store_.version(stream), [(type_, data)], correlation_id="test",
                          actor="notify:test", time=datetime.now(timezone.utc))
            conn.commit()

    def reply(self, text: str, sender: str, ext: str | None, webhook_id: str | None = None, secret=REPLY_SECRET):
        body = json.dumps({"from": sender, "text": text, "ext": ext}).encode()
        headers = sign([secret], webhook_id or f"msg_{uuid.uuid4().hex}", int(time.time()), body).as_dict()
        return self.notify.post("/v1/sms/replies", data=body, headers={**headers, "Content-Type": "application/json"})


@pytest.fixture
def world(urls, broker, tmp_path):
    mailbox, gateway = Mailbox(), Gateway()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    sms_server = serve_gateway(gateway)
    clock = tmp_path / "now"
    clock.write_text(NOW)
    intake = intake_app(settings_for("intake", urls["intake"], clock_file=str(clock),
                                     hotline_webhook_secrets=INBOUND_SECRET))
    intake_server = make_server("127.0.0.1", 0, intake, threaded=True)
    threading.Thread(target=intake_server.serve_forever, daemon=True).start()
    intake_url = f"http://127.0.0.1:{intake_server.server_port}"
    stop = threading.Event()
    w = World(intake.test_client(), None, intake_url, urls, broker.bootstrap, mailbox, gateway, smtp_port, stop)
    notify = notify_app(w.settings(sms_reply_secrets=REPLY_SECRET))
    w.notify = notify.test_client()
    for name, contacts in ((LEAD, [{"name": "王科长", "email": LEAD_MAIL, "phone": LEAD_PHONE}]),
                           (HELPER, [{"name": "李主任", "email": HELPER_MAIL}]), (QUIET, [])):
        assert w.intake.post("/v1/directory/units", json={
            "name": name, "kind": "government_department", "supervising_channel": "县监察局", "contacts": contacts},
            headers=OFFICE).status_code == 200
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    consumer = EventConsumer(group="notify", apply=applier(hotline_on=False), database_url=urls["notify"],
                             apply_batch=batch_applier(hotline_on=False),
                             kafka_consumer=group_consumer(broker.bootstrap, "notify", list(TOPICS)),
                             dlq_producer=kafka.producer(broker.bootstrap))
    parts = [Relay(database_url=urls["intake"], bootstrap=broker.bootstrap, partitions=3, batch=100),
             Relay(database_url=urls["notify"], bootstrap=broker.bootstrap, partitions=3, batch=100,
                   service="notify"), consumer]
    w.threads = [threading.Thread(target=p.run, args=(stop,), daemon=True) for p in parts]
    for t in w.threads:
        t.start()
    eventually(lambda: units_in_notify(urls["notify"]) == 3, 30)   # so a case's notices find their units
    recorded = Recorded()
    logging.getLogger().addHandler(recorded)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    w.logs = recorded
    yield w
    stop.set()
    for t in w.threads:
        t.join(timeout=10)
    logging.getLogger().removeHandler(recorded)
    logging.getLogger().setLevel(previous)
    consumer.consumer.close()
    consumer.dlq.close()
    intake_server.shutdown()
    sms_server.shutdown()
    smtp.stop()
    for app in (intake, notify):
        app.extensions["zf_pool"].close()


notify_rows_as_text = rows_as_text      # every row of notify's schema, as text


def units_in_notify(url: str) -> int:
    with db.connect(url) as conn:
        return conn.execute("SELECT count(*) AS n FROM units").fetchone()["n"]


def statuses(world: World, **query) -> list[str]:
    return sorted(n["status"] for n in world.notices(**query))


# --------------------------------------------------------------------------------------------------
# Units and complainants, by real SMTP and a real SMS gateway
# --------------------------------------------------------------------------------------------------

def test_an_assignment_reaches_the_units_by_email_and_sms_and_the_hotline_caller_by_sms_never_stored(world):
    world.start_sender()
    case_id = world.hotline_case()
    world.assign(case_id)
    eventually(lambda: statuses(world, case_id=case_id) == ["sent"] * 5, 30)

    number = world.intake.get(f"/v1/cases/{case_id}", headers=OFFICE).json["case_number"]
    [mail] = world.mailbox.to(LEAD_MAIL)
    assert mail["Subject"] == f"【交办通知】办事效率低（案件{number}）"
    assert mail["From"].addresses[0].display_name == "正风办" and mail["From"].addresses[0].addr_spec == MAIL_FROM
    body = mail.get_content()
    for part in (f"案件编号：{number}", "牵头单位：县自然资源局", "办结时限：", "签收时限：",
                 f"https://zf.example.gov.cn/cases/{case_id}", "交你单位牵头办理"):
        assert part in body, part
    raw = next(raw for rcpts, _, raw in world.mailbox.messages if LEAD_MAIL in rcpts)
    assert b"=?utf-8?" in raw and "交办".encode() not in raw      # RFC 2047 headers, base64 body
    [helper_mail] = world.mailbox.to(HELPER_MAIL)
    assert "你单位为配合单位" in helper_mail.get_content()

    [unit_sms] = world.gateway.to(LEAD_PHONE)
    assert unit_sms["text"].startswith(f"案件{number}已交你单位牵头办理") and unit_sms["sign_name"] == "正风办"
    assert unit_sms["authorization"] == f"Bearer {SMS_TOKEN}" and unit_sms["template"] == "case_assigned"
    caller = world.gateway.to(PHONE)
    assert [d["template"] for d in caller] == ["complainant_received", "complainant_assigned"]
    assert "已受理" in caller[0]["text"] and "ext" not in caller[0]
    # how to track it: the number the caller holds and the case's 查询码 (the public page asks for both)
    assert caller[0]["text"].endswith(f"已受理，办结后凭此编号和查询码{tracking_code(case_id)}可查看办理结果。")
    assert "查询码" not in caller[1]["text"] and "查询码" not in unit_sms["text"]

    listed = world.notices(case_id=case_id)
    complainant = [n for n in listed if n["audience"] == "complainant"]
    assert {n["to"] for n in complainant} == {"138****1234"} and all(n["segments"] == 1 for n in complainant)
    sms_to_unit = next(n for n in listed if n["channel"] == "sms" and n["audience"] == "unit")
    assert sms_to_unit["to"] == LEAD_PHONE and sms_to_unit["provider_message_id"].startswith("gw-")
    one = world.notice(sms_to_unit["id"])
    assert [a["result"] for a in one["log"]] == ["sent"] and one["log"][0]["provider_message_id"].startswith("gw-")

    text = notify_rows_as_text(world.urls["notify"])
    assert case_id in text and "138****1234" in text
    assert PHONE not in text and PHONE[3:] not in text
    assert not [line for line in world.logs.lines if PHONE in line or PHONE[3:] in line]


def test_a_unit_sees_only_its_own_notices_and_the_complainants_are_the_offices(world):
    world.start_sender()
    case_id = world.hotline_case()
    world.assign(case_id)
    eventually(lambda: len(world.notices(case_id=case_id)) == 5, 30)
    mine = world.notices(headers=bearer("unit", unit=HELPER))
    assert [n["to"] for n in mine] == [HELPER_MAIL]
    assert world.notify.get("/v1/notices", query_string={"unit": LEAD},
                            headers=bearer("unit", unit=HELPER)).status_code == 403
    lead_mail = next(n for n in world.notices(unit=LEAD) if n["channel"] == "email")
    assert world.notify.get(f"/v1/notices/{lead_mail['id']}", headers=bearer("unit", unit=HELPER)).status_code == 404
    assert world.notify.get(f"/v1/notices/{lead_mail['id']}", headers=bearer("auditor")).status_code == 200
    assert world.notify.get("/v1/notices", headers=bearer("channel", channel="hotline")).status_code == 403


def test_a_unit_without_contacts_is_listed_as_skipped_and_reached_once_its_contacts_arrive(world):
    world.start_sender()
    case_id = world.hotline_case()
    world.do(case_id, "assign", {"lead_unit": QUIET, "cooperating_units": [], "handling_mode": "deadline"})
    skipped = eventually(lambda: [n for n in world.notices(case_id=case_id) if n["unit"] == QUIET], 30)
    assert [(n["status"], n["channel"], n["to"]) for n in skipped] == [("skipped", "email", None)]
    assert "no email or phone" in skipped[0]["last_error"] and world.notice(skipped[0]["id"])["log"] == []
    # Nothing was sent, but the unit can read what the notice says (the console's 我的通知).
    [unread] = world.notices(case_id=case_id, headers=bearer("unit", unit=QUIET))
    assert unread["body"] is None and unread["text"]["subject"].startswith("【交办通知】")
    assert unread["text"]["body"].startswith(QUIET + "：") and "context" not in unread
    assert world.notice(skipped[0]["id"])["text"] == unread["text"]

    # Directory and case events travel on different topics: a unit's contacts may arrive just after.
    assert world.intake.post("/v1/directory/units", json={
        "name": QUIET, "kind": "township", "supervising_channel": "县委办",
        "contacts": [{"name": "赵镇长", "email": "zhao@town.example.gov.cn"}]}, headers=OFFICE).status_code == 200
    [mail] = eventually(lambda: world.mailbox.to("zhao@town.example.gov.cn"), 30)
    assert mail["Subject"].startswith("【交办通知】") and mail.get_content().startswith(QUIET + "：")
    listed = {n["to"] or "nobody": n for n in world.notices(case_id=case_id, unit=QUIET)}
    assert listed["zhao@town.example.gov.cn"]["event_id"] == listed["nobody"]["event_id"]
    assert listed["nobody"]["status"] == "skipped" and "addressed when" in listed["nobody"]["last_error"]


# --------------------------------------------------------------------------------------------------
# Retries, permanent failures, the office's retry, nothing configured
# --------------------------------------------------------------------------------------------------

def test_the_gateway_failing_with_500_is_retried_and_a_400_fails_at_once(world):
    world.gateway.script[LEAD_PHONE] = [(500, 0), (200, 0)]
    world.gateway.script[PHONE] = [(400, 0)]
    world.mailbox.refuse.add(HELPER_MAIL)
    world.start_sender()
    case_id = world.hotline_case()
    world.assign(case_id)
    # One read for both: two could see an empty list with nothing queued, then all five, some queued.
    eventually(lambda: (now := statuses(world, case_id=case_id)) and "queued" not in now and len(now) == 5, 30)
    by = {(n["kind"], n["channel"], n["unit"]): n for n in world.notices(case_id=case_id)}
    unit_sms = world.notice(by[("case_assigned", "sms", LEAD)]["id"])
    assert unit_sms["status"] == "sent" and [a["result"] for a in unit_sms["log"]] == ["retry", "sent"]
    assert "HTTP 500" in unit_sms["log"][0]["error"] and unit_sms["attempts"] == 2
    assert len(world.gateway.to(LEAD_PHONE)) == 2
    refused = world.notice(by[("complainant_received", "sms", None)]["id"])
    assert refused["status"] == "failed" and [a["result"] for a in refused["log"]] == ["failed"]
    assert "HTTP 400" in refused["last_error"]
    bounced = world.notice(by[("case_assigned", "email", HELPER)]["id"])
    assert bounced["status"] == "failed" and "550" in bounced["last_error"] and len(bounced["log"]) == 1

    world.gateway.script[PHONE] = [(200, 0)]
    again = world.notify.post(f"/v1/notices/{refused['id']}/retry", headers=OFFICE)
    assert again.status_code == 202 and again.json["status"] == "queued"
    eventually(lambda: world.notice(refused["id"])["status"] == "sent", 15)
    assert [a["result"] for a in world.notice(refused["id"])["log"]] == ["failed", "sent"]
    sent = world.notify.post(f"/v1/notices/{refused['id']}/retry", headers=OFFICE)
    assert sent.status_code == 409 and sent.json["state"] == "sent"
    assert world.notify.post(f"/v1/notices/{refused['id']}/retry", headers=bearer("auditor")).status_code == 403
    assert world.notify.post("/v1/notices/999999/retry", headers=OFFICE).status_code == 404


def test_a_gateway_that_keeps_failing_is_given_up_after_the_schedule(world):
    world.gateway.script[LEAD_PHONE] = [(503, 0)]
    world.start_sender()
    case_id = world.hotline_case()
    world.assign(case_id)
    unit_sms = eventually(lambda: [n for n in world.notices(case_id=case_id, channel="sms", unit=LEAD)
                                   if n["status"] == "failed"], 30)[0]
    assert [a["result"] for a in world.notice(unit_sms["id"])["log"]] == ["retry", "retry", "failed"]
    assert len(world.gateway.to(LEAD_PHONE)) == 3


def test_without_smtp_or_a_gateway_notices_wait_as_not_configured_for_all_to_see(world, monkeypatch):
    monkeypatch.setattr(notice_sending, "_UNCONFIGURED_SEEN", set())     # as a freshly started sender
    world.start_sender(smtp_host="", sms_url="")
    case_id = world.hotline_case()
    world.assign(case_id)
    eventually(lambda: statuses(world, case_id=case_id) == ["not_configured"] * 5, 30)
    listed = world.notices(case_id=case_id, channel="email")
    assert all("ZF_SMTP_HOST" in n["last_error"] for n in listed)
    assert all(n["body"] for n in listed)                  # rendered, so the office can read what was meant
    assert "ZF_SMS_URL" in world.notices(case_id=case_id, channel="sms")[0]["last_error"]
    assert world.mailbox.messages == [] and world.gateway.got == []
    # one warning per channel for the process, not one per notice (each notice's status says it)
    warned = [line for line in world.logs.lines if "notice_channel_not_configured" in line]
    assert len(warned) == 2 and any("ZF_SMTP_HOST" in line for line in warned)


# --------------------------------------------------------------------------------------------------
# Erasure, redelivery, escalations and reports of notify's own
# --------------------------------------------------------------------------------------------------

def test_an_erased_complainant_gets_no_sms_and_the_notices_say_why(world):
    case_id = world.hotline_case()
    eventually(lambda: world.notices(case_id=case_id), 30)
    resp = world.intake.delete(f"/v1/cases/{case_id}/complainant", json={"reason": "本人申请删除个人信息"}, headers=OFFICE)
    assert resp.status_code == 200, resp.json
    eventually(lambda: statuses(world, case_id=case_id) == ["skipped"], 30)
    assert "erased" in world.notices(case_id=case_id)[0]["last_error"]

    # A notice queued before notify heard of the erasure: intake says so at send time.
    with db.connect(world.urls["notify"]) as conn:
        store.queue(conn, {"kind": "complainant_closed", "channel": "sms", "audience": "complainant", "unit": None,
                           "contact_name": None, "recipient": "complainant", "masked_to": None, "case_id": case_id,
                           "event_id": "test#late", "event_type": "cn.zhengfeng.case.closed.v1",
                           "context": {"case_id": case_id, "order_no": "SY"}, "status": "queued", "last_error": None,
                           "now": datetime.now(timezone.utc)})
        conn.commit()
    world.start_sender()
    late = eventually(lambda: [n for n in world.notices(case_id=case_id, kind="complainant_closed")
                               if n["status"] == "skipped"], 15)[0]
    assert late["last_error"] == "the complainant's data was erased"
    assert world.notice(late["id"])["log"][0]["result"] == "skipped" and world.gateway.to(PHONE) == []


def test_a_redelivered_event_never_queues_a_notice_twice(world):
    case_id = world.hotline_case()
    world.assign(case_id)
    eventually(lambda: len(world.notices(case_id=case_id)) == 5, 30)
    before = sorted(n["id"] for n in world.notices(case_id=case_id))
    with db.connect(world.urls["intake"]) as conn:
        assigned = EventStore(conn).load(case_id)[1]
    producer = kafka.producer(world.bootstrap)        # Kafka redelivers it …
    producer.send("intake.case.events", key=case_id.encode(), value=json.dumps(assigned.to_dict()).encode()).get(10)
    producer.close()
    with db.connect(world.urls["notify"]) as conn:    # … and the same event applied without its tracking row
        watched = conn.execute("SELECT * FROM watched_cases WHERE case_id = %s", (case_id,)).fetchone()
        assert handlers.on_event(conn, assigned, (None, watched)) == 0
        conn.commit()
    time.sleep(2)
    assert sorted(n["id"] for n in world.notices(case_id=case_id)) == before


def test_escalation_steps_and_missed_weekly_reports_are_sent_to_the_unit(world):
    world.start_sender()
    case_id = world.hotline_case()
    world.assign(case_id)
    eventually(lambda: len(world.notices(case_id=case_id)) == 5, 30)
    world.record(case_id, "cn.zhengfeng.escalation.step_issued.v1", {
        "ladder": "deadline", "step": "supervision_letter", "round": 1, "unit": LEAD, "due": "2026-12-14",
        "working_days_overdue": 5, "handling_mode": "deadline", "threshold": 5, "crossed_on": "2026-12-21"})
    world.record(f"weekly-{LEAD}", "cn.zhengfeng.report.weekly_missed.v1", {
        "unit": LEAD, "week": "2026-W48", "due": "2026-11-27", "flagged_on": "2026-11-30"})
    letter = eventually(lambda: [m for m in world.mailbox.to(LEAD_MAIL) if m["Subject"].startswith("【督办函】")], 30)[0]
    assert "督  办  函" in letter.get_content() and "已超过办结时限5个工作日仍未办结" in letter.get_content()
    weekly = eventually(lambda: [m for m in world.mailbox.to(LEAD_MAIL) if "周报告" in m["Subject"]], 30)[0]
    assert "2026年第48周" in weekly["Subject"]
    eventually(lambda: sorted(d["template"] for d in world.gateway.to(LEAD_PHONE)) ==
               ["case_assigned", "escalation_supervision_letter", "weekly_missed"], 30)
    # The mail arrives before the sender's commit marks the notice sent: wait for that, too.
    [missed] = eventually(lambda: [n for n in world.notices(kind="weekly_missed", channel="email")
                                   if n["status"] == "sent"], 30)
    assert missed["case_id"] is None and missed["unit"] == LEAD


# --------------------------------------------------------------------------------------------------
# The return visit by SMS reply
# --------------------------------------------------------------------------------------------------

def test_a_satisfaction_reply_is_recorded_on_intake_once_and_only_from_the_callers_number(world):
    world.start_sender()
    case_id = world.hotline_case()
    world.assign(case_id)
    world.close(case_id)
    visit = eventually(lambda: [n for n in world.notices(case_id=case_id, kind="visit_request")
                                if n["status"] == "sent"], 30)[0]
    request = next(d for d in world.gateway.to(PHONE) if d["template"] == "visit_request")
    assert request["text"].endswith("回复1满意 2基本满意 3不满意") and request["ext"] == f"{visit['id']:04d}"

    assert world.reply("1", "+86 138 0000 0000", request["ext"]).json["outcome"] == "not_the_complainant"
    assert world.reply("好的", PHONE, request["ext"]).json["outcome"] == "unreadable"
    assert world.reply("1", PHONE, "999999").json["outcome"] == "unknown_code"
    webhook_id = f"msg_{uuid.uuid4().hex}"
    first = world.reply("3 不满意", "+86 138-0739-1234", request["ext"], webhook_id)
    assert first.status_code == 200 and first.json == {"outcome": "recorded", "case_id": case_id,
                                                       "satisfaction": "unsatisfied"}
    assert world.reply("3 不满意", "+86 138-0739-1234", request["ext"], webhook_id).json == first.json   # a retry
    assert world.reply("1", PHONE, request["ext"]).json["outcome"] == "already_rated"

    with db.connect(world.urls["intake"]) as conn:
        visits = [e for e in EventStore(conn).load(case_id) if e.type == "cn.zhengfeng.case.return_visit_recorded.v1"]
    assert [(v.data["satisfaction"], v.actor) for v in visits] == [("unsatisfied", "office:notify-notices")]
    assert world.notice(visit["id"])["replied_at"] is not None
    assert world.do(case_id, "order-rehandling", {"reason": "群众回访不满意"})["status"] == "in_progress"

    unsigned = world.notify.post("/v1/sms/replies", json={"from": PHONE, "text": "1"})
    assert unsigned.status_code == 401
    assert world.reply("1", PHONE, request["ext"], secret=new_secret()).status_code == 401
    text = notify_rows_as_text(world.urls["notify"])
    assert PHONE not in text and "07391234" not in text
    assert not [line for line in world.logs.lines if PHONE in line or "0739-1234" in line]


def test_a_complainant_of_any_channel_who_left_a_phone_is_asked_to_rate_the_handled_case(world):
    world.start_sender()
    keyed_in = world.intake.post("/v1/cases", json=complaint(channel="petition", complainant={
        "name": "李某", "phone": PHONE}), headers=OFFICE).json
    case_id, number = keyed_in["case_id"], keyed_in["case_number"]
    world.assign(case_id)
    world.close(case_id)
    visit = eventually(lambda: [n for n in world.notices(case_id=case_id, kind="visit_request")
                                if n["status"] == "sent"], 30)[0]
    assert visit["case_number"] == number
    sent = world.gateway.to(PHONE)
    assert [d["template"] for d in sent] == ["complainant_closed", "visit_request"]    # no receipt: not the hotline
    # the 办结告知 gives the 查询码 the public page opens the reply with (their receipt SMS did not: no hotline)
    assert sent[0]["text"] == f"您反映的问题（案件{number}）已办结，凭此编号和查询码{tracking_code(case_id)}可查看办理结果。"
    assert keyed_in["tracking_code"] == tracking_code(case_id)
    assert sent[1]["text"] == f"请评价案件{number}办理结果：回复1满意 2基本满意 3不满意"
    answer = world.reply("2", PHONE, f"{visit['id']:04d}").json
    assert answer == {"outcome": "recorded", "case_id": case_id, "satisfaction": "basically_satisfied"}
    assert world.intake.get(f"/v1/cases/{case_id}", headers=OFFICE).json["allowed_commands"] == [
        "record_return_visit", "correct_summary"]


def test_one_recipient_hears_of_one_case_in_the_order_the_notices_were_queued_whatever_the_workers(urls):
    """Two workers: while one sends a case's 结案 SMS, the other does not send that case's request to
    rate it to the same person, but it does send other cases' and other recipients' notices."""
    now = datetime.now(timezone.utc)

    def queue(conn, case_id: str, recipient: str, kind: str) -> int:
        return conn.execute(
            "INSERT INTO notices (kind, channel, audience, recipient, case_id, event_id, event_type, context,"
            " created_at, updated_at, next_attempt_at) VALUES (%s, 'sms', 'complainant', %s, %s, %s, 'test', '{}',"
            " %s, %s, %s) RETURNING id", (kind, recipient, case_id, f"intake#{uuid.uuid4()}", now, now, now),
        ).fetchone()["id"]

    with db.connect(urls["notify"]) as conn:
        closed = queue(conn, "case-a", "complainant", "complainant_closed")
        rate = queue(conn, "case-a", "complainant", "visit_request")
        to_unit = queue(conn, "case-a", "lead@unit.example", "assigned")
        other_case = queue(conn, "case-b", "complainant", "complainant_closed")
        conn.commit()
    with db.connect(urls["notify"]) as one, db.connect(urls["notify"]) as two:
        assert store.claim(one, now)["id"] == closed                   # one is sending it
        assert store.claim(two, now)["id"] == to_unit                  # not the request to rate: it waits
        two.rollback()
        two.execute("UPDATE notices SET status = 'sent' WHERE id = %s", (to_unit,))
        two.commit()
        assert store.claim(two, now)["id"] == other_case
        two.rollback()
        store.update(one, closed, next_attempt_at=now + timedelta(minutes=1))   # it failed: retried later
        one.commit()
        assert store.claim(two, now)["id"] == other_case               # the request still waits for it
        two.rollback()
        store.update(one, closed, status="sent")
        one.commit()
        assert store.claim(two, now)["id"] == rate


# --------------------------------------------------------------------------------------------------
# A sender killed while a message is out
# --------------------------------------------------------------------------------------------------

def _sender_process(world: World, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parents[2] / "services"), DATABASE_URL=world.urls["notify"],
               KAFKA_BOOTSTRAP_SERVERS=world.bootstrap, ZF_JWT_ALGORITHM="HS256", ZF_JWT_SECRET=JWT_SECRET, ZF_SMS_URL=world.gateway.url,
               ZF_SMTP_HOST="127.0.0.1", ZF_SMTP_PORT=str(world.smtp_port), ZF_MAIL_FROM=MAIL_FROM,
               ZF_INTAKE_URL=world.intake_url, ZF_NOTICE_RETRY_SCHEDULE="0.3", ZF_NOTICE_WORKERS="1",
               ZF_NOTICE_TIMEOUT="10")
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "notify.entrypoints.sender"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def test_a_sender_killed_mid_send_and_restarted_sends_nothing_twice(world, tmp_path):
    world.gateway.script[LEAD_PHONE] = [(200, 3.0), (200, 0)]       # the first SMS hangs: the sender is killed then
    case_id = world.hotline_case()
    world.assign(case_id)
    eventually(lambda: len(world.notices(case_id=case_id)) == 5, 30)
    log = tmp_path / "sender.log"
    first = _sender_process(world, log)
    try:
        eventually(lambda: world.gateway.to(LEAD_PHONE), 30)
        time.sleep(0.5)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    second = _sender_process(world, log)
    try:
        eventually(lambda: "queued" not in statuses(world, case_id=case_id), 30)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(15)
    by = {(n["kind"], n["channel"], n["unit"]): n for n in world.notices(case_id=case_id)}
    interrupted = world.notice(by[("case_assigned", "sms", LEAD)]["id"])
    assert interrupted["status"] == "unknown" and [a["result"] for a in interrupted["log"]] == ["interrupted"]
    assert "may have gone out" in interrupted["last_error"]
    assert len(world.gateway.to(LEAD_PHONE)) == 1                   # received once, never sent again on its own
    assert len(world.mailbox.to(LEAD_MAIL)) == len(world.mailbox.to(HELPER_MAIL)) == 1
    assert [d["template"] for d in world.gateway.to(PHONE)] == ["complainant_received", "complainant_assigned"]
    assert sorted(n["status"] for n in by.values()) == ["sent", "sent", "sent", "sent", "unknown"]

    # The office decides: send it again.
    assert world.notify.post(f"/v1/notices/{interrupted['id']}/retry", headers=OFFICE).status_code == 202
    world.start_sender()
    eventually(lambda: world.notice(interrupted["id"])["status"] == "sent", 15)
    assert len(world.gateway.to(LEAD_PHONE)) == 2
