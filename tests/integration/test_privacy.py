"""Issue 14, "Privacy (first)", played on the real PostgreSQL with every service's app: a lead from
欧阳明远 whose texts quote his name, phone and ID number in several forms goes through the hotline,
is assigned, handled and closed; the unit's token then reads every endpoint of intake, ledger and
notify — and what notify sends out (notices, webhooks, hotline callbacks) — and finds no part of his
name, no phone and no ID. The office still reads everything; revealing the complainant is recorded;
a channel token reads what it may (docs/PRIVACY.md)."""
from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

import openpyxl
import pytest
from werkzeug.serving import make_server

from intake.entrypoints.http import create_app as intake_app
from ledger.adapters.repository import apply as ledger_apply
from ledger.entrypoints.http import create_app as ledger_app
from notify.adapters.intake_client import IntakeClient
from notify.adapters.sender import Answer
from notify.entrypoints.http import create_app as notify_app
from notify.entrypoints.sender import Sender
from notify.service_layer import dispatch
from notify.service_layer.fanout import on_event
from notify.service_layer.notice_sending import Channels, Config
from zfcommon import db, webhooks
from zfcommon.events import parse_event
from zfcommon.eventstore import EventStore
from zfcommon.sealing import Envelope

from ..conftest import JWT_SECRET, NOTIFY_KEY, settings_for
from ..support import bearer, complaint, hotline_order
from .test_hotline_webhook import encode, signed
from .test_ledger_projection import project
from ..unit.test_ledger_evolve import Story

pytestmark = pytest.mark.integration

OFFICE, AUDITOR = bearer(), bearer("auditor")
LEAD, HELPER = "县住房和城乡建设局", "县政务服务中心"
UNIT, HOTLINE = bearer("unit", unit=LEAD), bearer("channel", channel="hotline")
NAME, PHONE, ID = "欧阳明远", "13907395678", "43052219900307715X"
FORBIDDEN = ("欧阳", "明远")            # and the phone and ID with any spacing (no_identity_in)
INBOUND = webhooks.new_secret()
ORDER = hotline_order(**{
    "工单编号": "SY12345-20261201-000777", "来电人": NAME, "联系电话": PHONE, "证件号码": ID,
    "诉求标题": "欧阳先生反映县住建局窗口推诿",
    "诉求内容": (f"来信人{NAME}反映：县住建局工作人员多次推诿，不一次性告知所需材料。本人{NAME}，电话139-0739-5678，"
             f"身份证号430522 19900307 715X，请联系明远本人或拨打+86 139 0739 5678。"),
    "事发地址": "邵阳县宝庆中路88号3栋2单元501室（欧阳明远家楼下）", "建议承办单位": LEAD,
    "附件": [{"名称": f"{NAME}身份证.jpg", "地址": "https://12345.example.gov.cn/files/777-1.jpg"}],
    "受理时间": datetime.now(timezone.utc).isoformat()})


def no_identity_in(text: str) -> list[str]:
    """What of the complainant's identity `text` shows: any part of the name, the phone or the ID number
    however they are spaced."""
    compact = re.sub(r"[\s\-+]", "", text).upper()
    return [part for part in (*FORBIDDEN, PHONE, PHONE[3:], ID, ID[:17]) if part.upper() in compact]


def xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None)


