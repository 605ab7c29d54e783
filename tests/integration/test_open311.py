"""Open311 GeoReport v2 on intake, driven by a client written from the spec (wiki.open311.org/GeoReport_v2):
form-encoded POSTs with attribute[code] and attribute[code][] keys, every answer read in both formats
(XML with xml.etree), against the real intake app on the real PostgreSQL — and once over real HTTP."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
import requests

from intake.adapters import clients
from intake.adapters.clients import ApiClient
from intake.entrypoints.http import create_app
from zfcommon import db
from zfcommon.devstack.ports import free_port

from ..conftest import CONTACT_KEY, JWT_SECRET, settings_for, tracking_code
from ..support import bearer, complaint, eventually

pytestmark = pytest.mark.integration

OFFICE = bearer()
LEAD, OTHER = "县自然资源局", "县市场监管局"
CATEGORY = "推诿扯皮"
SUBMITTER = {"email": "wang.submitter@example.cn", "phone": "13912345678", "first_name": "小明",
             "last_name": "王", "device_id": "device-7f3e2a", "account_id": "acct-5521"}
SECRETS = ["wang.submitter@example.cn", "13912345678", "小明", "device-7f3e2a", "acct-5521"]
# The spec's containers of repeated elements (its ⇊/↴ marks), which its JSON writes as arrays.
CONTAINERS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
              "values": "value", "endpoints": "endpoint", "formats": "format"}


def spark(element: ET.Element):
    """An XML element as the spec's Spark-convention JSON, every scalar a string (XML has no types)."""
    if element.tag in CONTAINERS:
        assert all(child.tag == CONTAINERS[element.tag] for child in element)
        return [spark(child) for child in element]
    if len(element):
        return {child.tag: spark(child) for child in element}
    return element.text


