"""Case lifecycle commands over intake's HTTP API on the real PostgreSQL."""
from __future__ import annotations

from datetime import date

import psycopg
import pytest

from intake.entrypoints.http import create_app

from ..conftest import settings_for
from ..support import bearer, complaint

pytestmark = pytest.mark.integration

OFFICE = bearer()
LEAD = "县自然资源局"
HELPER = "县政务服务中心"


@pytest.fixture
def client(urls, tmp_path):
    clock = tmp_path / "now"
    clock.write_text("2026-11-23T09:00:00+08:00")          # a Monday
    app = create_app(settings_for("intake", urls["intake"], clock_file=str(clock)))
    c = app.test_client()
    c.clock = clock
    for name, kind in ((LEAD, "government_department"), (HELPER, "government_department"),
                       ("某镇人民政府", "township")):
        assert c.post("/v1/directory/units", json={"name": name, "kind": kind,
                                                   "supervising_channel": "县监察局"}, headers=OFFICE).status_code == 200
    yield c
    app.extensions["zf_pool"].close()


def unit(name: str = LEAD) -> dict[str, str]:
    return bearer("unit", sub=f"officer-{name}", unit=name)


def new_case(client, **overrides) -> str:
    return client.post("/v1/cases", json=complaint(**overrides), headers=OFFICE).json["case_id"]


def do(client, case_id, command, body=None, headers=OFFICE, status=200):
    resp = client.post(f"/v1/cases/{case_id}/{command}", json=body or {}, headers=headers)
    assert resp.status_code == status, resp.json
    return resp.json


def assigned_case(client, **assign) -> str:
    case_id = new_case(client)
    do(client, case_id, "assign", {"lead_unit": LEAD, "cooperating_units": [HELPER], "handling_mode": "deadline",
                                   **assign})
    return case_id


def test_assignment_computes_the_deadline_in_working_days(client):
    case_id = new_case(client)
    after = do(client, case_id, "assign", {"lead_unit": LEAD, "cooperating_units": [HELPER],
                                           "handling_mode": "deadline"})
    # 15 working days from Monday 2026-11-23 (no holidays in between) and 1 working day to sign for it.
    assert after["deadline"] == "2026-12-14" and after["sign_for_due"] == "2026-11-24"
    assert after["status"] == "assigned" and set(after["allowed_commands"]) == {"reassign", "merge", "accept", "return",
                                                                                       "correct_summary"}


def test_a_refused_transition_names_the_state_and_the_allowed_commands(client):
    case_id = new_case(client)
    resp = client.post(f"/v1/cases/{case_id}/close", json={}, headers=OFFICE)
    assert resp.status_code == 409 and resp.content_type == "application/problem+json"
    assert resp.json["state"] == "received" and resp.json["allowed"] == ["assign", "merge", "correct_summary"]


def test_the_whole_way_from_receipt_to_sign_off(client):
    case_id = assigned_case(client)
    do(client, case_id, "accept", headers=unit())
    do(client, case_id, "note-progress", {"note": "已约谈窗口负责人"}, headers=unit(HELPER))
    do(client, case_id, "request-extension", {"reason": "需协调系统厂商", "requested_deadline": "2026-12-31"},
       headers=unit())
    assert do(client, case_id, "approve-extension")["deadline"] == "2026-12-31"
    do(client, case_id, "report-rectified", {"text": "已完善一次性告知制度",
                                             "attachments": [{"name": "制度.pdf", "url": "https://x.cn/a.pdf"}]},
       headers=unit())
    assert do(client, case_id, "order-rework", {"reason": "证据不足"})["rework_count"] == 1
    do(client, case_id, "report-rectified", {"text": "补充了整改证据"}, headers=unit())
    closed = do(client, case_id, "close", {"comment": "整改到位"})
    assert closed["status"] == "closed" and closed["allowed_commands"] == ["record_return_visit", "correct_summary"]
    do(client, case_id, "record-return-visit", {"satisfaction": "unsatisfied"},
       headers=bearer("channel", channel="hotline"))
    reopened = do(client, case_id, "order-rehandling", {"reason": "群众不满意"})
    assert reopened["status"] == "in_progress"


def test_a_unit_acts_only_on_its_own_cases_and_cannot_see_others(client):
    case_id = assigned_case(client)
    assert client.post(f"/v1/cases/{case_id}/accept", json={}, headers=unit(HELPER)).status_code == 403
    assert client.post(f"/v1/cases/{case_id}/accept", json={}, headers=unit("某镇人民政府")).status_code == 404
    assert client.get(f"/v1/cases/{case_id}", headers=unit("某镇人民政府")).status_code == 404
    assert client.get(f"/v1/cases/{case_id}", headers=unit(HELPER)).status_code == 200
    assert client.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": LEAD, "handling_mode": "deadline"},
                       headers=unit()).status_code in (403, 409)


