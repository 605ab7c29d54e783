"""GET /v1/cases on the real PostgreSQL: every filter, keyset paging, and bad filters."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ..support import bearer
from ..unit.test_ledger_evolve import Story
from .test_ledger_projection import client, client_on, office, project  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration
CHINA = timezone(timedelta(hours=8))


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.json
    return [c["case_id"] for c in resp.json["items"]]


@pytest.fixture
def ledger(urls):
    """Five cases, newest first: c5 … c1 (see each line)."""
    project(urls["ledger"],
            # assigned to 住建 with 财政 cooperating, deadline 05-20: overdue on 06-03
            Story("c1", at=datetime(2024, 5, 6, 9, 30, tzinfo=CHINA), case_number="ZF-2024-000001").then(
                "assigned", "accepted"),
            # received late on 05-09 China time (still 05-09 in UTC too), immediate fix due 06-10
            Story("c2", at=datetime(2024, 5, 9, 23, 30, tzinfo=CHINA), case_number="ZF-2024-000002",
                  channel="petition", category="吃拿卡要",
                  description="办证时被索要好处费 100% 属实").add(
                "assigned", lead_unit="县交通运输局", cooperating_units=[], handling_mode="immediate",
                deadline="2024-06-10"),
            # received on 05-10 China time but 05-09 in UTC
            Story("c3", at=datetime(2024, 5, 10, 7, 0, tzinfo=CHINA), case_number="ZF-2024-000003", channel="media",
                  description="医保报销窗口态度冷漠,ABC 系统反复宕机"),
            # signed off before its deadline passed
            Story("c4", at=datetime(2024, 5, 12, 10, 0, tzinfo=CHINA), case_number="ZF-2024-000104").add(
                "assigned", deadline="2024-05-15")
            .then("accepted", "rectification_reported", "closed"),
            # led by 财政 with 住建 cooperating, long term, due 05-31: overdue on 06-03; received before
            # case numbers, numbered afterwards
            Story("c5", at=datetime(2024, 5, 15, 10, 0, tzinfo=CHINA)).add(
                "assigned", lead_unit="县财政局", cooperating_units=["县住建局"], handling_mode="long_term",
                deadline="2024-05-31").add("accepted").add("numbered", case_number="ZF-2024-000105"))


@pytest.mark.parametrize("params, expected", [
    ({}, ["c5", "c4", "c3", "c2", "c1"]),
    ({"status": "in_progress"}, ["c5", "c1"]),
    ({"status": "closed,received"}, ["c4", "c3"]),
    ({"status": ["closed", "assigned"]}, ["c4", "c2"]),
    ({"status": "closed,closed"}, ["c4"]),
    ({"unit": "县住建局"}, ["c5", "c4", "c1"]),
    ({"unit": "县财政局"}, ["c5", "c4", "c1"]),
    ({"lead_unit": "县财政局"}, ["c5"]),
    ({"subject_unit": "县自然资源局", "channel": "media"}, ["c3"]),
    ({"category": "吃拿卡要"}, ["c2"]),
    ({"channel": "petition"}, ["c2"]),
    ({"handling_mode": "long_term"}, ["c5"]),
    ({"overdue": "true"}, ["c5", "c1"]),
    ({"overdue": "false"}, ["c4", "c3", "c2"]),
    ({"received_from": "2024-05-10"}, ["c5", "c4", "c3"]),
    ({"received_to": "2024-05-09"}, ["c2", "c1"]),
    ({"received_from": "2024-05-09", "received_to": "2024-05-12"}, ["c4", "c3", "c2"]),
    ({"deadline_from": "2024-05-20", "deadline_to": "2024-05-31"}, ["c5", "c1"]),
    ({"deadline_to": "2024-05-15"}, ["c4"]),
    ({"q": "好处费"}, ["c2"]),
    ({"q": "abc 系统"}, ["c3"]),
    ({"q": "100%"}, ["c2"]),
    ({"q": "%"}, ["c2"]),
    ({"q": "_"}, []),
    ({"case_number": "ZF-2024-000002"}, ["c2"]),
    ({"case_number": "ZF-2024-000105"}, ["c5"]),
    ({"case_number": "ZF-2024-00000"}, []),                      # exact
    ({"q": " zf-2024-000104"}, ["c4"]),                          # q finds a whole number as people type it
    ({"q": "ZF-2024-0001"}, []),
    ({"q": "104"}, ["c4"]),                                       # or by its serial, as people say it
    ({"q": "000104"}, ["c4"]),
    ({"q": "2024-104"}, ["c4"]),                                  # the year and the serial
    ({"q": "2024－000105"}, ["c5"]),
    ({"q": "2023-104"}, []),
    ({"q": "100"}, ["c2"]),                                       # no such serial, but text in c2
    ({"q": "1"}, ["c2", "c1"]),                                   # serial 1 (c1) and text "100%" (c2)
    ({"q": "1234567"}, []),

    ({"unit": "县住建局", "overdue": "true", "handling_mode": "deadline"}, ["c1"]),
], ids=lambda v: repr(v) if isinstance(v, dict) else None)
def test_filters_select_exactly_the_matching_cases_newest_first(client, office, ledger, params, expected):
    assert ids(client.get("/v1/cases", query_string=params, headers=office)) == expected


def test_a_search_that_names_cases_by_number_gives_them_first(client, office, ledger):
    """`number_matches`: on the first page, the cases a search names by number, whatever their place."""
    got = client.get("/v1/cases", query_string={"q": "1", "limit": 1}, headers=office).json
    assert [c["case_id"] for c in got["items"]] == ["c2"] and [c["case_id"] for c in got["number_matches"]] == ["c1"]
    assert client.get("/v1/cases", query_string={"q": "1", "limit": 1, "cursor": got["next_cursor"]},
                      headers=office).json["number_matches"] == []
    assert client.get("/v1/cases", query_string={"q": "好处费"}, headers=office).json["number_matches"] == []
    assert client.get("/v1/cases", headers=office).json["number_matches"] == []
    assert [c["case_id"] for c in client.get("/v1/cases", query_string={"q": "zf-2024-000104"},
                                             headers=office).json["number_matches"]] == ["c4"]
    # other filters still hold: c1 is in progress
    assert client.get("/v1/cases", query_string={"q": "1", "status": "closed"}, headers=office).json[
        "number_matches"] == []
    unit = bearer("unit", unit="县交通运输局")          # c1 is not theirs to see
    assert client.get("/v1/cases", query_string={"q": "1"}, headers=unit).json["number_matches"] == []


def test_a_serial_finds_only_the_cases_a_reader_may_see_and_the_export_alike(client, office, ledger):
    unit = bearer("unit", unit="县交通运输局")
    assert ids(client.get("/v1/cases", query_string={"q": "1"}, headers=unit)) == ["c2"]
    assert ids(client.get("/v1/cases", query_string={"q": "104"}, headers=unit)) == []
    exported = client.get("/v1/cases/export.csv", query_string={"q": "000104"}, headers=office)
    assert exported.status_code == 200 and [r.split(",")[0] for r in exported.data.decode("utf-8-sig").split("\r\n")[1:]
                                            if r] == ["ZF-2024-000104"]


@pytest.mark.parametrize("params, expected", [({}, ["c5", "c4", "c3", "c2", "c1"]),
                                              ({"status": "in_progress,received,closed"}, ["c5", "c4", "c3", "c1"]),
                                              ({"unit": "县住建局"}, ["c5", "c4", "c1"])])
def test_pages_follow_the_cursor_without_gaps_or_repeats(client, office, ledger, params, expected):
    seen, cursor = [], None
    while True:
        page = client.get("/v1/cases", query_string={**params, "limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=office).json
        seen += [c["case_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_a_page_does_not_shift_when_new_cases_arrive(urls, client, office, ledger):
    first = client.get("/v1/cases", query_string={"limit": 2}, headers=office).json
    project(urls["ledger"], Story("c6", at=datetime(2024, 5, 20, tzinfo=CHINA)))
    second = client.get("/v1/cases", query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=office)
    assert ids(second) == ["c3", "c2"]


def test_cases_received_at_the_same_instant_are_paged_by_id(urls, client, office):
    same = datetime(2024, 5, 6, 9, 30, tzinfo=CHINA)
    project(urls["ledger"], *[Story(f"t{i}", at=same) for i in range(3)])
    first = client.get("/v1/cases", query_string={"limit": 2}, headers=office).json
    rest = client.get("/v1/cases", query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=office)
    assert [c["case_id"] for c in first["items"]] + ids(rest) == ["t2", "t1", "t0"]
    assert rest.json["next_cursor"] is None


def test_a_case_shows_its_number_in_the_list_the_case_its_timeline_and_as_it_stood(client, office, ledger):
    listed = {c["case_id"]: c["case_number"] for c in client.get("/v1/cases", headers=office).json["items"]}
    assert listed == {"c1": "ZF-2024-000001", "c2": "ZF-2024-000002", "c3": "ZF-2024-000003",
                      "c4": "ZF-2024-000104", "c5": "ZF-2024-000105"}
    assert client.get("/v1/cases/c5", headers=office).json["case_number"] == "ZF-2024-000105"
    timeline = client.get("/v1/cases/c5/timeline", headers=office).json
    assert timeline["case_number"] == "ZF-2024-000105"
    assert timeline["items"][-1]["type"] == "cn.zhengfeng.case.numbered.v1"
    before = client.get("/v1/cases/c5/as-of", query_string={"at": "2024-05-15T12:00:00+08:00"}, headers=office)
    assert before.json["case_number"] is None              # as it stood: numbered only later


def test_a_listed_case_carries_its_overdue_facts(client, office, ledger):
    items = client.get("/v1/cases", query_string={"overdue": "true"}, headers=office).json["items"]
    assert [(c["case_id"], c["working_days_overdue"]) for c in items] == [("c5", 1), ("c1", 10)]


@pytest.mark.parametrize("params, field", [
    ({"status": "lost"}, "status"), ({"status": "received,,closed"}, "status"), ({"status": ""}, "status"),
    ({"channel": "fax"}, "channel"), ({"handling_mode": "someday"}, "handling_mode"),
    ({"overdue": "perhaps"}, "overdue"), ({"received_from": "2024-13-01"}, "received_from"),
    ({"received_from": "2024-05-10", "received_to": "2024-05-09"}, "received_to"),
    ({"deadline_from": "2024-06-01", "deadline_to": "2024-05-01"}, "deadline_to"),
    ({"q": ""}, "q"), ({"q": "x" * 101}, "q"), ({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
    ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"), ({"colour": "red"}, "colour"),
], ids=lambda v: repr(v) if isinstance(v, dict) else None)
def test_a_bad_filter_is_a_422_naming_the_field(client, office, params, field):
    resp = client.get("/v1/cases", query_string=params, headers=office)
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert list(resp.json["errors"]) == [field]


@pytest.fixture
def due_ledger(urls):
    """On Thu 2024-05-16: d1 due Mon 05-20 (2 working days left), d2 due Wed 05-22 (4 left), d3 overdue
    (due 05-15), d4 assigned and past its sign-for day, d5 reported rectified due 05-17, d6 new."""
    at = datetime(2024, 5, 6, 9, 30, tzinfo=CHINA)
    project(urls["ledger"],
            Story("d1", at=at).add("assigned", deadline="2024-05-20").then("accepted"),
            Story("d2", at=at).add("assigned", deadline="2024-05-22").then("accepted"),
            Story("d3", at=at).add("assigned", deadline="2024-05-15").then("accepted"),
            Story("d4", at=at).add("assigned", deadline="2024-06-28"),
            Story("d5", at=at).add("assigned", deadline="2024-05-17").then("accepted", "rectification_reported"),
            Story("d6", at=at))


def test_due_within_lists_running_deadlines_at_most_that_many_working_days_away(client_on, office, due_ledger):
    client = client_on(datetime(2024, 5, 16).date())
    listed = client.get("/v1/cases", query_string={"due_within": 2}, headers=office).json["items"]
    assert sorted((c["case_id"], c["working_days_left"]) for c in listed) == [("d1", 2), ("d5", 1)]
    assert sorted(ids(client.get("/v1/cases", query_string={"due_within": 4}, headers=office))) == ["d1", "d2", "d5"]


def test_the_summary_counts_what_a_dashboard_shows_for_today(client_on, office, due_ledger):
    client = client_on(datetime(2024, 5, 16).date())
    resp = client.get("/v1/summary", query_string={"due_within": 2}, headers=office)
    assert resp.status_code == 200, resp.json
    assert resp.json == {"today": "2024-05-16", "due_within": 2, "due_until": "2024-05-20", "received": 1,
                         "due_soon": 2, "overdue": 1, "sign_for_overdue": 1, "awaiting_sign_for": 1,
                         "rectification_reported": 1, "dismissal_reported": 0, "extension_pending": 0}


def test_a_unit_summary_counts_only_its_own_cases(client_on, due_ledger):
    client = client_on(datetime(2024, 5, 16).date())
    own = client.get("/v1/summary", query_string={"due_within": 2}, headers=bearer("unit", unit="县住建局")).json
    other = client.get("/v1/summary", query_string={"due_within": 2}, headers=bearer("unit", unit="县交通运输局")).json
    assert (own["due_soon"], own["overdue"]) == (2, 1)
    assert (other["due_soon"], other["overdue"], other["received"]) == (0, 0, 0)


@pytest.mark.parametrize("path", ["/v1/cases", "/v1/summary", "/v1/cases/export.csv", "/v1/cases/export.xlsx"])
def test_due_within_past_the_calendar_is_a_422_naming_it_on_the_list_the_summary_and_the_exports(
        client_on, office, due_ledger, path):
    """15 working days from 2026-12-20 need 2027's official schedule, which no one has entered: the office
    is told so (422, due_within), not handed a 500 or a download cut off after its first bytes."""
    client = client_on(datetime(2026, 12, 20).date())
    resp = client.get(path, query_string={"due_within": 15}, headers=office)
    assert resp.status_code == 422 and resp.content_type == "application/problem+json", resp.data[:300]
    assert resp.json["code"] == "calendar.year_missing" and list(resp.json["errors"]) == ["due_within"]
    assert "2027" in resp.json["detail"]
    assert client.get(path, query_string={"due_within": 2}, headers=office).status_code == 200