@dataclass
class World:
    urls: dict[str, str]
    intake: object
    ledger: object
    notify: object
    intake_url: str
    fed: dict[str, int] = field(default_factory=lambda: {"intake": 0, "notify": 0})
    sent: list[tuple[str, bytes]] = field(default_factory=list)      # what left for webhooks and the hotline

    def feed(self) -> None:
        """Every new event of intake's and notify's stores applied, in order, as the consumers would."""
        for source in ("intake", "notify"):
            with db.connect(self.urls[source]) as conn:
                rows = conn.execute("SELECT position, payload FROM events WHERE position > %s ORDER BY position",
                                    (self.fed[source],)).fetchall()
            for row in rows:
                event = parse_event(row["payload"])
                with db.connect(self.urls["ledger"]) as ledger, db.connect(self.urls["notify"]) as notify:
                    ledger_apply(ledger, event)
                    on_event(notify, event, hotline_on=True)
                    ledger.commit()
                    notify.commit()
                self.fed[source] = row["position"]

    def do(self, case_id: str, command: str, body=None, headers=OFFICE) -> dict:
        resp = self.intake.post(f"/v1/cases/{case_id}/{command}", json=body or {}, headers=headers)
        assert resp.status_code == 200, resp.json
        return resp.json

    def escalate(self, case_id: str) -> None:
        """A reminder the scheduler would issue, through notify's own store."""
        with db.connect(self.urls["notify"]) as conn:
            store = EventStore(conn, service="notify")
            store.record(case_id, store.version(case_id), [("cn.zhengfeng.escalation.step_issued.v1", {
                "ladder": "deadline", "step": "reminder", "round": 1, "unit": LEAD, "due": "2030-01-10",
                "working_days_overdue": -2, "handling_mode": "deadline", "threshold": -2,
                "crossed_on": "2030-01-08"})], correlation_id="test", actor="notify:scheduler",
                time=datetime.now(timezone.utc))
            conn.commit()

    def send_everything(self) -> None:
        """notify's sender (notices rendered; no mail server: kept as not_configured) and dispatcher
        (webhooks and hotline callbacks, to a receiver that takes everything)."""
        settings = settings_for("notify", self.urls["notify"], intake_url=self.intake_url)
        sender = Sender(self.urls["notify"], Config.from_settings(settings), Channels(IntakeClient(self.intake_url,
                                                                                                    JWT_SECRET)))
        config = dispatch.Config(secrets=Envelope.from_setting(NOTIFY_KEY, "ZF_NOTIFY_MASTER_KEY"), timeout=2, hotline_url="http://127.0.0.1:9/hotline",
                                 hotline_secrets=(webhooks.new_secret(),))

        def receiver(url, body, headers, timeout):
            self.sent.append((url, body))
            return Answer(200, 1)
        with db.connect(self.urls["notify"]) as conn, db.connect(self.urls["notify"], autocommit=True) as log_conn:
            sender.drain(conn, log_conn)
            while dispatch.deliver_one(conn, config, receiver) is not None:
                conn.commit()
            conn.commit()


@pytest.fixture
def world(urls):
    intake = intake_app(settings_for("intake", urls["intake"], hotline_webhook_secrets=INBOUND))
    server = make_server("127.0.0.1", 0, intake, threaded=True)      # notify reveals complainants over HTTP
    threading.Thread(target=server.serve_forever, daemon=True).start()
    intake_url = f"http://127.0.0.1:{server.server_port}"
    ledger = ledger_app(settings_for("ledger", urls["ledger"]))
    notify = notify_app(settings_for("notify", urls["notify"], intake_url=intake_url))
    w = World(urls, intake.test_client(), ledger.test_client(), notify.test_client(), intake_url)
    for unit, mail in ((LEAD, "wang@zjj.example.gov.cn"), (HELPER, "li@zwzx.example.gov.cn")):
        assert w.intake.post("/v1/directory/units", json={
            "name": unit, "kind": "government_department", "supervising_channel": "县监察局",
            "contacts": [{"name": "联络员", "email": mail, "phone": "13900000001"}]}, headers=OFFICE).status_code == 200
    yield w
    server.shutdown()
    for app in (intake, ledger, notify):
        app.extensions["zf_pool"].close()


def the_lead_handled(w: World) -> str:
    """The issue's example: the hotline's work order, assigned, worked on, escalated, closed, visited."""
    assert w.notify.post("/v1/subscriptions", json={"unit": LEAD, "url": "http://127.0.0.1:9/zf"},
                         headers=UNIT).status_code == 201
    body = encode(ORDER)
    resp = w.intake.post("/v1/hooks/hotline", data=body, headers=signed(body, (INBOUND,)))
    assert resp.status_code == 201, resp.json
    case_id = resp.json["case_id"]
    w.do(case_id, "assign", {"lead_unit": LEAD, "cooperating_units": [HELPER], "handling_mode": "deadline",
                             "note": f"请与来信人{NAME}（{PHONE}）核实，身份证{ID}"})
    w.feed()
    w.escalate(case_id)
    w.do(case_id, "accept", headers=UNIT)
    w.do(case_id, "note-progress", {"note": "已电话联系欧阳先生，约定上门"}, headers=UNIT)
    w.do(case_id, "report-rectified", {"text": f"已整改，并向{NAME}反馈，电话139 0739 5678",
                                       "attachments": [{"name": "明远签字.pdf", "url": "https://x.cn/1.pdf"}]},
         headers=UNIT)
    w.do(case_id, "close", {"comment": f"整改到位，{NAME}表示认可"})
    w.do(case_id, "record-return-visit", {"satisfaction": "satisfied", "comment": "明远：满意，感谢"}, headers=HOTLINE)
    w.feed()
    w.send_everything()
    return case_id