def test_a_unit_never_receives_the_complainant(client):
    case_id = assigned_case(client)
    seen = client.get(f"/v1/cases/{case_id}", headers=unit()).get_data(as_text=True)
    assert "13807391234" not in seen and "李某" not in seen and "complainant" not in seen
    assert client.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "核实"},
                       headers=unit()).status_code == 403


def test_an_unknown_unit_or_past_deadline_is_a_validation_error(client):
    case_id = new_case(client)
    resp = client.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": "不存在的局", "handling_mode": "deadline",
                                                            "cooperating_units": ["也不存在"]}, headers=OFFICE)
    assert resp.status_code == 422 and {"lead_unit", "cooperating_units"} <= set(resp.json["errors"])
    resp = client.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": LEAD, "handling_mode": "deadline",
                                                            "deadline": "2026-11-01"}, headers=OFFICE)
    assert resp.status_code == 422 and "deadline" in resp.json["errors"]


def test_a_deadline_in_an_uncovered_year_is_named_until_the_office_enters_it(client):
    client.clock.write_text("2026-12-20T09:00:00+08:00")
    case_id = new_case(client)
    resp = client.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": LEAD, "handling_mode": "deadline"},
                       headers=OFFICE)
    assert resp.status_code == 422 and "2027" in resp.json["errors"]["deadline"][0]
    entered = client.put("/v1/directory/calendar/2027", json={
        "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"], "workdays": []}, headers=OFFICE)
    assert entered.status_code == 200 and entered.json["calendar_years"] == [2027]
    after = do(client, case_id, "assign", {"lead_unit": LEAD, "handling_mode": "deadline"})
    assert date.fromisoformat(after["deadline"]) > date(2027, 1, 3)


def test_if_match_refuses_a_command_decided_on_an_old_version(client):
    case_id = new_case(client)
    resp = client.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": LEAD, "handling_mode": "immediate"},
                       headers={**OFFICE, "If-Match": '"7"'})
    assert resp.status_code == 409


def test_an_overturned_recheck_reopens_the_case_and_records_accountability(client, admin_url):
    client.put("/v1/directory/limits", json={"limits": {m: {"normal": 5, "urgent": 3, "critical": 1}
                                                        for m in ("immediate", "deadline", "long_term")},
                                             "sign_for_days": 1, "recheck_ratio": 1.0}, headers=OFFICE)
    case_id = assigned_case(client)
    do(client, case_id, "accept", headers=unit())
    do(client, case_id, "report-not-substantiated", {"text": "经核查反映问题不属实"}, headers=unit())
    dismissed = do(client, case_id, "accept-dismissal", {})
    assert dismissed["status"] == "dismissed" and dismissed["recheck_pending"] is True
    reopened = do(client, case_id, "record-recheck", {"outcome": "overturned", "findings": "复查发现确有推诿",
                                                      "measure": "admonishment"})
    assert reopened["status"] == "in_progress"
    with psycopg.connect(admin_url) as conn:
        record = conn.execute("SELECT payload->'data' FROM intake.events WHERE type = "
                              "'cn.zhengfeng.accountability.recorded.v1'").fetchone()[0]
    assert record["target"] == LEAD and record["basis_cases"] == [case_id] and record["measure"] == "admonishment"


def test_merging_a_duplicate_keeps_both_histories(client):
    original, duplicate = new_case(client), new_case(client)
    merged = do(client, duplicate, "merge", {"into_case_id": original, "reason": "同一诉求"})
    assert merged["status"] == "merged"
    assert client.get(f"/v1/cases/{original}", headers=OFFICE).json["version"] == 2
    assert client.post(f"/v1/cases/{original}/merge", json={"into_case_id": duplicate},
                       headers=OFFICE).status_code == 422


def test_accountability_is_recorded_by_the_office_only(client):
    case_id = new_case(client)
    body = {"measure": "bulletin_criticism", "target_kind": "unit", "target": LEAD, "unit": LEAD,
            "basis_cases": [case_id], "reason": "多次超期"}
    assert client.post("/v1/accountability", json=body, headers=unit()).status_code == 403
    resp = client.post("/v1/accountability", json=body, headers=OFFICE)
    assert resp.status_code == 201 and resp.json["accountability_id"]


