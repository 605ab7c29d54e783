"""Public exposure of typical cases (典型案例曝光) on the real PostgreSQL and broker: cases received by
intake (served over real HTTP, since notify asks it for the complainant's identity), relayed to
notify and audit through the broker; the office selects, redacts, approves (four eyes) and publishes;
the public page and the three feeds show exactly the published text; withdrawal takes it away; and a
rebuild from the audit trail gives the same public output.

The central promise (举报人保护): no personal data of a complainant appears on any public output, even
when, as in real complaints, the complainant's name, phone, ID number and e-mail are written into the
description itself.
"""
from __future__ import annotations

import json
import re
import threading
import time
import unicodedata
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
import requests
from werkzeug.serving import make_server

from audit.adapters import trail
from audit.entrypoints.http import create_app as audit_app
from intake.entrypoints.http import create_app as intake_app
from ledger.adapters.repository import apply as ledger_apply
from ledger.entrypoints.http import create_app as ledger_app
from notify.adapters.repository import apply as notify_apply
from notify.entrypoints.http import create_app as notify_app
from zfcommon import db, kafka, webhooks
from zfcommon.consumer import EventConsumer
from zfcommon.events.catalogue import PUBLICATION_TOPIC, TOPICS
from zfcommon.rebuild import events_from_trail, rebuild
from zfcommon.relay import Relay
from zfcommon.workdays import SHANGHAI

from ..conftest import fresh_database, service_urls, settings_for
from ..support import bearer, complaint, eventually, group_consumer, hotline_order, read_topic
from ..unit.test_redaction import ID_DIGIT, ID_X

pytestmark = pytest.mark.integration
ALICE, BOB, AUDITOR = bearer("office", sub="alice"), bearer("office", sub="bob"), bearer("auditor")
HOTLINE_SECRET = webhooks.new_secret()
ATOM = "{http://www.w3.org/2005/Atom}"


class Served:
    """A Flask app on a real port (notify calls intake over HTTP; the rebuild reads audit over HTTP)."""

    def __init__(self, app):
        self.app, self.server = app, make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.app.extensions["zf_pool"].close()


class Pipeline:
    def __init__(self, urls: dict[str, str], bootstrap: str):
        self.urls, self.bootstrap = urls, bootstrap
        self.intake = Served(intake_app(settings_for("intake", urls["intake"], hotline_webhook_secrets=HOTLINE_SECRET)))
        self.audit = Served(audit_app(settings_for("audit", urls["audit"])))
        self.ledger = Served(ledger_app(settings_for("ledger", urls["ledger"])))
        self.notify_app = notify_app(settings_for("notify", urls["notify"], intake_url=self.intake.url))
        self.notify = self.notify_app.test_client()
        self.stop = threading.Event()
        self.consumers = [
            EventConsumer(group=g, apply=a, database_url=urls[g], apply_batch=b, dlq_producer=kafka.producer(bootstrap),
                          kafka_consumer=group_consumer(bootstrap, g, list(TOPICS)))
            for g, a, b in (("notify", notify_apply, None), ("ledger", ledger_apply, None),
                            ("audit", trail.apply, trail.apply_batch))]
        relays = [Relay(database_url=urls[s], bootstrap=bootstrap, partitions=3, service=s, check_interval=0.5)
                  for s in ("intake", "notify")]
        self.threads = [threading.Thread(target=w.run, args=(self.stop,), daemon=True)
                        for w in (*relays, *self.consumers)]
        for t in self.threads:
            t.start()
        self.cases: list[str] = []

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(10)
        for c in self.consumers:
            c.consumer.close()
            c.dlq.close()
        for served in (self.intake, self.audit, self.ledger):
            served.close()
        self.notify_app.extensions["zf_pool"].close()

    def receive(self, **overrides) -> str:
        r = requests.post(f"{self.intake.url}/v1/cases", json=complaint(**overrides), headers=ALICE, timeout=10)
        assert r.status_code == 201, r.text
        return self._seen(r.json()["case_id"])

    def receive_hotline_order(self, **changes) -> str:
        body = json.dumps(hotline_order(**changes), ensure_ascii=False).encode()
        headers = {**webhooks.sign([HOTLINE_SECRET], f"msg_{time.time_ns()}", int(time.time()), body).as_dict(),
                   "Content-Type": "application/json"}
        r = requests.post(f"{self.intake.url}/v1/hooks/hotline", data=body, headers=headers, timeout=10)
        assert r.status_code == 201, r.text
        return self._seen(r.json()["case_id"])

    def _seen(self, case_id: str) -> str:
        eventually(lambda: self.notify.get(f"/v1/watch/{case_id}", headers=AUDITOR).status_code == 200, timeout=30)
        eventually(lambda: requests.get(f"{self.ledger.url}/v1/cases/{case_id}", headers=AUDITOR, timeout=5).ok,
                   timeout=30)
        self.cases.append(case_id)
        return case_id

    def post(self, path: str, body: dict | None = None, headers=ALICE, status: int = 200) -> dict:
        r = self.notify.post(path, json=body if body is not None else {}, headers=headers)
        assert r.status_code == status, r.get_json()
        return r.get_json()

    def expose(self, case_id: str, redaction: dict | None = None, **select) -> dict:
        """Select, redact (alice), approve (bob), publish: the exposure as published."""
        exp = self.post("/v1/exposures", {"case_id": case_id, "title": "典型案例", **select}, status=201)
        self.post(f"/v1/exposures/{exp['id']}/redaction", redaction or {})
        self.post(f"/v1/exposures/{exp['id']}/approve", headers=BOB)
        return self.post(f"/v1/exposures/{exp['id']}/publish")

    def public_outputs(self, client=None) -> dict[str, str]:
        """Every public output: the page, each exposure's page it links to, the feeds, and the
        publications' files the page links to."""
        client = client or self.notify
        outputs = {"/public/": client.get("/public/").get_data(as_text=True)}
        for path in ("/public/feed.json", "/public/feed.rss", "/public/feed.atom"):
            outputs[path] = client.get(path).get_data(as_text=True)
        for link in re.findall(r'href="(/public/[^"]+)"', outputs["/public/"]):
            if link not in outputs and not link.endswith(".pdf"):
                resp = client.get(link)
                assert resp.status_code == 200, link
                outputs[link] = resp.get_data(as_text=True)
        return outputs


