"""The overdue list, the per-unit statistics, a case's timeline and its state as of a past instant."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ledger.adapters import unit_figures
from zfcommon import db

from ..support import bearer
from ..unit.test_ledger_evolve import START, Story
from .test_ledger_lists import ids
from .test_ledger_projection import client, client_on, office, project  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration


def running(case_id: str, deadline: str, *then: str, **received) -> Story:
    return Story(case_id, **received).add("assigned", deadline=deadline).add("accepted").then(*then)


@pytest.fixture
def late(urls):
    """Today is 2024-06-03. Working days overdue: o3 17 (Saturday 05-11 was a make-up working day),
    o1 and o5 10, o2 1; o4 is only late to be signed for; the n… cases are not overdue."""
    project(urls["ledger"],
            running("o1", "2024-05-20"),
            running("o2", "2024-05-31", "rectification_reported", channel="petition"),
            running("o3", "2024-05-10"),
            Story("o4").add("assigned", sign_for_due="2024-05-30", deadline="2024-06-20", handling_mode="immediate"),
            Story("o5").add("assigned", sign_for_due="2024-05-08", deadline="2024-05-20"),
            running("n1", "2024-05-20", "rectification_reported", "closed"),
            Story("n2").add("assigned", deadline="2024-05-20").add("returned"),
            running("n3", "2024-06-03"),
            running("n4", "2024-05-20", "dismissal_reported", "dismissal_accepted"))


def test_the_overdue_list_puts_the_most_working_days_overdue_first(client, office, late):
    items = client.get("/v1/overdue", headers=office).json["items"]
    assert [(c["case_id"], c["working_days_overdue"], c["overdue"], c["sign_for_overdue"]) for c in items] == [
        ("o3", 17, True, False), ("o1", 10, True, False), ("o5", 10, True, True), ("o2", 1, True, False),
        ("o4", 0, False, True)]


def test_the_overdue_list_pages_by_offset(client, office, late):
    page = client.get("/v1/overdue", query_string={"limit": 2, "offset": 2}, headers=office).json
    assert [c["case_id"] for c in page["items"]] == ["o5", "o2"] and page["next_offset"] == 4
    assert client.get("/v1/overdue", query_string={"offset": 4}, headers=office).json["next_offset"] is None


@pytest.mark.parametrize("params, expected", [({"channel": "petition"}, ["o2"]),
                                              ({"handling_mode": "immediate"}, ["o4"]),
                                              ({"unit": "县财政局"}, ["o3", "o1", "o5", "o2", "o4"]),
                                              ({"unit": "县交通运输局"}, [])])
def test_the_overdue_list_filters_by_unit_channel_and_mode(client, office, late, params, expected):
    assert ids(client.get("/v1/overdue", query_string=params, headers=office)) == expected


def test_overdue_is_judged_on_the_ledgers_today(urls, client_on, office, late):
    earlier = client_on(START.date() + timedelta(days=10))    # 2024-05-16
    assert ids(earlier.get("/v1/overdue", headers=office)) == ["o3", "o5"]


def test_the_timeline_lists_every_event_in_order_with_who_and_what(urls, client, office):
    s = Story("c1").add("assigned", actor="office:wang").add("accepted", actor="unit:zhao")
    project(urls["ledger"], s)
    items = client.get("/v1/cases/c1/timeline", headers=office).json["items"]
    assert [(i["version"], i["type"].split(".")[3], i["actor"]) for i in items] == [
        (1, "received", "office:li"), (2, "assigned", "office:wang"), (3, "accepted", "unit:zhao")]
    assert items[1]["data"]["lead_unit"] == "县住建局" and items[2]["data"] == {"unit": "县住建局", "on_time": True}
    assert datetime.fromisoformat(items[2]["time"]) == s.last.time


def as_of(client, office, at: datetime):
    return client.get("/v1/cases/c1/as-of", query_string={"at": at.isoformat()}, headers=office)


def test_as_of_rebuilds_the_case_as_it_stood_then(urls, client, office):
    s = Story("c1").then("assigned", "accepted", "extension_requested", "extension_approved")
    project(urls["ledger"], s)
    before_extension = as_of(client, office, s.events[3].time).json
    assert (before_extension["status"], before_extension["extension_pending"], before_extension["deadline"],
            before_extension["version"]) == ("in_progress", True, "2024-05-20", 4)
    after = as_of(client, office, s.last.time + timedelta(days=1)).json
    now = client.get("/v1/cases/c1", headers=office).json
    judged_that_day = ("overdue", "working_days_overdue", "working_days_left")    # facts of the day judged on
    assert {k: v for k, v in after.items() if k not in ("as_of", *judged_that_day)} == {
        k: v for k, v in now.items() if k not in judged_that_day}


def test_as_of_judges_overdue_on_that_days_date(urls, client, office):
    project(urls["ledger"], Story("c1").then("assigned", "accepted"))
    then = as_of(client, office, datetime(2024, 5, 22, 10, 0, tzinfo=timezone.utc)).json
    assert (then["overdue"], then["working_days_overdue"]) == (True, 2)


def test_as_of_before_the_case_was_received_is_not_found(urls, client, office):
    project(urls["ledger"], Story("c1"))
    assert as_of(client, office, START - timedelta(seconds=1)).status_code == 404
    assert as_of(client, office, START).json["status"] == "received"


def test_as_of_wants_an_instant_with_its_offset(urls, client, office):
    project(urls["ledger"], Story("c1"))
    resp = client.get("/v1/cases/c1/as-of", query_string={"at": "2024-05-06T09:00:00"}, headers=office)
    assert resp.status_code == 422 and list(resp.json["errors"]) == ["at"]


HOUSING = "县住建局"


@pytest.fixture
def figures(urls):
    """县住建局 leads h1…h7 (see test below); 县财政局 leads f1, received in April."""
    visit = "return_visit_recorded"
    project(urls["ledger"],
            running("h1", "2024-05-20", "rectification_reported", "closed", visit),
            Story("h2").add("assigned").add("accepted", on_time=False).add("rectification_reported")
            .add("closed", on_time=False).add(visit, satisfaction="basically_satisfied"),
            running("h3", "2024-05-20", "rectification_reported").add("rework_ordered", new_deadline="2024-05-24"),
            Story("h4").add("assigned"),
            Story("h5").add("assigned", sign_for_due="2024-06-05", deadline="2024-06-20"),
            running("h6", "2024-05-20", "extension_requested", "extension_approved"),
            running("h7", "2024-05-20", "rectification_reported", "closed").add(visit, satisfaction="unsatisfied"),
            Story("f1", at=datetime(2024, 4, 1, tzinfo=timezone.utc)).add("assigned", lead_unit="县财政局")
            .then("accepted", "rectification_reported", "closed"),
            Story("r1"))


def rate(numerator, denominator, value, meaningful):
    return {"numerator": numerator, "denominator": denominator, "value": value, "meaningful": meaningful}


def test_unit_stats_follow_the_documented_definitions(client, office, figures):
    body = client.get("/v1/units/stats", headers=office).json
    assert (body["today"], body["min_rate_base"]) == ("2024-06-03", 5)
    housing = next(r for r in body["items"] if r["unit"] == HOUSING)
    assert housing == {
        "unit": HOUSING, "received": 7, "open": 4, "overdue": 2, "closed": 3,   # open h3-h6; overdue h3 h4; closed h1 h2 h7
        "sign_for_on_time_rate": rate(4, 6, 0.6667, True),              # signed h1 h2 h3 h6 h7, h4 past due
        "closure_on_time_rate": rate(2, 5, 0.4, True),                  # on time h1 h7 / closed 3 + overdue 2
        "rework_count": 1, "extension_count": 1,
        "satisfaction_rate": rate(2, 3, 0.6667, False),                 # h1 satisfied, h2 basically / 3 visits
        "unsatisfied": 1, "dismissed": 0, "recheck_upheld": 0, "recheck_overturned": 0,     # h7 unsatisfied
        "tasks_open": 0, "tasks_overdue": 0, "tasks_signed_off": 0, "milestones_overdue": 0,  # no task, no look-back
        "lookback_held": 0, "lookback_rebounds": 0}


def test_a_rate_over_too_few_cases_is_flagged_and_an_empty_one_has_no_value(client, office, figures):
    finance = next(r for r in client.get("/v1/units/stats", headers=office).json["items"] if r["unit"] == "县财政局")
    assert finance["closure_on_time_rate"] == rate(1, 1, 1.0, False)
    assert finance["satisfaction_rate"] == rate(0, 0, None, False)


def test_unit_stats_can_be_limited_to_cases_received_in_a_period(client, office, figures):
    may = client.get("/v1/units/stats", query_string={"from": "2024-05-01", "to": "2024-05-31"}, headers=office)
    april = client.get("/v1/units/stats", query_string={"from": "2024-04-01", "to": "2024-04-30"}, headers=office)
    assert [r["unit"] for r in may.json["items"]] == [HOUSING]
    assert [(r["unit"], r["closed"]) for r in april.json["items"]] == [("县财政局", 1)]


def test_a_stats_period_must_be_in_order(client, office):
    resp = client.get("/v1/units/stats", query_string={"from": "2024-06-01", "to": "2024-05-31"}, headers=office)
    assert resp.status_code == 422 and list(resp.json["errors"]) == ["to"]


def test_a_period_of_any_days_is_counted_from_its_cases_as_the_monthly_sums_count_whole_months(urls, client, office,
                                                                                             figures):
    """An interim report's period (a campaign fortnight): the same definitions, counted from the cases."""
    def stats(**period):
        resp = client.get("/v1/units/stats", query_string=period, headers=office)
        assert resp.status_code == 200, resp.json
        return resp.json["items"]
    may = stats(**{"from": "2024-05-01", "to": "2024-05-31"})
    assert stats(**{"from": "2024-04-02", "to": "2024-06-02"}) == may           # f1 came on 1 April
    assert stats(**{"from": "2024-05-06", "to": "2024-05-06"}) == may           # every May case came on the 6th
    assert stats(**{"from": "2024-04-01", "to": "2024-04-01"}) == stats(**{"from": "2024-04-01", "to": "2024-04-30"})
    assert stats(**{"from": "2024-05-07", "to": "2024-06-03"}) == []
    project(urls["ledger"], Story("late", at=datetime(2024, 5, 27, 2, tzinfo=timezone.utc)).add("assigned"))
    [fortnight] = stats(**{"from": "2024-05-20", "to": "2024-06-02"})
    assert (fortnight["unit"], fortnight["received"], fortnight["open"]) == (HOUSING, 1, 1)