def stringly(value):
    """A JSON document with its scalars written as XML writes them."""
    if isinstance(value, list):
        return [stringly(v) for v in value]
    if isinstance(value, dict):
        return {k: stringly(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


class Answer:
    def __init__(self, status: int, content_type: str, body: bytes, fmt: str):
        self.status, self.content_type, self.body, self.fmt = status, content_type, body, fmt
        if fmt == "json":
            assert content_type.startswith("application/json"), content_type
            self.doc = json.loads(body)
        else:
            assert content_type.startswith("text/xml"), content_type
            assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
            self.root = ET.fromstring(body)
            self.doc = spark(self.root)


class Open311:
    """A GeoReport v2 client. `send(method, path, query, form, headers) -> (status, content type, bytes)`
    is the transport (Flask's test client or real HTTP); every raw answer is kept in `seen`."""

    def __init__(self, send, base: str = "/open311/v2"):
        self.send, self.base, self.seen = send, base, []

    def _answer(self, fmt, status, content_type, body) -> Answer:
        self.seen.append(body)
        return Answer(status, content_type, body, fmt)

    def get(self, resource: str, fmt: str = "json", **params) -> Answer:
        return self._answer(fmt, *self.send("GET", f"{self.base}/{resource}.{fmt}", params, None, {}))

    def both(self, resource: str, **params) -> Answer:
        """GET in both formats; asserts they say the same; returns the JSON answer."""
        as_json, as_xml = self.get(resource, "json", **params), self.get(resource, "xml", **params)
        assert as_json.status == as_xml.status
        assert stringly(as_json.doc) == as_xml.doc
        return as_json

    def post(self, fmt: str = "json", *, attributes: dict | None = None, headers: dict | None = None,
             **fields) -> Answer:
        pairs = [(k, v) for k, v in fields.items() if v is not None]
        for code, value in (attributes or {}).items():
            if isinstance(value, list):
                pairs += [(f"attribute[{code}][]", v) for v in value]
            else:
                pairs.append((f"attribute[{code}]", value))
        body = urlencode(pairs)
        return self._answer(fmt, *self.send("POST", f"{self.base}/requests.{fmt}", {}, body,
                                            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                             **(headers or {})}))


def flask_transport(client):
    def send(method, path, query, body, headers):
        resp = client.open(path, method=method, query_string=query, data=body, headers=headers)
        return resp.status_code, resp.content_type, resp.data
    return send


def http_transport(base_url: str):
    def send(method, path, query, body, headers):
        resp = requests.request(method, base_url + path, params=query, data=body and body.encode(),
                                headers=headers, timeout=10)
        return resp.status_code, resp.headers["Content-Type"], resp.content
    return send


def register_client(url: str, client_id: str, *, role: str = "channel", channel: str | None = "tipoff",
                    unit: str | None = None, rate: int = 600) -> str:
    with db.connect(url) as conn:
        key = clients.register(conn, ApiClient(client_id, "县网络举报平台", role, unit,
                                               channel if role == "channel" else None, rate), "office:test")
        conn.commit()
    return key


@pytest.fixture
def env(urls, tmp_path):
    clock = tmp_path / "now"
    clock.write_text("2026-11-23T09:00:00+08:00")
    app = create_app(settings_for("intake", urls["intake"], clock_file=str(clock)))
    http = app.test_client()
    for name in (LEAD, OTHER):
        assert http.post("/v1/directory/units", json={"name": name, "kind": "government_department",
                                                      "supervising_channel": "县监察局"}, headers=OFFICE).status_code == 200
    env = type("Env", (), {})()
    env.http, env.clock, env.urls = http, clock, urls
    env.o311 = Open311(flask_transport(http))
    env.key = register_client(urls["intake"], "client-tipoff")
    yield env
    app.extensions["zf_pool"].close()


def code_of(o311: Open311, name: str = CATEGORY) -> str:
    return next(s["service_code"] for s in o311.get("services").doc if s["service_name"] == name)


def submit(env, fmt: str = "json", *, attributes: dict | None = None, **fields) -> Answer:
    form = {"api_key": env.key, "service_code": code_of(env.o311), "lat": "26.989", "long": "111.2743",
            "address_string": "县政务服务中心二楼", "description": "不动产登记窗口推诿,要求跑五趟", **fields}
    return env.o311.post(fmt, attributes={"subject_unit": LEAD, **(attributes or {})}, **form)


def submitted_id(env, fmt: str = "json", **kw) -> str:
    answer = submit(env, fmt, **kw)
    assert answer.status == 200, answer.doc
    return answer.doc[0]["service_request_id"]


def error_codes(answer: Answer) -> list:
    return [str(e["code"]) for e in answer.doc]


def error_text(answer: Answer) -> str:
    return " ".join(e["description"] for e in answer.doc)


# --- discovery and services ---------------------------------------------------------------------------

def test_discovery_names_this_endpoint_in_both_formats(env):
    doc = env.o311.both("discovery").doc
    [endpoint] = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert doc["changeset"].endswith("+08:00") and doc["key_service"] and doc["contact"]


def test_the_office_categories_are_the_services_with_stable_codes(env):
    services = env.o311.both("services").doc
    assert isinstance(services, list) and {s["service_name"] for s in services} >= {CATEGORY, "吃拿卡要"}
    assert len({s["service_code"] for s in services}) == len(services)
    pushing = next(s for s in services if s["service_name"] == CATEGORY)
    assert pushing["group"] == "八类突出问题" and pushing["metadata"] is True and pushing["type"] == "realtime"
    xml = env.o311.get("services", "xml")
    assert xml.root.tag == "services" and xml.root[0].tag == "service"
    assert env.o311.get("services").doc == services          # the same codes on every call


def test_a_service_definition_asks_for_the_subject_unit_among_active_units(env):
    code = code_of(env.o311)
    doc = env.o311.both(f"services/{code}").doc
    assert doc["service_code"] == code
    attrs = {a["code"]: a for a in doc["attributes"]}
    unit = attrs["subject_unit"]
    assert unit["datatype"] == "singlevaluelist" and unit["required"] is True and unit["variable"] is True
    assert {v["key"] for v in unit["values"]} == {LEAD, OTHER}
    assert attrs["evidence"]["datatype"] == "multivaluelist" and attrs["evidence"]["required"] is False
    assert attrs["protection"]["variable"] is False
    assert sorted(a["order"] for a in doc["attributes"]) == list(range(1, len(attrs) + 1))
    assert env.o311.get(f"services/{code}", "xml").root.tag == "service_definition"


def test_an_unknown_service_is_404_in_either_format(env):
    for fmt in ("json", "xml"):
        answer = env.o311.get("services/zf-00000000", fmt)
        assert answer.status == 404 and error_codes(answer) == ["404"] and "service_code" in error_text(answer)
    assert env.o311.get("services/zf-00000000", "xml").root.tag == "errors"


def test_an_unknown_format_or_resource_is_404_with_an_xml_errors_document(env):
    for path in ("/open311/v2/services.yaml", "/open311/v2/nothing.json", "/open311/v2/services"):
        resp = env.http.get(path)
        assert resp.status_code == 404 and resp.content_type.startswith(("text/xml", "application/json"))
    assert ET.fromstring(env.http.get("/open311/v2/services.yaml").data).tag == "errors"
    assert env.http.get("/open311/v2/nothing.json").json[0]["code"] == 404


def test_a_method_the_resource_does_not_take_is_400_naming_the_allowed_ones(env):
    resp = env.http.delete("/open311/v2/requests.xml")
    assert resp.status_code == 400 and resp.headers["Allow"] == "GET, POST"
    assert ET.fromstring(resp.data).find("error/code").text == "400"
    assert env.http.post("/open311/v2/services.json").headers["Allow"] == "GET"


# --- POST requests ------------------------------------------------------------------------------------

def test_a_request_becomes_a_case_on_the_clients_channel_with_the_submitter_sealed(env):
    answer = submit(env, attributes={"priority": "urgent", "evidence": ["photo", "audio"], "window": "不动产登记窗口",
                                     "occurred_at": "2026-11-20T10:30:00+08:00"},
                    media_url="https://img.example.cn/1.jpg", address_id="ADDR-77", **SUBMITTER)
    assert answer.status == 200
    [created] = answer.doc
    assert set(created) == {"service_request_id", "service_notice", "account_id", "case_number",
                            "tracking_code"}                                            # never a token
    assert created["account_id"] is None and created["case_number"] == "ZF-2026-000001"
    case_id = created["service_request_id"]
    assert created["tracking_code"] == tracking_code(case_id)        # what the public page asks with it
    assert created["service_notice"].startswith(f"案件编号 ZF-2026-000001,查询码 {created['tracking_code']}。")
    case = env.http.get(f"/v1/cases/{case_id}", headers=OFFICE).json
    assert (case["channel"], case["category"], case["subject_unit"], case["priority"]) == \
        ("tipoff", CATEGORY, LEAD, "urgent")
    assert case["anonymous"] is False
    origin = case["origin"]
    assert (origin["system"], origin["ref"], origin["parent"]) == ("open311", case_id, "client-tipoff")
    assert origin["extra"]["attributes"] == {"evidence": ["photo", "audio"], "window": "不动产登记窗口",
                                             "occurred_at": "2026-11-20T10:30:00+08:00"}
    assert origin["extra"]["address_id"] == "ADDR-77"
    sealed = env.http.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "核实"},
                           headers=OFFICE).json["complainant"]
    assert sealed["name"] == "王小明" and sealed["email"] == SUBMITTER["email"]
    assert sealed["device_id"] == "device-7f3e2a" and sealed["account_id"] == "acct-5521"
    with psycopg.connect(env.urls["intake"]) as conn:
        stored = conn.execute("SELECT payload::text FROM events WHERE stream_id = %s", (case_id,)).fetchone()[0]
    assert not [s for s in SECRETS if s in stored]