@pytest.fixture
def pipeline(urls, broker):
    world = Pipeline(urls, broker.bootstrap)
    yield world
    world.close()


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _digits_only_runs(text: str) -> str:
    """The text with every separator people put between digits removed (138-0739 1234 -> 13807391234)."""
    return re.sub(r"[\s\-–—.()（）/_+]", "", _normal(text))


def assert_nothing_of(person: dict[str, str], outputs: dict[str, str]) -> None:
    for where, text in outputs.items():
        flat = _normal(text)
        squeezed = _digits_only_runs(text)
        for field, value in person.items():
            assert _normal(value) not in flat, f"{field} {value!r} appears in {where}"
            assert _normal(value).lower() not in flat.lower(), f"{field} {value!r} appears in {where}"
            digits = re.sub(r"\D", "", _normal(value))
            if len(digits) >= 5:
                assert digits not in squeezed, f"the digits of {field} appear in {where}"


def test_an_exposure_is_selected_redacted_approved_by_another_office_user_published_and_withdrawn(pipeline):
    case_id = pipeline.receive(description="不动产登记窗口以系统故障为由推诿。本人李某，电话13807391234。")
    # Nothing public before approval and publication.
    exp = pipeline.post("/v1/exposures", {"case_id": case_id, "title": "县自然资源局不动产登记窗口推诿扯皮",
                                          "category": "推诿扯皮", "lesson": "窗口单位要一次性告知。"}, status=201)
    assert exp["state"] == "selected" and exp["allowed"] == ["redact", "withdraw"]
    assert exp["case"]["unit"] == "县自然资源局" and exp["case"]["channel"] == "hotline"
    number = requests.get(f"{pipeline.intake.url}/v1/cases/{case_id}", headers=AUDITOR, timeout=5).json()["case_number"]
    assert exp["case_number"] == exp["case"]["case_number"] == number and number.startswith("ZF-")
    assert pipeline.notify.get(f"/v1/watch/{case_id}", headers=AUDITOR).get_json()["case_number"] == number
    assert "13807391234" not in json.dumps(exp) and "李某" not in json.dumps(exp, ensure_ascii=False)
    refused = pipeline.notify.post(f"/v1/exposures/{exp['id']}/publish", headers=ALICE)
    assert refused.status_code == 409 and refused.get_json()["state"] == "selected"
    assert pipeline.notify.get(f"/public/exposures/{exp['id']}").status_code == 404
    again = pipeline.notify.post("/v1/exposures", json={"case_id": case_id, "title": "再选"}, headers=ALICE)
    assert again.status_code == 409 and again.get_json()["exposure_id"] == exp["id"]

    red = pipeline.post(f"/v1/exposures/{exp['id']}/redaction", {"remove": ["系统故障"]})
    assert red["state"] == "redacted" and red["complainant_checked"] is True
    assert red["preview"]["case_number"] == number              # the public may quote the case by its number
    assert red["preview"]["text"] == "不动产登记窗口以〔已隐去〕为由推诿。本人某某，电话〔电话已隐去〕。"
    assert {(r["kind"], r["count"]) for r in red["removed"]} == {("marked", 1), ("complainant_name", 1),
                                                                  ("complainant_phone", 1)}
    preview = pipeline.notify.get(red["preview_url"], headers=AUDITOR)
    assert preview.status_code == 200 and "草稿预览" in preview.get_data(as_text=True)
    assert pipeline.notify.get(red["preview_url"], headers=bearer("public")).status_code == 403

    # Four eyes: alice redacted it, so alice may not approve it; bob may, naming what he read.
    same = pipeline.notify.post(f"/v1/exposures/{exp['id']}/approve", json={}, headers=ALICE)
    assert same.status_code == 403 and same.get_json()["code"] == "exposure.four_eyes"
    stale = pipeline.notify.post(f"/v1/exposures/{exp['id']}/approve", json={"revision": 1}, headers=BOB)
    assert stale.status_code == 409 and stale.get_json()["revision"] == red["revision"]
    approved = pipeline.post(f"/v1/exposures/{exp['id']}/approve", {"revision": red["revision"]}, headers=BOB)
    assert approved["state"] == "approved" and approved["approved_by"] == "office:bob"
    assert pipeline.notify.get("/public/").get_data(as_text=True).count(exp["id"]) == 0

    done = pipeline.post(f"/v1/exposures/{exp['id']}/publish", headers={**ALICE, "Idempotency-Key": "pub-1"})
    replay = pipeline.notify.post(f"/v1/exposures/{exp['id']}/publish", json={},
                                  headers={**ALICE, "Idempotency-Key": "pub-1"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert done["state"] == "published" and done["published"] == red["preview"]
    assert done["public_url"] == f"/public/exposures/{exp['id']}"
    twice = pipeline.notify.post(f"/v1/exposures/{exp['id']}/publish", headers=ALICE)
    assert twice.status_code == 409 and twice.get_json()["state"] == "published"

    page = pipeline.notify.get(done["public_url"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    assert "县自然资源局不动产登记窗口推诿扯皮" in html and "窗口单位要一次性告知。" in html and "〔电话已隐去〕" in html
    assert f"案件编号：{number}" in html
    index = pipeline.notify.get("/public/")
    assert done["public_url"] in index.get_data(as_text=True) and index.headers["ETag"]
    assert pipeline.notify.get("/public/", headers={"If-None-Match": index.headers["ETag"]}).status_code == 304
    assert pipeline.notify.get("/public/", headers={"If-Modified-Since": index.headers["Last-Modified"]}
                               ).status_code == 304

    feed = json.loads(pipeline.notify.get("/public/feed.json").get_data(as_text=True))
    assert [i["id"] for i in feed["items"]] == [f"urn:uuid:{exp['id']}"]
    assert feed["items"][0]["content_text"] == (f"【案件编号】{number}\n\n" + red["preview"]["text"]
                                                + "\n\n【警示点评】窗口单位要一次性告知。")

    # The trail: the published event carries exactly the public text.
    records = read_topic(pipeline.bootstrap, PUBLICATION_TOPIC, expect=4)
    published = [json.loads(r.value) for r in records if json.loads(r.value)["type"].endswith("exposure.published.v1")]
    assert published and published[0]["data"]["public"] == done["published"]
    assert all("13807391234" not in r.value.decode() for r in records)

    withdrawn = pipeline.post(f"/v1/exposures/{exp['id']}/withdraw", {"reason": "当事单位已整改到位，撤回曝光"})
    assert withdrawn["state"] == "withdrawn" and withdrawn["allowed"] == []
    assert pipeline.notify.get(done["public_url"]).status_code == 410
    assert exp["id"] not in pipeline.notify.get("/public/").get_data(as_text=True)
    for path in ("/public/feed.json", "/public/feed.rss", "/public/feed.atom"):
        assert exp["id"] not in pipeline.notify.get(path).get_data(as_text=True)
    # The case may be exposed anew once the earlier exposure is withdrawn.
    assert pipeline.post("/v1/exposures", {"case_id": case_id, "title": "重新曝光"}, status=201)["state"] == "selected"


def test_bad_requests_store_nothing(pipeline):
    case_id = pipeline.receive(description="窗口推诿")
    unknown = pipeline.notify.post("/v1/exposures", json={"case_id": "no-such-case", "title": "x"}, headers=ALICE)
    assert unknown.status_code == 422 and "case_id" in unknown.get_json()["errors"]
    exp = pipeline.post("/v1/exposures", {"case_id": case_id, "title": "典型"}, status=201)
    missing = pipeline.notify.post(f"/v1/exposures/{exp['id']}/redaction", json={"remove": ["推诿", "没有的词"]},
                                   headers=ALICE)
    assert missing.status_code == 422
    assert missing.get_json()["errors"] == {"remove": {"1": ["标题、类别、正文和点评中都没有这段文字"]}}
    span = pipeline.notify.post(f"/v1/exposures/{exp['id']}/redaction", json={"spans": [{"start": 3, "end": 99}]},
                                headers=ALICE)
    assert span.status_code == 422 and "spans" in span.get_json()["errors"]
    assert pipeline.notify.get(f"/v1/exposures/{exp['id']}", headers=AUDITOR).get_json()["state"] == "selected"
    assert pipeline.notify.post("/v1/exposures/nope/approve", json={}, headers=BOB).status_code == 404
    assert pipeline.notify.post(f"/v1/exposures/{exp['id']}/withdraw", json={}, headers=ALICE).status_code == 422
    listed = pipeline.notify.get("/v1/exposures?state=selected", headers=AUDITOR).get_json()
    assert [i["id"] for i in listed["items"]] == [exp["id"]] and listed["next_offset"] is None


def test_two_offices_at_once_select_a_case_once_and_publish_it_once(pipeline):
    case_id = pipeline.receive(description="窗口推诿")

    def race(method, path, body, headers) -> list[int]:
        barrier, codes = threading.Barrier(2), []

        def one():
            client = pipeline.notify_app.test_client()
            barrier.wait()
            codes.append(getattr(client, method)(path, json=body, headers=headers).status_code)
        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return sorted(codes)

    assert race("post", "/v1/exposures", {"case_id": case_id, "title": "典型"}, ALICE) == [201, 409]
    [exp] = pipeline.notify.get("/v1/exposures", headers=AUDITOR).get_json()["items"]
    pipeline.post(f"/v1/exposures/{exp['id']}/redaction", {})
    pipeline.post(f"/v1/exposures/{exp['id']}/approve", headers=BOB)
    assert race("post", f"/v1/exposures/{exp['id']}/publish", {}, ALICE) == [200, 409]
    with db.connect(pipeline.urls["notify"]) as conn:
        types = [r["type"] for r in conn.execute("SELECT type FROM events WHERE stream_id = %s ORDER BY version",
                                                 (f"exposure-{exp['id']}",))]
    assert [t.split(".")[3] for t in types] == ["selected", "redacted", "approved", "published"]


# Complainants as real complaints quote them: name, mobile (with separators), ID number, e-mail in the text.
PEOPLE = [
    {"name": "李建国", "phone": "13807391234", "email": "lijianguo@example.com", "id": ID_X},
    {"name": "王秀英", "phone": "139-0739-5678", "email": "WXY.1968@mail.example.cn", "id": ID_DIGIT},
    {"name": "欧阳明", "phone": "+86 137 0739 0001", "email": "oym@example.org", "id": "430522199001011234"},
]
DESCRIPTIONS = [
    "本人{name}，电话{phone}，身份证号{id}，邮箱{email}。我到县不动产登记窗口办证，工作人员以系统故障为由推诿，"
    "{name}多次前往未果。请回电{phone}。",
    "投诉人{name}反映：乡镇卫生院收取红包。联系方式：{phone}（手机），身份证{id}，可发邮件至{email}。{name}表示愿意配合调查。",
    "来电人：{name}（身份证号码 {id}），称社保窗口态度冷漠。联系电话 {phone}；电子邮件：{email}。",
]


def publish_bulletin(pipeline: Pipeline, tmp_path, case_ids: list[str]) -> None:
    """The month's bulletin drafted once the month is over (a file clock a month on), approved and
    published; notify's projection lists it when its published event comes back from the broker."""
    today = datetime.now(SHANGHAI)
    month, later_on = today.strftime("%Y-%m"), (today + timedelta(days=40)).strftime("%Y-%m-28T09:00:00+08:00")
    clock = tmp_path / "clock"
    clock.write_text(later_on)
    later = notify_app(settings_for("notify", pipeline.urls["notify"], clock_file=str(clock),
                                    ledger_url=pipeline.ledger.url, intake_url=pipeline.intake.url))
    try:
        client = later.test_client()
        r = client.post("/v1/bulletins", json={"month": month, "typical_cases": [{"case_id": c} for c in case_ids]},
                        headers=ALICE)
        assert r.status_code == 201, r.get_json()
        for step, body, who in (("review", {"decision": "approved"}, BOB), ("publish", {}, ALICE)):
            assert client.post(f"/v1/bulletins/{month}/{step}", json=body, headers=who).status_code == 200
    finally:
        later.extensions["zf_pool"].close()
    eventually(lambda: f"/public/bulletins/{month}.html" in pipeline.notify.get("/public/").get_data(as_text=True),
               timeout=30)


def receive_quoting_cases(pipeline: Pipeline) -> list[tuple[str, dict[str, str]]]:
    """Cases whose descriptions quote their complainants, through POST /v1/cases and the hotline webhook."""
    cases = []
    for person, text in zip(PEOPLE, DESCRIPTIONS):
        case_id = pipeline.receive(description=text.format(**person), category="推诿扯皮",
                                   complainant={"name": person["name"], "phone": person["phone"].replace(" ", ""),
                                                "email": person["email"], "address": "塘渡口镇建设路18号"})
        cases.append((case_id, person))
    hotline_case = pipeline.receive_hotline_order(
        工单编号="SY12345-20261123-000901", 来电人="赵志强", 联系电话="13607398888",
        诉求内容="赵志强来电反映：县医保局窗口办事拖沓，请回电13607398888。")
    return [*cases, (hotline_case, {"name": "赵志强", "phone": "13607398888"})]


def test_no_personal_data_of_a_complainant_appears_on_any_public_output(pipeline, urls, pg):
    cases = receive_quoting_cases(pipeline)

    # While intake cannot be asked, a redaction is a draft that says so; publishing asks intake again
    # and refuses while the complainant's bare name is still in the text.
    offline = notify_app(settings_for("notify", urls["notify"], intake_url="http://127.0.0.1:9"))
    try:
        first = cases[0][0]
        exp = pipeline.post("/v1/exposures", {"case_id": first, "title": "不动产登记窗口推诿扯皮"}, status=201)
        r = offline.test_client().post(f"/v1/exposures/{exp['id']}/redaction", json={}, headers=ALICE)
        assert r.status_code == 200 and r.get_json()["complainant_checked"] is False
        assert "李建国多次前往" in r.get_json()["preview"]["text"]     # a bare name: no pattern can know it
        pipeline.post(f"/v1/exposures/{exp['id']}/approve", headers=BOB)
        down = offline.test_client().post(f"/v1/exposures/{exp['id']}/publish", headers=ALICE)
        assert down.status_code == 503
    finally:
        offline.extensions["zf_pool"].close()
    refused = pipeline.notify.post(f"/v1/exposures/{exp['id']}/publish", headers=ALICE)
    problem = refused.get_json()
    assert refused.status_code == 422 and problem["found"] == [
        {"field": "text", "kind": "complainant_name", "masked": "李＊＊"}]
    assert problem["errors"] == {"text": ["投诉人姓名：李＊＊"]} and "李建国" not in refused.get_data(as_text=True)
    assert pipeline.notify.get(f"/public/exposures/{exp['id']}").status_code == 404
    pipeline.post(f"/v1/exposures/{exp['id']}/redaction", {})
    pipeline.post(f"/v1/exposures/{exp['id']}/approve", headers=BOB)
    pipeline.post(f"/v1/exposures/{exp['id']}/publish")

    # The others with the office's own wording in title and lesson, which quote the complainant too.
    for case_id, person in cases[1:]:
        pipeline.expose(case_id, title=f"典型案例：{person['name']}反映的问题", lesson=f"来电人{person['name']}的诉求应及时回应。")

    outputs = pipeline.public_outputs()
    assert len([p for p in outputs if p.startswith("/public/exposures/")]) == len(cases)
    assert "某某" in outputs["/public/feed.json"]
    for _, person in cases:
        assert_nothing_of(person, outputs)

    # A rebuild of notify from the audit trail shows the very same public output.
    eventually(lambda: _trail_has_every_event(urls), timeout=30)
    empty = service_urls(fresh_database(pg))
    token = AUDITOR["Authorization"].split()[1]
    rebuild(empty["notify"], notify_apply, events_from_trail(pipeline.audit.url, token))
    rebuilt = notify_app(settings_for("notify", empty["notify"]))
    try:
        again = pipeline.public_outputs(rebuilt.test_client())
    finally:
        rebuilt.extensions["zf_pool"].close()
    assert again == outputs


def test_a_published_bulletin_shows_nothing_of_the_complainants_of_its_typical_cases(pipeline, tmp_path):
    cases = receive_quoting_cases(pipeline)
    publish_bulletin(pipeline, tmp_path, [case_id for case_id, _ in cases])
    outputs = pipeline.public_outputs()
    bulletin = [p for p in outputs if p.startswith("/public/bulletins/")]
    assert bulletin, "the published bulletin is listed and its page followed"
    assert "典型案例" in outputs[bulletin[0]]
    for _, person in cases:
        assert_nothing_of(person, outputs)


def _trail_has_every_event(urls: dict[str, str]) -> bool:
    stored = 0
    for service in ("intake", "notify"):
        with db.connect(urls[service]) as conn:
            stored += conn.execute("SELECT count(*) AS n FROM events").fetchone()["n"]
    with db.connect(urls["audit"]) as conn:
        return conn.execute("SELECT count(*) AS n FROM trail").fetchone()["n"] == stored


def test_the_feeds_are_well_formed_with_ids_dates_and_escaping(pipeline):
    # U+FFFE passes the API (control characters do not: tests/integration/test_inputs.py) but not XML 1.0.
    case_id = pipeline.receive(description="办事窗口 <script>alert(1)</script> & “吃拿卡要”\ufffe问题")
    done = pipeline.expose(case_id, title="<b>标题</b> & 引号\"'", lesson="警示：A<B & C>D")
    rss = ET.fromstring(pipeline.notify.get("/public/feed.rss").data)
    item = rss.find("channel/item")
    assert rss.get("version") == "2.0" and item.find("title").text == "<b>标题</b> & 引号\"'"
    assert item.find("guid").text == f"urn:uuid:{done['id']}" and item.find("pubDate").text.endswith("GMT")
    assert "<script>alert(1)</script>" in item.find("description").text and "\ufffe" not in item.find("description").text
    atom = ET.fromstring(pipeline.notify.get("/public/feed.atom").data)
    assert atom.tag == f"{ATOM}feed" and atom.find(f"{ATOM}id").text.startswith("urn:uuid:")
    entry = atom.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}id").text == f"urn:uuid:{done['id']}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.find(f"{ATOM}updated").text)
    assert entry.find(f"{ATOM}link").get("href").startswith("http://localhost/public/exposures/")
    feed = pipeline.notify.get("/public/feed.json")
    assert feed.content_type.startswith("application/feed+json")
    doc = json.loads(feed.data)
    assert doc["version"] == "https://jsonfeed.org/version/1.1" and doc["items"][0]["title"] == "<b>标题</b> & 引号\"'"
    page = pipeline.notify.get(done["public_url"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page and "<b>标题</b>" not in page
    etag = pipeline.notify.get("/public/feed.atom").headers["ETag"]
    assert pipeline.notify.get("/public/feed.atom", headers={"If-None-Match": etag}).status_code == 304