def unit_reads(w: World, case_id: str) -> dict[str, str]:
    """Every endpoint of intake, ledger and notify a unit may call about its case, as text."""
    texts: dict[str, str] = {}

    def get(client, path: str, **query) -> None:
        resp = client.get(path, headers=UNIT, query_string=query)
        assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True)[:300])
        texts[f"{path} {query}"] = xlsx_text(resp.data) if path.endswith(".xlsx") else resp.get_data(as_text=True)
    get(w.intake, f"/v1/cases/{case_id}")
    get(w.intake, "/v1/inspections")
    for path in ("/v1/cases", f"/v1/cases/{case_id}", f"/v1/cases/{case_id}/timeline", "/v1/cases/export.csv",
                 "/v1/cases/export.xlsx", "/v1/overdue", "/v1/overdue/export.csv", "/v1/overdue/export.xlsx",
                 "/v1/units/stats", "/v1/units/stats/export.csv", "/v1/units/stats/export.xlsx"):
        get(w.ledger, path)
    get(w.ledger, f"/v1/cases/{case_id}/as-of", at=datetime.now(timezone.utc).isoformat())
    for q in ("欧阳", "明远", "欧阳明远", PHONE, ID, "某某"):
        get(w.ledger, "/v1/cases", q=q)
    get(w.notify, "/v1/notices")
    notices = w.notify.get("/v1/notices", headers=UNIT).json
    for notice in notices:
        get(w.notify, f"/v1/notices/{notice['id']}")
    get(w.notify, "/v1/escalations")
    get(w.notify, f"/v1/escalations/{case_id}")
    get(w.notify, "/v1/subscriptions")
    for sub in w.notify.get("/v1/subscriptions", headers=UNIT).json:
        get(w.notify, f"/v1/subscriptions/{sub['id']}/deliveries")
    get(w.notify, "/v1/weekly-reports")
    get(w.notify, "/v1/quarterly-reports")
    get(w.notify, "/v1/quarterly-reports/overview")
    get(w.notify, "/v1/quarterly-reports/export.csv")
    for path in ("/v1/enforcement-actions", "/v1/enforcement-ratings", "/v1/enforcement-ratings/export.xlsx",
                 "/v1/enforcement-staff"):
        get(w.notify, path)
    refused = w.intake.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "想知道是谁"}, headers=UNIT)
    texts["reveal (refused)"] = f"{refused.status_code} {refused.get_data(as_text=True)}"
    watch = w.notify.get(f"/v1/watch/{case_id}", headers=UNIT)
    texts["watch (refused)"] = f"{watch.status_code} {watch.get_data(as_text=True)}"
    return texts


def test_a_unit_reads_no_part_of_a_quoted_name_phone_or_id_by_any_endpoint(world):
    case_id = the_lead_handled(world)
    texts = unit_reads(world, case_id)
    leaks = {where: found for where, text in texts.items() if (found := no_identity_in(text))}
    assert leaks == {}
    assert texts["reveal (refused)"].startswith("403") and texts["watch (refused)"].startswith("403")
    # It read something real: the case, masked, on every path.
    case = world.ledger.get(f"/v1/cases/{case_id}", headers=UNIT).json
    assert case["description"] == case["summary"] and "来信人某某反映" in case["summary"]
    assert case["location"]["address"] == "邵阳县宝庆中路88号〔门牌已隐去〕（某某家楼下）"
    assert world.ledger.get("/v1/cases", query_string={"q": "欧阳"}, headers=UNIT).json["items"] == []
    assert [c["case_id"] for c in world.ledger.get("/v1/cases", query_string={"q": "推诿"}, headers=UNIT).json[
        "items"]] == [case_id]
    timeline = world.ledger.get(f"/v1/cases/{case_id}/timeline", headers=UNIT).json["items"]
    assert timeline[0]["data"]["origin"]["extra"]["attachments"][0]["name"] == "某某身份证.jpg"
    assert [n for n in world.notify.get("/v1/notices", headers=UNIT).json if n["kind"] == "escalation_reminder"]
    mails = [n for n in world.notify.get("/v1/notices", headers=UNIT).json if n["channel"] == "email"]
    assert {n["kind"] for n in mails} == {"case_assigned", "escalation_reminder"}
    assert all("问题摘要：欧阳先生" not in n["body"] and "问题摘要：某某先生反映" in n["body"] for n in mails)