def test_the_directory_is_edited_by_events(client):
    added = client.post("/v1/directory/categories", json={"name": "新类别", "group": "自定义"}, headers=OFFICE)
    assert added.status_code == 200 and added.json["categories"]["新类别"] == "自定义"
    assert "推诿扯皮" in added.json["categories"]                       # the seed taxonomy was recorded first
    removed = client.delete("/v1/directory/categories/推诿扯皮", headers=OFFICE)
    assert "推诿扯皮" not in removed.json["categories"]
    assert client.post("/v1/cases", json=complaint(), headers=OFFICE).status_code == 422   # category retired
    assert client.post("/v1/directory/categories", json={"name": "x", "group": "y"},
                       headers=unit()).status_code == 403


def test_erasing_the_complainant_shreds_the_data_key_and_is_recorded(client, admin_url):
    case_id = new_case(client)
    resp = client.delete(f"/v1/cases/{case_id}/complainant", json={"reason": "本人申请删除个人信息 PIPL-2026-17"},
                         headers=OFFICE)
    assert resp.status_code == 200 and resp.json["erased"] is True
    seen = client.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "核实"}, headers=OFFICE).json
    assert (seen["erased"], seen["complainant"], seen["outcome"]) == (True, None, "erased")
    with psycopg.connect(admin_url) as conn:
        assert conn.execute("SELECT count(*) FROM intake.contact_keys").fetchone()[0] == 0
        types = [r[0] for r in conn.execute("SELECT type FROM intake.events WHERE stream_id = %s ORDER BY version",
                                            (case_id,))]
    assert types == ["cn.zhengfeng.case.received.v1", "cn.zhengfeng.case.complainant_erased.v1"]
    again = client.delete(f"/v1/cases/{case_id}/complainant", json={"reason": "重复"}, headers=OFFICE)
    assert again.status_code == 422
    assert client.delete(f"/v1/cases/{case_id}/complainant", json={"reason": "x"}, headers=unit()).status_code == 403


