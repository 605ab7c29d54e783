"""No input gives a 5xx (issue 14): whatever a client sends to any of the four services — a NUL in a
path or a query, a control character or a lone surrogate in JSON, JSON nested 5,000 deep, duplicate
keys, a body of another type, years before 1000, integers beyond PostgreSQL's bigint — the answer is a
4xx problem naming the field, from the one request-validation layer (zfcommon.inputs). Runs each
service's Flask app on the real PostgreSQL."""
from __future__ import annotations

import json

import pytest

from ..support import bearer, complaint
from .apps import four_apps

pytestmark = pytest.mark.integration
OFFICE = bearer()
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def apps(pg):
    with four_apps(pg) as (made, _):
        yield {name: app.test_client() for name, app in made.items()}


def refused(resp, status: int, *names: str) -> dict:
    """The answer is the 4xx problem naming each of `names` in `errors`."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:400])
    assert resp.content_type == PROBLEM and resp.json["code"]
    for name in names:
        assert name in resp.json["errors"], resp.json
    return resp.json


@pytest.mark.parametrize("service, path, name", [
    ("intake", "/v1/cases/ab%00c", "case_id"),
    ("ledger", "/v1/cases/ab%00c", "case_id"),
    ("ledger", "/v1/cases/ab%00c/timeline", "case_id"),
    ("notify", "/v1/watch/ab%00c", "case_id"),
    ("notify", "/v1/escalations/ab%1Bc", "case_id"),
    ("audit", "/v1/log/cases/ab%00c/leaves", "case_id"),
    ("intake", "/v1/inspections/x%00", "inspection_id"),
    ("notify", "/v1/bulletins/2026%0011", "key"),
])
def test_a_nul_or_control_character_in_a_path_segment_is_a_422_naming_it(apps, service, path, name):
    problem = refused(apps[service].get(path, headers=OFFICE), 422, name)
    assert problem["code"] == "input.forbidden_character" and "U+00" in problem["errors"][name][0]


@pytest.mark.parametrize("service, path, name", [
    ("intake", "/v1/inspections?unit=a%00b", "unit"),
    ("ledger", "/v1/cases?q=%00", "q"),
    ("notify", "/v1/notices?case_id=a%00b", "case_id"),
    ("notify", "/v1/escalations?unit=%00", "unit"),
    ("audit", "/v1/events?subject=a%00", "subject"),
    ("notify", "/v1/weekly-reports?unit=%7F", "unit"),
    ("intake", "/v1/cases/x?x%00=1", "x\ufffd"),
])
def test_a_nul_in_a_query_parameter_is_a_422_naming_it(apps, service, path, name):
    refused(apps[service].get(path, headers=OFFICE), 422, name)


def test_a_bad_idempotency_key_header_is_named_not_stored(apps):
    resp = apps["intake"].post("/v1/cases", json=complaint(), headers={**OFFICE, "Idempotency-Key": "k\x01"})
    refused(resp, 422, "Idempotency-Key")


def test_the_public_page_answers_its_own_html_error_page_not_a_500(apps):
    resp = apps["notify"].get("/public/exposures/a%00b")
    assert resp.status_code == 422 and resp.content_type.startswith("text/html")
    assert "不允许的字符" in resp.get_data(as_text=True)
    assert apps["notify"].get("/public/bulletins/0000-01.html").status_code == 404
    missing = apps["notify"].get("/public/nothing-here")
    assert missing.status_code == 404 and missing.content_type.startswith("text/html")


@pytest.mark.parametrize("field, value", [("description", "窗口\u0000推诿"), ("subject_unit", "县\ud800局"),
                                          ("category", "推诿\x1b扯皮")])
def test_a_nul_or_a_lone_surrogate_inside_a_json_string_is_named(apps, field, value):
    body = json.dumps(complaint(**{field: value}))          # ASCII-escaped: \u0000, \ud800
    resp = apps["intake"].post("/v1/cases", data=body, content_type="application/json", headers=OFFICE)
    assert refused(resp, 422, field)["code"] == "input.forbidden_character"


def test_a_nul_in_a_case_command_note_is_named(apps):
    case_id = apps["intake"].post("/v1/cases", json=complaint(), headers=OFFICE).json["case_id"]
    resp = apps["intake"].post(f"/v1/cases/{case_id}/assign", headers=OFFICE, json={
        "lead_unit": "x", "handling_mode": "deadline", "note": "a\u0000"})
    refused(resp, 422, "note")


def test_json_nested_5000_deep_is_a_422_not_a_recursion_error(apps):
    deep = "[" * 5000 + "]" * 5000
    for service, path in (("intake", "/v1/cases"), ("notify", "/v1/bulletins"), ("intake", "/v1/directory/units")):
        resp = apps[service].post(path, data=deep, content_type="application/json", headers=OFFICE)
        assert refused(resp, 422, "json")["code"] == "json.too_deep"


def test_duplicate_keys_are_refused_naming_the_key(apps):
    body = '{"channel": "hotline", "category": "推诿扯皮", "description": "x", "subject_unit": "县局", "channel": "media"}'
    resp = apps["intake"].post("/v1/cases", data=body, content_type="application/json", headers=OFFICE)
    assert refused(resp, 422, "channel")["code"] == "json.duplicate_key"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_body_sent_as_another_type_is_a_415_naming_both(apps, content_type):
    resp = apps["intake"].post("/v1/cases", data=json.dumps(complaint()), headers=OFFICE,
                               **({"content_type": content_type} if content_type else {}))
    assert resp.status_code == 415 and resp.content_type == PROBLEM, resp.get_data(as_text=True)
    assert resp.json["code"] == "request.unsupported_media_type" and resp.json["expected"] == ["application/json"]
    assert "application/json" in resp.json["detail"] and (content_type or "未声明类型") in resp.json["detail"]


def test_malformed_json_is_a_400_in_chinese(apps):
    resp = apps["intake"].post("/v1/cases", data='{"channel": ', content_type="application/json", headers=OFFICE)
    assert resp.status_code == 400 and resp.json["code"] == "json.malformed" and "第 1 行" in resp.json["detail"]


def test_a_body_less_command_still_needs_no_content_type(apps):
    case_id = apps["intake"].post("/v1/cases", json=complaint(), headers=OFFICE).json["case_id"]
    assert apps["intake"].post(f"/v1/cases/{case_id}/accept", headers=OFFICE).status_code != 415


@pytest.mark.parametrize("service, method, path, body, name", [
    ("notify", "POST", "/v1/bulletins", {"month": "0000-01"}, "month"),
    ("notify", "POST", "/v1/disclosures", {"quarter": "0000-Q1"}, "quarter"),
    ("notify", "POST", "/v1/spot-checks", {"month": "0999-12"}, "month"),
    ("notify", "GET", "/v1/spot-checks?month=0000-01", None, "month"),
    ("notify", "GET", "/v1/weekly-reports?week=2027-W53", None, "week"),
    ("notify", "GET", "/v1/weekly-reports/overview?week=0000-W01", None, "week"),
    ("notify", "POST", "/v1/weekly-reports", {"unit": "县林业局", "week": "0000-W01", "zero": True}, "week"),
    ("intake", "PUT", "/v1/directory/calendar/1", {"holidays": [], "workdays": []}, "year"),
    ("intake", "PUT", "/v1/directory/calendar/99999999999999999999", {"holidays": [], "workdays": []}, "year"),
    ("ledger", "GET", "/v1/cases?received_from=0999-12-31", None, "received_from"),
    ("ledger", "GET", "/v1/cases/x/as-of?at=0001-01-01T00:00:00%2B14:00", None, "at"),
    ("audit", "GET", "/v1/events?since=0001-01-01T00:00:00%2B08:00", None, "since"),
    ("intake", "GET", "/v1/streams/digests?until=9999-12-31T23:00:00-14:00", None, "until"),
    ("notify", "GET", "/v1/streams/digests?until=7732-01-01T15:22:20.2-20:26", None, "until"),   # found by the fuzzer
    ("notify", "POST", "/v1/interim-reports", {"from": "0001-01-01", "to": "0001-01-02"}, "from"),   # loaded as start
])
def test_years_before_1000_and_periods_that_do_not_exist_are_named(apps, service, method, path, body, name):
    refused(apps[service].open(path, method=method, json=body, headers=OFFICE), 422, name)


def test_a_reporting_config_with_a_week_of_year_0000_is_refused_where_it_comes_in(apps):
    resp = apps["notify"].put("/v1/reporting/config", headers=OFFICE, json={
        "start_week": "0000-W01", "due_rule": "week_end", "spot_check_ratio": 0.2,
        "escalation": {"reminder": 1, "supervision_letter": 2, "admonishment_talk": None, "bulletin_criticism": 3,
                       "accountability_proposal": None}})
    assert "年份" in refused(resp, 422, "start_week")["errors"]["start_week"][0]


@pytest.mark.parametrize("service, path, name", [
    ("notify", "/v1/notices?offset=9223372036854775808", "offset"),
    ("notify", "/v1/escalations?offset=99999999999999999999", "offset"),
    ("notify", "/v1/weekly-reports?offset=9223372036854775808", "offset"),
    ("notify", "/v1/exposures?offset=9223372036854775808", "offset"),
    ("notify", "/v1/notices/99999999999999999999", "notice_id"),
    ("audit", "/v1/events?after=9223372036854775808", "after"),
    ("intake", "/v1/inspections?before=9223372036854775808", "before"),
])
def test_integers_beyond_bigint_are_a_422_naming_the_parameter(apps, service, path, name):
    assert refused(apps[service].get(path, headers=OFFICE), 422, name)["code"] in ("input.out_of_range",
                                                                                     "input.forbidden_character")


def test_a_json_integer_beyond_bigint_is_named(apps):
    resp = apps["notify"].post("/v1/exposures/exp-none/approve", json={"revision": 2 ** 70}, headers=OFFICE)
    assert refused(resp, 422, "revision")["code"] == "input.out_of_range"


def test_field_messages_are_chinese_with_the_fields_named(apps):
    problem = refused(apps["intake"].post("/v1/cases", json={"channel": "fax"}, headers=OFFICE), 422,
                      "channel", "description")
    assert problem["errors"]["description"] == ["缺少必填字段"] and problem["errors"]["channel"][0].startswith("须为")
    assert problem["title"] == "输入未通过校验" and problem["detail"].startswith("以下字段未通过校验")