def test_xml_post_answers_an_xml_service_requests_document(env):
    answer = submit(env, "xml", attributes={"evidence": ["document"]})
    assert answer.status == 200 and answer.root.tag == "service_requests" and answer.root[0].tag == "request"
    [created] = answer.doc
    assert created["service_request_id"] and created["account_id"] is None


def test_one_value_for_a_multivaluelist_may_come_without_brackets(env):
    case_id = submitted_id(env, attributes={"evidence": "video"})
    assert env.http.get(f"/v1/cases/{case_id}", headers=OFFICE).json["origin"]["extra"]["attributes"] == \
        {"evidence": ["video"]}


def test_an_address_alone_is_a_location_and_empty_parameters_count_as_absent(env):
    case_id = submitted_id(env, lat="", long="", address_id="", email="", phone="", first_name="",
                           attributes={"priority": "", "evidence": [""]})
    case = env.http.get(f"/v1/cases/{case_id}", headers=OFFICE).json
    assert case["priority"] == "normal" and case["anonymous"] is True


def test_without_an_api_key_or_with_an_unknown_one_nothing_is_stored(env, admin_url):
    for key in (None, "", "zfk_client-tipoff_forged", "not-a-key"):
        answer = submit(env, api_key=key)
        assert answer.status == 403 and error_codes(answer) == ["403"] and "api_key" in error_text(answer)
    assert count_cases(admin_url) == 0