def test_a_command_retried_with_its_idempotency_key_gets_the_same_answer_and_changes_nothing(client):
    case_id = new_case(client)
    body = {"lead_unit": LEAD, "handling_mode": "deadline"}
    headers = {**OFFICE, "Idempotency-Key": "assign-once"}
    first = client.post(f"/v1/cases/{case_id}/assign", json=body, headers=headers)
    again = client.post(f"/v1/cases/{case_id}/assign", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json == again.json and again.headers["Idempotent-Replayed"] == "true"
    assert first.headers["ETag"] == again.headers["ETag"] == '"2"'
    assert date.fromisoformat(first.json["deadline"]) > date(2026, 11, 23)


def test_reading_a_case_shows_its_assignment_and_what_may_be_done_next(client):
    case_id = assigned_case(client, deadline="2026-12-31")
    seen = client.get(f"/v1/cases/{case_id}", headers=unit())
    assert seen.status_code == 200 and seen.headers["ETag"] == '"2"'
    assert {k: seen.json[k] for k in ("status", "lead_unit", "cooperating_units", "handling_mode", "deadline",
                                      "sign_for_due", "extension_pending", "rework_count", "recheck_pending")} == {
        "status": "assigned", "lead_unit": LEAD, "cooperating_units": [HELPER], "handling_mode": "deadline",
        "deadline": "2026-12-31", "sign_for_due": "2026-11-24", "extension_pending": False, "rework_count": 0,
        "recheck_pending": False}
    assert set(seen.json["allowed_commands"]) == {"reassign", "merge", "accept", "return", "correct_summary"}
    assert seen.json["channel"] == "hotline" and seen.json["category"] == "推诿扯皮"


@pytest.mark.parametrize("schedule, field", [
    ({"holidays": ["2027-01-01"], "workdays": ["2027-01-11"]}, "workdays"),    # a Monday is no make-up day
    ({"holidays": ["2028-01-01"], "workdays": []}, "holidays"),
    ({"holidays": [], "workdays": []}, "holidays"),                            # an official year has holidays
], ids=["weekday-make-up-day", "holiday-of-another-year", "no-holidays"])
def test_an_entered_calendar_year_that_cannot_be_official_is_refused_naming_its_field(client, schedule, field):
    resp = client.put("/v1/directory/calendar/2027", json=schedule, headers=OFFICE)
    assert resp.status_code == 422 and list(resp.json["errors"]) == [field], resp.json
    assert client.get("/v1/directory", headers=OFFICE).json["calendar_years"] == []


def test_the_documented_field_names_are_accepted_findings_for_a_dismissal_and_comment_for_a_denial(client):
    case_id = assigned_case(client)
    do(client, case_id, "accept", headers=unit())
    do(client, case_id, "request-extension", {"reason": "需协调", "requested_deadline": "2026-12-31"}, headers=unit())
    assert do(client, case_id, "deny-extension", {"comment": "理由不充分"})["extension_pending"] is False
    do(client, case_id, "request-extension", {"reason": "仍需协调", "requested_deadline": "2026-12-31"}, headers=unit())
    do(client, case_id, "deny-extension", {"reason": "仍不充分"})                  # the older name still works
    both = client.post(f"/v1/cases/{case_id}/report-not-substantiated", json={"findings": "a", "text": "b"},
                       headers=unit())
    neither = client.post(f"/v1/cases/{case_id}/report-not-substantiated", json={}, headers=unit())
    assert both.status_code == neither.status_code == 422
    assert list(both.json["errors"]) == list(neither.json["errors"]) == ["findings"]
    reported = do(client, case_id, "report-not-substantiated", {"findings": "经核查反映问题不属实"}, headers=unit())
    assert reported["status"] == "dismissal_reported"
    timeline = [e["data"] for e in client_events(client, case_id)]
    assert timeline[-1]["text"] == "经核查反映问题不属实"
    assert [d["reason"] for d in timeline if set(d) == {"reason"}] == ["理由不充分", "仍不充分"]


def client_events(client, case_id):
    """The case's stored events, read the way audit and the ledger get them (the store's payloads)."""
    pool = client.application.extensions["zf_pool"]
    with pool.connection() as conn:
        return [r["payload"] for r in conn.execute(
            "SELECT payload FROM events WHERE stream_id = %s ORDER BY version", (case_id,))]


def dismissed_case(client, ratio: float, **received) -> str:
    client.put("/v1/directory/limits", json={"limits": {m: {"normal": 5, "urgent": 3, "critical": 1}
                                                        for m in ("immediate", "deadline", "long_term")},
                                             "sign_for_days": 1, "recheck_ratio": ratio}, headers=OFFICE)
    case_id = new_case(client, **received)
    do(client, case_id, "assign", {"lead_unit": LEAD, "handling_mode": "deadline"})
    do(client, case_id, "accept", headers=unit())
    do(client, case_id, "report-not-substantiated", {"findings": "经核查反映问题不属实"}, headers=unit())
    return case_id


def test_the_office_chooses_a_dismissal_for_recheck_beside_the_random_draw(client):
    case_id = dismissed_case(client, 0.0)
    settled = do(client, case_id, "accept-dismissal", {})
    assert settled["recheck_pending"] is False and settled["recheck_basis"] is None
    assert "choose_recheck" in settled["allowed_commands"]
    assert client.post(f"/v1/cases/{case_id}/choose-recheck", json={"reason": "x"},
                       headers=unit()).status_code == 403
    assert client.post(f"/v1/cases/{case_id}/choose-recheck", json={}, headers=OFFICE).status_code == 422
    chosen = do(client, case_id, "choose-recheck", {"reason": "群众回访不满意，决定复查"})
    assert (chosen["recheck_pending"], chosen["recheck_basis"]) == (True, "chosen")
    assert client.get(f"/v1/cases/{case_id}", headers=OFFICE).json["recheck_basis"] == "chosen"
    refused = client.post(f"/v1/cases/{case_id}/choose-recheck", json={"reason": "再选一次"}, headers=OFFICE)
    assert refused.status_code == 409 and refused.json["state"] == "dismissed"
    do(client, case_id, "record-recheck", {"outcome": "upheld", "findings": "复查确认不属实"})
    [event] = [e for e in client_events(client, case_id) if e["type"] == "cn.zhengfeng.case.recheck_chosen.v1"]
    assert event["data"] == {"reason": "群众回访不满意，决定复查", "chosen_by": "office:tester"}
    assert event["actor"] == "office:tester"


@pytest.mark.parametrize("channel", ["petition", "supervisor"])
def test_any_handled_case_takes_a_rating_whatever_its_channel(client, channel):
    case_id = dismissed_case(client, 0.0, channel=channel)
    dismissed = do(client, case_id, "accept-dismissal", {})
    assert "record_return_visit" in dismissed["allowed_commands"]
    do(client, case_id, "record-return-visit", {"satisfaction": "unsatisfied", "comment": "对查否结论有异议"})
    channel_token = bearer("channel", channel=channel)      # the channel rates what it submitted itself
    closed = client.post("/v1/cases", json=complaint(channel=channel), headers=channel_token).json["case_id"]
    do(client, closed, "assign", {"lead_unit": LEAD, "handling_mode": "deadline"})
    do(client, closed, "accept", headers=unit())
    do(client, closed, "report-rectified", {"text": "已整改"}, headers=unit())
    do(client, closed, "close", {})
    rated = do(client, closed, "record-return-visit", {"satisfaction": "satisfied"}, headers=channel_token)
    assert rated["status"] == "closed"
