"""Outbound webhooks, the pure parts: who gets a case event, what they get, what an answer means and
when the next attempt is; and the hotline's status callbacks."""
from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from notify.domain import hotline, watch, webhooks
from zfcommon.webhooks import RETRY_SCHEDULE, url_problem

from .test_ledger_evolve import SEALED, Story

ORDER = {"system": "hotline", "ref": "SY12345-20261123-000317", "parent": None, "extra": {"intake_channel": "电话"}}
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def fold(story: Story) -> list[tuple[dict | None, dict]]:
    """(before, after) of the watched case for each event, as the consumer sees them."""
    row, changes = None, []
    for event in story.events:
        new = watch.evolve(row, event)
        changes.append((row, new))
        row = new
    return changes


# --------------------------------------------------------------------------------------------------
# What an answer means, and when to try again
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_is_delivered(status):
    assert webhooks.verdict(status, 1) == webhooks.Verdict("delivered")


@pytest.mark.parametrize("status", [None, 301, 302, 400, 404, 500, 503])
def test_anything_else_but_410_is_a_failure_to_retry(status):
    assert webhooks.verdict(status, 1).outcome == "retry"


def test_410_means_the_endpoint_is_gone_even_on_the_first_attempt():
    assert webhooks.verdict(410, 1).outcome == "gone"


def test_the_delays_follow_the_spec_schedule_scaled_within_the_jitter():
    rng = random.Random(7)
    for attempts in range(1, len(RETRY_SCHEDULE)):
        delay = webhooks.verdict(500, attempts, scale=0.5, rng=rng).delay
        step = RETRY_SCHEDULE[attempts] * 0.5
        assert step * (1 - webhooks.JITTER) <= delay <= step * (1 + webhooks.JITTER)


def test_after_the_last_scheduled_attempt_the_message_is_dead():
    assert webhooks.verdict(500, len(RETRY_SCHEDULE)) == webhooks.Verdict("dead")
    assert webhooks.verdict(429, len(RETRY_SCHEDULE), retry_after=1).outcome == "dead"


@pytest.mark.parametrize("status", sorted(webhooks.BACK_OFF))
def test_back_off_answers_wait_at_least_as_long_as_retry_after_asks(status):
    assert webhooks.verdict(status, 1, retry_after=120).delay == 120           # the schedule says ~5 s
    assert webhooks.verdict(status, 2, retry_after=1).delay > 200               # the schedule says ~5 min
    assert webhooks.verdict(status, 1, retry_after=10**9).delay == webhooks.LONGEST_RETRY_AFTER


def test_retry_after_on_other_failures_is_not_a_reason_to_wait():
    assert webhooks.verdict(500, 1, retry_after=3600).delay < 10


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    assert webhooks.retry_after_seconds("120", NOW) == 120
    assert webhooks.retry_after_seconds(format_datetime(NOW + timedelta(seconds=90), usegmt=True), NOW) == 90
    assert webhooks.retry_after_seconds(format_datetime(NOW - timedelta(hours=1), usegmt=True), NOW) == 0
    assert webhooks.retry_after_seconds("soon", NOW) is None
    assert webhooks.retry_after_seconds(None, NOW) is None


# --------------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["https://hooks.example.cn/zf", "https://10.1.2.3:8443/x?y=1",
                                 "http://127.0.0.1:9000/h", "http://localhost/h", "http://[::1]:8080/h"])
def test_https_anywhere_and_http_to_this_machine_are_endpoints(url):
    assert url_problem(url) is None


@pytest.mark.parametrize("url", ["http://hooks.example.cn/zf", "ftp://hooks.example.cn", "hooks.example.cn/zf",
                                 "https://", "https://user:pw@hooks.example.cn/", "http://[::1"])
def test_anything_else_is_refused_with_a_reason(url):
    assert url_problem(url)


def test_a_message_id_is_stable_per_endpoint_and_event():
    assert webhooks.message_id("sub_a", "e1") == webhooks.message_id("sub_a", "e1")
    assert len({webhooks.message_id(s, e) for s in ("sub_a", "sub_b") for e in ("e1", "e2")}) == 4
    assert webhooks.message_id("sub_a", "e1").startswith("msg_")


# --------------------------------------------------------------------------------------------------
# Who gets what
# --------------------------------------------------------------------------------------------------

def test_the_lead_and_cooperating_units_get_a_cases_events_and_nobody_gets_its_receipt():
    story = Story().then("assigned", "accepted")
    received, assigned, accepted = fold(story)
    assert webhooks.recipients(*received) == set()
    assert webhooks.recipients(*assigned) == webhooks.recipients(*accepted) == {"县住建局", "县财政局"}


def test_a_reassignment_reaches_the_units_it_takes_the_case_from():
    story = Story().then("assigned", "reassigned", "accepted")
    *_, reassigned, accepted = fold(story)
    assert webhooks.recipients(*reassigned) == {"县住建局", "县财政局", "县交通运输局"}
    assert webhooks.recipients(*accepted) == {"县交通运输局"}


def test_a_filter_keeps_only_its_types():
    assert webhooks.wants(None, "cn.zhengfeng.case.closed.v1")
    assert webhooks.wants(["cn.zhengfeng.case.closed.v1"], "cn.zhengfeng.case.closed.v1")
    assert not webhooks.wants(["cn.zhengfeng.case.closed.v1"], "cn.zhengfeng.case.assigned.v1")