def test_unit_stats_count_dismissals_and_recheck_outcomes_and_filter_by_channel(urls, client, office):
    dismissed = ("dismissal_reported", "dismissal_accepted")
    project(urls["ledger"], running("d1", "2024-05-20", *dismissed),
            running("d2", "2024-05-20", *dismissed, "recheck_upheld"),
            running("d3", "2024-05-20", *dismissed, "recheck_overturned", channel="petition"), running("d4", "2024-05-20"))
    row = client.get("/v1/units/stats", headers=office).json["items"][0]
    assert (row["received"], row["dismissed"], row["recheck_upheld"], row["recheck_overturned"]) == (4, 2, 1, 1)
    petition = client.get("/v1/units/stats", query_string={"channel": "petition"}, headers=office).json["items"]
    assert [(r["received"], r["recheck_overturned"], r["open"]) for r in petition] == [(1, 1, 1)]
    hotline_token = bearer("channel", channel="hotline")
    assert client.get("/v1/units/stats", query_string={"channel": "petition"}, headers=hotline_token).json["items"] == []


def test_a_reassignment_moves_the_cases_figures_to_the_new_lead_unit(urls, client, office):
    s = running("c1", "2024-05-20")
    project(urls["ledger"], s)
    project(urls["ledger"], s.add("reassigned"))
    assert [(r["unit"], r["open"], r["overdue"]) for r in client.get("/v1/units/stats", headers=office).json["items"]] \
        == [("县交通运输局", 1, 1)]


def month_rows(url: str) -> list[dict]:
    with db.connect(url) as conn:
        return conn.execute("SELECT * FROM unit_month_figures WHERE open + closed + signed + visited + rework_count"
                            " + extension_count > 0 ORDER BY lead_unit, channel, month").fetchall()


def test_the_running_monthly_figures_equal_a_recount_from_the_cases(urls, figures):
    s = running("x1", "2024-05-20", "rectification_reported", "closed", "return_visit_recorded", "rehandling_ordered")
    project(urls["ledger"], s, s.events[2], running("x2", "2024-05-20", "dismissal_reported", "dismissal_accepted",
                                                    "recheck_overturned").add("reassigned"))
    kept = month_rows(urls["ledger"])
    with db.connect(urls["ledger"]) as conn:
        unit_figures.rebuild(conn)
    assert month_rows(urls["ledger"]) == kept and len(kept) == 3