def test_a_revoked_client_is_refused(env, admin_url):
    assert submit(env).status == 200
    with psycopg.connect(admin_url) as conn:
        conn.execute("UPDATE intake.api_clients SET revoked_at = now() WHERE client_id = 'client-tipoff'")
    answer = submit(env, "xml")
    assert answer.status == 403 and answer.root.tag == "errors"
    assert count_cases(admin_url) == 1


def test_a_unit_scoped_client_may_not_submit(env, admin_url):
    key = register_client(env.urls["intake"], "client-unit", role="unit", unit=LEAD)
    answer = submit(env, api_key=key)
    assert answer.status == 403
    assert count_cases(admin_url) == 0


def test_a_client_over_its_rate_limit_is_told_to_wait(env, admin_url):
    env.key = register_client(env.urls["intake"], "client-slow", rate=2)
    assert [submit(env).status for _ in range(2)] == [200, 200]
    answer = submit(env, "xml")
    assert answer.status == 429 and answer.root.tag == "errors" and "api_key" in error_text(answer)
    assert count_cases(admin_url) == 2


def test_odd_bytes_and_oversized_bodies_are_400_never_500(env, admin_url):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for body in (b"api_key=%FF%FE&service_code=%00", b"&&==&attribute[=x", b"x" * (2 * 1024 * 1024)):
        resp = env.http.post("/open311/v2/requests.json", data=body, headers=form)
        assert resp.status_code in (400, 403) and resp.json[0]["code"] == resp.status_code
    resp = env.http.post("/open311/v2/requests.json", data=f"api_key={env.key}&" + "a=1&" * 5000, headers=form)
    assert resp.status_code == 400
    assert count_cases(admin_url) == 0