def test_an_events_endpoints_are_the_active_subscriptions_of_its_units_that_want_its_type():
    active = [{"id": "sub_a", "unit": "县住建局", "event_types": None},
              {"id": "sub_b", "unit": "县财政局", "event_types": ["cn.zhengfeng.case.closed.v1"]},
              {"id": "sub_c", "unit": "县交通运输局", "event_types": None},
              {"id": "sub_d", "unit": "县财政局", "event_types": None}]
    units = {"县住建局", "县财政局"}
    assert webhooks.matching(active, units, "cn.zhengfeng.case.assigned.v1") == ["sub_a", "sub_d"]
    assert webhooks.matching(active, units, "cn.zhengfeng.case.closed.v1") == ["sub_a", "sub_b", "sub_d"]
    assert webhooks.matching(active, set(), "cn.zhengfeng.case.closed.v1") == []


def test_the_message_is_the_cloudevent_without_the_sealed_complainant():
    event = Story(anonymous=False, complainant=SEALED).events[0]
    body = json.loads(webhooks.event_body(event, None))
    assert "complainant" not in body["data"] and "c2VhbGVk" not in webhooks.event_body(event, None)
    assert body["data"]["description"] == event.data["description"]
    assert (body["id"], body["type"], body["subject"]) == (event.id, event.type, event.subject)
    assert body["specversion"] == "1.0"
    assert event.data["complainant"] == SEALED                  # the event itself is untouched
    assert "casenumber" not in body                             # a case received before numbers


def test_every_message_about_a_case_carries_its_number_as_a_cloudevents_extension():
    story = Story(case_number="ZF-2026-000123").then("assigned", "accepted")
    for (_, after), event in zip(fold(story), story.events):
        body = json.loads(webhooks.event_body(event, watch.case_number(after)))
        assert body["casenumber"] == "ZF-2026-000123" and body["subject"] == "case-1"


# --------------------------------------------------------------------------------------------------
# notify's case: the shared fold, kept as JSON
# --------------------------------------------------------------------------------------------------

def test_the_watched_case_is_the_shared_fold_as_json_with_its_units_and_origin():
    story = Story(origin=ORDER).then("assigned", "accepted", "rectification_reported")
    row = fold(story)[-1][1]
    assert row["status"] == "rectification_reported"
    assert (row["lead_unit"], row["cooperating_units"]) == ("县住建局", ["县财政局"])
    assert row["origin"] == ORDER and row["last_report"] == "已整改到位" and row["version"] == 4
    json.dumps(row["view"])                                      # storable as jsonb as it is
    assert row["view"]["deadline"] == "2024-05-20"


def test_redelivered_older_foreign_and_pre_view_events_change_nothing():
    story = Story().then("assigned")
    row = fold(story)[-1][1]
    assert watch.evolve(row, story.events[1]) is None
    assert watch.evolve({**row, "view": None}, Story().then("assigned", "accepted").last) is None
    not_a_case = replace(Story(case_id="directory").events[0], type="cn.zhengfeng.directory.limits_set.v1")
    assert watch.evolve(None, not_a_case) is None


# --------------------------------------------------------------------------------------------------
# Hotline callbacks
# --------------------------------------------------------------------------------------------------

def callbacks(story: Story, joined: dict | None = None) -> list[dict | None]:
    bodies = (hotline.callback(before, after, event, joined)
              for (before, after), event in zip(fold(story), story.events, strict=True))
    return [json.loads(body) if body else None for body in bodies]


def test_the_hotline_hears_each_status_change_of_its_order_but_not_its_receipt():
    story = Story(origin=ORDER, case_number="ZF-2024-000017").then(
        "assigned", "progress_noted", "accepted", "rectification_reported", "closed")
    received, assigned, progress, accepted, reported, closed = callbacks(story)
    assert received is None and progress is None
    assert [c["状态代码"] for c in (assigned, accepted, reported, closed)] == [
        "assigned", "in_progress", "rectification_reported", "closed"]
    assert assigned == {"工单编号": ORDER["ref"], "案件编号": "ZF-2024-000017", "案件ID": "case-1",
                        "状态代码": "assigned", "状态名称": "已交办",
                        "变更时间": "2024-05-06T10:30:00+08:00", "承办单位": "县住建局", "是否办结": False}
    assert closed["是否办结"] is True and closed["状态名称"] == "已销号"
    assert (closed["办理结果"], closed["办结意见"]) == ("已整改到位", None)


def test_a_dismissal_and_a_merge_finish_the_order_with_their_own_result():
    story = Story(origin=ORDER).then("assigned", "accepted", "dismissal_reported", "dismissal_accepted")
    dismissed = callbacks(story)[-1]
    assert (dismissed["状态名称"], dismissed["是否办结"], dismissed["办理结果"]) == ("已查否", True, "经核查反映不属实")
    merged = callbacks(Story(origin=ORDER).then("merged"))[-1]
    assert merged["是否办结"] is True and "case-0" in merged["办理结果"]
    joined = fold(Story("case-0", case_number="ZF-2024-000003"))[-1][1]
    merged = callbacks(Story(origin=ORDER).then("merged"), joined)[-1]
    assert merged["办理结果"] == "与案件ZF-2024-000003反映问题相同，已并入该案件办理"


def test_a_reassignment_and_other_channels_cases_send_nothing():
    assert callbacks(Story(origin=ORDER).then("assigned", "reassigned"))[-1] is None
    assert callbacks(Story().then("assigned", "accepted", "rectification_reported", "closed")) == [None] * 5
    assert callbacks(Story(origin={**ORDER, "system": "open311"}).then("assigned"))[-1] is None