def test_what_notify_sends_out_shows_no_identity(world):
    case_id = the_lead_handled(world)
    hooks = [body.decode() for url, body in world.sent if url.endswith("/zf")]
    callbacks = [body.decode() for url, body in world.sent if url.endswith("/hotline")]
    assert len(hooks) >= 6 and len(callbacks) >= 3, world.sent
    assert {i: found for i, body in enumerate(hooks + callbacks) if (found := no_identity_in(body))} == {}
    assert any('"办理结果":"已整改，并向某某反馈，电话〔电话已隐去〕"' in c for c in callbacks)
    assert case_id in hooks[0]


def test_the_office_and_auditors_read_everything_as_written(world):
    case_id = the_lead_handled(world)
    for who in (OFFICE, AUDITOR):
        case = world.ledger.get(f"/v1/cases/{case_id}", headers=who).json
        assert NAME in case["description"] and "来信人某某" in case["summary"]
        assert NAME in world.intake.get(f"/v1/cases/{case_id}", headers=who).json["description"]
        timeline = world.ledger.get(f"/v1/cases/{case_id}/timeline", headers=who).get_data(as_text=True)
        assert f"请与来信人{NAME}" in timeline
    assert [c["case_id"] for c in world.ledger.get("/v1/cases", query_string={"q": "欧阳"},
                                                   headers=OFFICE).json["items"]] == [case_id]


def test_the_hotline_reads_its_work_orders_masked_too(world):
    case_id = the_lead_handled(world)
    for client, path in ((world.intake, f"/v1/cases/{case_id}"), (world.ledger, f"/v1/cases/{case_id}/timeline"),
                         (world.ledger, "/v1/cases")):
        resp = client.get(path, headers=HOTLINE)
        assert resp.status_code == 200 and no_identity_in(resp.get_data(as_text=True)) == []


def test_the_office_corrects_the_summary_units_read_but_cannot_put_the_name_back(world):
    case_id = the_lead_handled(world)
    refused = world.intake.post(f"/v1/cases/{case_id}/correct-summary", json={"summary": "明远反映窗口推诿"},
                                headers=OFFICE)
    assert refused.status_code == 422 and refused.json["code"] == "case.summary_not_masked"
    assert refused.json["errors"]["summary"] == ["含有投诉人姓名：明＊"] and NAME not in refused.get_data(as_text=True)
    assert world.intake.post(f"/v1/cases/{case_id}/correct-summary", json={"summary": "反映县住建局窗口推诿"},
                             headers=UNIT).status_code == 403
    world.do(case_id, "correct-summary", {"summary": "反映县住建局窗口推诿，不一次性告知所需材料"})
    world.feed()
    for client in (world.ledger, world.intake):
        assert client.get(f"/v1/cases/{case_id}", headers=UNIT).json["description"] == "反映县住建局窗口推诿，不一次性告知所需材料"
    timeline = world.ledger.get(f"/v1/cases/{case_id}/timeline", headers=AUDITOR).json["items"]
    assert timeline[-1]["type"] == "cn.zhengfeng.case.summary_corrected.v1" and timeline[-1]["actor"] == "office:tester"


def test_a_reveal_answers_the_office_and_is_recorded_without_the_data(world):
    case_id = world.intake.post("/v1/cases", json=complaint(complainant={"name": NAME, "phone": PHONE,
                                                                          "id_number": ID}),
                                headers=OFFICE).json["case_id"]
    assert world.intake.get(f"/v1/cases/{case_id}/complainant", headers=OFFICE).status_code == 405
    shown = world.intake.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "回访核实诉求"},
                              headers=bearer(sub="zhangsan"))
    assert shown.status_code == 200 and shown.json["complainant"]["id_number"] == ID
    assert (shown.json["outcome"], shown.json["revealed_by"]) == ("revealed", "office:zhangsan")
    assert IntakeClient(world.intake_url, JWT_SECRET).complainant(case_id, "向投诉人发送短信：受理告知").phone == PHONE
    reveals = world.intake.get(f"/v1/cases/{case_id}/complainant/reveals", headers=AUDITOR).json["items"]
    assert [(r["actor"], r["reason"], r["outcome"]) for r in reveals] == [
        ("office:zhangsan", "回访核实诉求", "revealed"), ("office:notify-notices", "向投诉人发送短信：受理告知", "revealed")]
    with db.connect(world.urls["intake"]) as conn:
        stored = conn.execute("SELECT stream_id, payload::text AS p FROM events WHERE type = %s",
                              ("cn.zhengfeng.complainant.revealed.v1",)).fetchall()
    assert {r["stream_id"] for r in stored} == {f"complainant-{case_id}"}
    assert all(no_identity_in(r["p"]) == [] for r in stored)
    version = world.intake.get(f"/v1/cases/{case_id}", headers=OFFICE).json["version"]
    assert version == 1, "a reveal does not move the case"
    for who in (UNIT, HOTLINE, AUDITOR):
        assert world.intake.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "x"},
                                 headers=who).status_code == 403
    assert world.intake.post("/v1/cases/no-such-case/complainant/reveal", json={"reason": "x"},
                             headers=OFFICE).status_code == 404