def test_only_a_form_is_accepted(env, admin_url):
    body = json.dumps({"api_key": env.key, "service_code": code_of(env.o311), "description": "x", "lat": 26.9,
                       "long": 111.2, "attribute": {"subject_unit": LEAD}})
    resp = env.http.post("/open311/v2/requests.json", data=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json[0]["code"] == 400 and "Content-Type" in resp.json[0]["description"]
    assert count_cases(admin_url) == 0


def test_an_unknown_service_in_a_request_is_404(env, admin_url):
    answer = submit(env, service_code="zf-00000000")
    assert answer.status == 404 and "service_code" in error_text(answer)
    assert count_cases(admin_url) == 0


def test_a_description_may_have_4000_characters_and_no_more(env, admin_url):
    assert submit(env, description="推" * 4000).status == 200
    answer = submit(env, "xml", description="推" * 4001)
    assert answer.status == 400 and "description" in error_text(answer)
    assert count_cases(admin_url) == 1


@pytest.mark.parametrize("fields, attributes, named", [
    ({}, {"subject_unit": None}, "attribute[subject_unit]"),
    ({}, {"subject_unit": "县不存在局"}, "attribute[subject_unit]"),
    ({}, {"evidence": ["photo", "smell"]}, "attribute[evidence]"),
    ({}, {"priority": ["urgent", "normal"]}, "attribute[priority]"),
    ({}, {"nonsense": "1"}, "attribute[nonsense]"),
    ({}, {"protection": "x"}, "attribute[protection]"),
    ({}, {"occurred_at": "yesterday"}, "attribute[occurred_at]"),
    ({"lat": None, "long": None, "address_string": None}, {}, "location"),
    ({"long": None, "address_string": None}, {}, "long"),
    ({"lat": "91"}, {}, "lat"),
    ({"lat": "NaN"}, {}, "lat"),
    ({"description": None}, {}, "description"),
    ({"media_url": "javascript:alert(1)"}, {}, "media_url"),
    ({"email": "not-an-email"}, {}, "email"),
    ({"service_code": None}, {}, "service_code"),
])
def test_invalid_requests_are_400_naming_the_parameter(env, admin_url, fields, attributes, named):
    attrs = {"subject_unit": LEAD, **attributes}
    answer = env.o311.post("json", attributes={k: v for k, v in attrs.items() if v is not None}, **{
        "api_key": env.key, "service_code": code_of(env.o311), "lat": "26.989", "long": "111.2743",
        "address_string": "县政务服务中心", "description": "窗口推诿", **fields})
    assert answer.status == 400, answer.doc
    assert any(e["description"].startswith(named + ":") for e in answer.doc), answer.doc
    assert count_cases(admin_url) == 0


def test_several_problems_are_reported_together(env):
    answer = submit(env, lat="91", email="bad", attributes={"subject_unit": "县不存在局"})
    assert answer.status == 400 and len(answer.doc) == 3


def test_an_idempotency_key_replays_the_first_answer(env, admin_url):
    def post(description: str) -> Answer:
        return env.o311.post("json", attributes={"subject_unit": LEAD}, headers={"Idempotency-Key": "app-retry-1"},
                             api_key=env.key, service_code=code_of(env.o311), address_string="县政务服务中心",
                             description=description)
    first, again = post("窗口推诿"), post("窗口推诿")
    assert first.status == again.status == 200 and first.doc == again.doc
    reused = post("另一件事")
    assert reused.status == 400 and "Idempotency-Key" in error_text(reused)
    assert count_cases(admin_url) == 1


def count_cases(admin_url: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.execute("SELECT count(*) FROM intake.events WHERE type = 'cn.zhengfeng.case.received.v1'"
                            ).fetchone()[0]


# --- GET requests -------------------------------------------------------------------------------------

def test_a_request_is_readable_at_once_as_an_array_of_one(env):
    case_id = submitted_id(env, media_url="https://img.example.cn/2.jpg", address_id="ADDR-9")
    [record] = env.o311.both(f"requests/{case_id}").doc
    assert record["service_request_id"] == case_id and record["status"] == "open"
    assert record["service_code"] == code_of(env.o311) and record["service_name"] == CATEGORY
    assert record["requested_datetime"] == record["updated_datetime"] == "2026-11-23T09:00:00+08:00"
    assert (record["lat"], record["long"], record["address"]) == (26.989, 111.274, "县政务服务中心二楼")
    assert (record["address_id"], record["media_url"]) == ("ADDR-9", "https://img.example.cn/2.jpg")
    assert record["status_notes"] == "已受理,待交办" and record["agency_responsible"] is None
    assert record["description"] is None and record["expected_datetime"] is None
    assert list(record) == ["service_request_id", "status", "status_notes", "service_name", "service_code",
                            "description", "agency_responsible", "service_notice", "requested_datetime",
                            "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
                            "long", "media_url", "case_number"]      # the spec's fields, then our extension
    assert record["case_number"] == "ZF-2026-000001"
    xml = env.o311.get(f"requests/{case_id}", "xml")
    assert xml.root.tag == "service_requests" and [r.tag for r in xml.root] == ["request"]


def test_an_unknown_request_or_token_is_404(env):
    for resource in ("requests/4b0c5c8e-0000-0000-0000-000000000000", "requests/x", "tokens/nope"):
        for fmt in ("json", "xml"):
            answer = env.o311.get(resource, fmt)
            assert answer.status == 404 and error_codes(answer) == ["404"]


def test_a_token_is_the_request_id_itself(env):
    case_id = submitted_id(env)
    assert env.o311.both(f"tokens/{case_id}").doc == [{"service_request_id": case_id, "token": case_id}]


def test_cases_from_every_channel_are_listed_and_closed_ones_say_so(env):
    hotline_case = env.http.post("/v1/cases", json=complaint(subject_unit=LEAD), headers=OFFICE).json["case_id"]
    open311_case = submitted_id(env)
    unit = bearer("unit", sub="officer", unit=LEAD)
    env.clock.write_text("2026-11-24T10:00:00+08:00")
    deadline = None
    for command, body, who in [("assign", {"lead_unit": LEAD, "handling_mode": "deadline"}, OFFICE),
                               ("accept", {}, unit), ("report-rectified", {"text": "已整改"}, unit),
                               ("close", {"comment": "销号"}, OFFICE)]:
        resp = env.http.post(f"/v1/cases/{open311_case}/{command}", json=body, headers=who)
        assert resp.status_code == 200, resp.json
        deadline = deadline or resp.json["deadline"]
    [closed] = env.o311.both(f"requests/{open311_case}").doc
    assert closed["status"] == "closed" and closed["status_notes"] == "已整改到位,销号"
    assert closed["agency_responsible"] == LEAD and closed["updated_datetime"] == "2026-11-24T10:00:00+08:00"
    assert closed["expected_datetime"] == f"{deadline}T23:59:59+08:00"
    listed = {r["service_request_id"]: r["status"] for r in env.o311.both("requests").doc}
    assert listed == {hotline_case: "open", open311_case: "closed"}
    assert [r["service_request_id"] for r in env.o311.both("requests", status="closed").doc] == [open311_case]
    assert [r["service_request_id"] for r in env.o311.both("requests", status="open").doc] == [hotline_case]
    assert len(env.o311.both("requests", status="open,closed").doc) == 2


def test_imported_cases_are_indexed_too(env):
    ledger = ("序号,问题来源,被反映单位,问题描述,问题类别,牵头单位,配合单位,整改措施,整改时限,整改状态,责任人,备注\n"
              f"1,12345热线,{LEAD},窗口推诿不予受理,推诿扯皮,{LEAD},,约谈窗口负责人,2026-12-15,已销号,王某,\n"
              f"2,明察暗访,{OTHER},窗口人员脱岗,纪律松懈,{OTHER},,通报批评,2026-12-20,整改中,赵某,\n")
    resp = env.http.post("/v1/imports", data={"file": (io.BytesIO(ledger.encode()), "台账.csv")}, headers=OFFICE,
                         content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    closed, open_ = (r["case_id"] for r in sorted(resp.json["rows"], key=lambda r: r["row"]))
    records = {r["service_request_id"]: r for r in env.o311.both("requests").doc}
    assert records[closed]["status"] == "closed" and records[open_]["status"] == "open"
    assert records[open_]["agency_responsible"] == OTHER
    assert records[open_]["expected_datetime"] == "2026-12-20T23:59:59+08:00"
    assert records[open_]["service_code"] == code_of(env.o311, "纪律松懈")


def test_a_merged_case_is_closed_and_names_the_case_it_joined(env):
    duplicate, kept = submitted_id(env), submitted_id(env)
    resp = env.http.post(f"/v1/cases/{duplicate}/merge", json={"into_case_id": kept}, headers=OFFICE)
    assert resp.status_code == 200, resp.json
    [merged] = env.o311.get(f"requests/{duplicate}").doc
    assert merged["status"] == "closed" and kept in merged["status_notes"]
    assert env.o311.get(f"requests/{kept}").doc[0]["status"] == "open"


def test_listing_filters_by_ids_service_status_and_window(env):
    env.clock.write_text("2026-06-01T12:00:00+08:00")
    old = submitted_id(env)
    env.clock.write_text("2026-11-23T09:00:00+08:00")
    recent = submitted_id(env)
    other_code = code_of(env.o311, "吃拿卡要")
    other = submitted_id(env, service_code=other_code)
    ids = lambda answer: [r["service_request_id"] for r in answer.doc]      # noqa: E731
    assert set(ids(env.o311.both("requests"))) == {recent, other}           # the last 90 days by default
    assert ids(env.o311.both("requests", service_code=other_code)) == [other]
    assert set(ids(env.o311.both("requests", service_code=f"{other_code},{code_of(env.o311)}"))) == {recent, other}
    assert ids(env.o311.both("requests", start_date="2026-05-15T00:00:00+08:00",
                             end_date="2026-06-30T00:00:00Z")) == [old]
    assert ids(env.o311.both("requests", start_date="2026-05-15")) == [old]            # 90 days from it
    assert ids(env.o311.both("requests", end_date="2026-06-01")) == [old]              # through that day
    assert set(ids(env.o311.both("requests", service_request_id=f"{old},{recent}", status="closed",
                                 start_date="2020-01-01"))) == {old, recent}       # ids override the rest
    assert ids(env.o311.both("requests", service_request_id="", service_code="", status="",
                             start_date="", end_date="")) == ids(env.o311.both("requests"))


def test_a_records_own_requested_datetime_is_inside_a_window_that_ends_or_starts_there(env):
    env.clock.write_text("2026-11-23T09:00:00.654321+08:00")
    case_id = submitted_id(env)
    [record] = env.o311.get(f"requests/{case_id}").doc
    at = record["requested_datetime"]
    assert at == "2026-11-23T09:00:00+08:00"
    ids = lambda answer: [r["service_request_id"] for r in answer.doc]      # noqa: E731
    assert ids(env.o311.both("requests", end_date=at)) == [case_id]         # both bounds are inclusive
    assert ids(env.o311.both("requests", start_date=at)) == [case_id]
    assert ids(env.o311.both("requests", start_date=at, end_date=at)) == [case_id]
    assert ids(env.o311.both("requests", end_date="2026-11-23T08:59:59+08:00")) == []


@pytest.mark.parametrize("params, named", [
    ({"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-04-02T00:00:00+08:00"}, "end_date"),
    ({"start_date": "2026-06-01", "end_date": "2026-05-01"}, "end_date"),
    ({"start_date": "2026-06-01T00:00:00"}, "start_date"),
    ({"end_date": "last week"}, "end_date"),
    ({"status": "pending"}, "status"),
])
def test_bad_query_parameters_are_400(env, params, named):
    for fmt in ("json", "xml"):
        answer = env.o311.get("requests", fmt, **params)
        assert answer.status == 400 and error_text(answer).startswith(named + ":"), answer.doc


def test_submitter_fields_never_appear_in_any_answer(env):
    case_id = submitted_id(env, **SUBMITTER)
    submitted_id(env, "xml", **SUBMITTER)
    env.o311.both(f"requests/{case_id}")
    env.o311.both("requests")
    env.o311.both(f"tokens/{case_id}")
    submit(env, lat="91", **SUBMITTER)                                   # an error answer too
    leaked = [s for s in SECRETS for body in env.o311.seen if s.encode() in body]
    assert len(env.o311.seen) >= 9 and leaked == []


def test_the_index_can_be_rebuilt_from_the_store(env, admin_url):
    case_id = submitted_id(env)
    env.http.post("/v1/cases", json=complaint(), headers=OFFICE)
    before = env.o311.get("requests").doc
    with psycopg.connect(admin_url) as conn:
        conn.execute("DELETE FROM intake.open311_requests")
    assert env.o311.get("requests").doc == []
    run = subprocess.run([sys.executable, "-m", "intake.entrypoints.reindex"], capture_output=True, text=True,
                         env={**os.environ, "DATABASE_URL": env.urls["intake"], "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                              "ZF_JWT_ALGORITHM": "HS256", "ZF_JWT_SECRET": JWT_SECRET}, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "2 cases" in run.stdout
    assert env.o311.get("requests").doc == before and case_id in {r["service_request_id"] for r in before}


# --- real HTTP ----------------------------------------------------------------------------------------

@pytest.fixture
def gunicorn(urls, tmp_path):
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}
    environ.update({"DATABASE_URL": urls["intake"], "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                    "ZF_JWT_ALGORITHM": "HS256", "ZF_JWT_SECRET": JWT_SECRET, "ZF_CONTACT_KEY": CONTACT_KEY,
                    "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    gunicorn_bin = str(Path(sys.executable).parent / "gunicorn")
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([gunicorn_bin, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--config",
                             "python:zfcommon.gunicorn_conf", "intake.entrypoints.http:create_app()"],
                            env=environ, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(base + "/healthz", timeout=2).ok
        except requests.RequestException:       # not listening yet, or a worker still starting (slow under load)
            return False
    try:
        eventually(up, timeout=30)
        yield base
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def test_a_round_trip_over_real_http(gunicorn, urls):
    o311 = Open311(http_transport(gunicorn))
    key = register_client(urls["intake"], "client-http")
    code = code_of(o311)
    created = o311.post("xml", attributes={"subject_unit": "县公安局", "evidence": ["photo", "witness"]},
                        api_key=key, service_code=code, address_string="县行政服务中心", description="窗口态度冷漠",
                        **SUBMITTER)
    assert created.status == 200, created.body
    [answer] = created.doc
    case_id = answer["service_request_id"]
    [record] = o311.both(f"requests/{case_id}").doc
    assert record["status"] == "open" and record["address"] == "县行政服务中心" and record["lat"] is None
    assert o311.get("requests", "xml", start_date="2020-01-01", end_date="2020-12-31").status == 400
    denied = o311.post("json", attributes={"subject_unit": "县公安局"}, api_key="zfk_nobody_x", service_code=code,
                       address_string="县行政服务中心", description="窗口态度冷漠")
    assert denied.status == 403
    assert not [s for s in SECRETS for body in o311.seen if s.encode() in body]