# --------------------------------------------------------------------------------------------------
# What a channel token reads: the hotline platform its channel, a department's client its own submissions
# --------------------------------------------------------------------------------------------------

PETITION_A = bearer("channel", sub="client-a", channel="petition")
PETITION_B = bearer("channel", sub="client-b", channel="petition")


def test_a_departments_client_reads_only_the_cases_it_submitted_on_intake(world):
    own = world.intake.post("/v1/cases", json=complaint(channel="petition"), headers=PETITION_A).json["case_id"]
    other = world.intake.post("/v1/cases", json=complaint(channel="petition"), headers=PETITION_B).json["case_id"]
    office = world.intake.post("/v1/cases", json=complaint(channel="petition"), headers=OFFICE).json["case_id"]
    assert world.intake.get(f"/v1/cases/{own}", headers=PETITION_A).status_code == 200
    assert [world.intake.get(f"/v1/cases/{c}", headers=PETITION_A).status_code for c in (other, office)] == [404, 404]
    hotline_case = world.intake.post("/v1/cases", json=complaint(), headers=OFFICE).json["case_id"]
    assert world.intake.get(f"/v1/cases/{hotline_case}", headers=HOTLINE).status_code == 200


def test_a_departments_client_reads_only_the_cases_it_submitted_on_the_ledger(world):
    project(world.urls["ledger"], Story("mine", channel="petition", actor="channel:client-a"),
            Story("theirs", channel="petition", actor="channel:client-b"),
            Story("keyed-in", channel="petition"), Story("hot", channel="hotline"))
    assert [c["case_id"] for c in world.ledger.get("/v1/cases", headers=PETITION_A).json["items"]] == ["mine"]
    assert world.ledger.get("/v1/cases/theirs/timeline", headers=PETITION_A).status_code == 404
    assert world.ledger.get("/v1/cases/mine", headers=PETITION_B).status_code == 404
    assert [c["case_id"] for c in world.ledger.get("/v1/cases", headers=HOTLINE).json["items"]] == ["hot"]
    stats = world.ledger.get("/v1/units/stats", headers=PETITION_A)
    assert stats.status_code == 403 and stats.json["code"] == "ledger.stats_channel_wide_only"
    assert world.ledger.get("/v1/units/stats", headers=HOTLINE).status_code == 200


def test_open311_public_reads_tell_where_to_street_level_only(world):
    case_id = world.intake.post("/v1/cases", json=complaint(location={
        "address": "邵阳县宝庆中路88号3栋2单元501室", "lat": 26.98912, "lon": 111.27436}), headers=OFFICE).json["case_id"]
    [record] = world.intake.get(f"/open311/v2/requests/{case_id}.json").json
    assert (record["address"], record["lat"], record["long"]) == ("邵阳县宝庆中路", 26.989, 111.274)
    office = world.intake.get(f"/v1/cases/{case_id}", headers=OFFICE).json
    assert office["location"]["address"] == "邵阳县宝庆中路88号3栋2单元501室"


def test_reveals_at_the_same_moment_are_each_recorded(world):
    case_id = world.intake.post("/v1/cases", json=complaint(), headers=OFFICE).json["case_id"]
    answers: list[int] = []

    def reveal_five_times():
        client = world.intake.application.test_client()
        for _ in range(5):
            answers.append(client.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "核实"},
                                       headers=OFFICE).status_code)
    threads = [threading.Thread(target=reveal_five_times) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorded = world.intake.get(f"/v1/cases/{case_id}/complainant/reveals", headers=AUDITOR).json["items"]
    assert answers == [200] * 15 and len(recorded) == 15      # a lost race to append is simply tried again
