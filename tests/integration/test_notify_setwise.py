"""notify's consumer applies a poll's events set-wise (service_layer.fanout.apply_events): the watched
cases folded in memory and each written once, the notices and webhook messages of its case events
collected and written at once, anything else applied on its own after what came before it. Whatever
the polls, notify's tables end exactly as event-by-event application leaves them, rows in the same
order (the dispatcher keeps a case's messages to an endpoint in that order)."""
from __future__ import annotations

import pytest

from intake.entrypoints.http import create_app as intake_app
from notify.adapters import subscriptions
from notify.adapters.repository import apply as notify_apply
from notify.adapters.repository import apply_batch as notify_apply_batch
from notify.service_layer.fanout import applier, batch_applier
from zfcommon import db
from zfcommon.consumer import apply_fresh, apply_once
from zfcommon.events import parse_event
from zfcommon.events.catalogue import topic_for
from zfcommon.sealing import Envelope

from ..conftest import NOTIFY_KEY, fresh_database, service_urls, settings_for
from ..support import bearer, complaint, hotline_order
from .test_hotline_webhook import SECRET, deliver

pytestmark = pytest.mark.integration
OFFICE = bearer()
LEAD, HELPER = "县自然资源局", "县政务服务中心"
# What each table is compared on: everything but the clock's and the serial columns' values, in row order.
TABLES = {
    "watched_cases": ("SELECT case_id, status, channel, subject_unit, priority, version, lead_unit, cooperating_units,"
                      " origin, last_report, view FROM watched_cases ORDER BY case_id"),
    "escalation_checks": "SELECT case_id, seen_version FROM escalation_checks ORDER BY case_id",
    "notices": ("SELECT kind, channel, audience, unit, contact_name, recipient, masked_to, case_id, event_id,"
                " event_type, context, status, last_error FROM notices ORDER BY id"),
    "deliveries": ("SELECT id, subscription_id, case_id, event_id, event_type, content_type, body, status"
                   " FROM deliveries ORDER BY seq"),
}


def casework(intake_url: str) -> list:
    """Events as intake stores them: two units (one without contacts, given some midway), hotline work
    orders and other cases through their lifecycle, a merge, a reassignment, an erasure, interleaved."""
    app = intake_app(settings_for("intake", intake_url, hotline_webhook_secrets=SECRET))
    client = app.test_client()
    lead, helper = bearer("unit", unit=LEAD), bearer("unit", unit=HELPER)

    def post(path, body, who=OFFICE):
        resp = client.post(path, json=body, headers=who)
        assert resp.status_code in (200, 201), resp.get_json()
        return resp.get_json()

    def unit(name, contacts):
        post("/v1/directory/units", {"name": name, "kind": "government_department",
                                     "supervising_channel": "县监察局", "contacts": contacts})

    unit(LEAD, [{"name": "王科长", "email": "wang@zrzyj.example.gov.cn", "phone": "13900000001"}])
    unit(HELPER, [])
    orders = [deliver(client, hotline_order(**{"工单编号": f"SY12345-20261123-00031{i}"})).get_json()["case_id"]
              for i in range(3)]
    plain = [post("/v1/cases", complaint(complainant={"name": "李建国", "phone": "13807391234"}))["case_id"]
             for _ in range(2)]
    for case_id in orders + plain:
        post(f"/v1/cases/{case_id}/assign", {"lead_unit": LEAD, "cooperating_units": [HELPER],
                                             "handling_mode": "deadline"})
    post(f"/v1/cases/{orders[0]}/accept", {}, lead)
    unit(HELPER, [{"name": "李主任", "email": "li@zwzx.example.gov.cn"}])
    post(f"/v1/cases/{orders[0]}/note-progress", {"note": "已约谈窗口负责人"}, helper)
    post(f"/v1/cases/{orders[0]}/report-rectified", {"text": "已完善一次性告知制度", "attachments": []}, lead)
    post(f"/v1/cases/{orders[1]}/merge", {"into_case_id": orders[2], "reason": "同一诉求"})
    post(f"/v1/cases/{plain[0]}/accept", {}, lead)
    resp = client.delete(f"/v1/cases/{orders[2]}/complainant", json={"reason": "本人申请"}, headers=OFFICE)
    assert resp.status_code == 200, resp.get_json()
    post(f"/v1/cases/{orders[0]}/close", {"comment": "整改到位"})
    post(f"/v1/cases/{plain[1]}/reassign", {"lead_unit": HELPER, "handling_mode": "deadline", "reason": "职责调整"})
    app.extensions["zf_pool"].close()
    with db.connect(intake_url) as conn:
        return [parse_event(r["payload"]) for r in conn.execute("SELECT payload FROM events ORDER BY position")]


def notify_database(pg) -> str:
    url = service_urls(fresh_database(pg))["notify"]
    envelope = Envelope.from_setting(NOTIFY_KEY, "ZF_NOTIFY_MASTER_KEY")
    with db.connect(url) as conn:
        for sub_id, unit, types in (("sub_lead", LEAD, None), ("sub_helper", HELPER, None),
                                    ("sub_lead_closed", LEAD, ["cn.zhengfeng.case.closed.v1"])):
            subscriptions.create(conn, {"id": sub_id, "unit": unit, "url": "https://hooks.example.gov.cn/zf",
                                        "event_types": types, "description": None, "secret": "whsec_x" * 4,
                                        "created_at": "2026-11-23T09:00:00+08:00", "created_by": "tester"},
                                 envelope)
        conn.commit()
    return url


def tables(url: str) -> dict[str, list]:
    with db.connect(url) as conn:
        return {name: conn.execute(query).fetchall() for name, query in TABLES.items()}


@pytest.fixture
def events(urls) -> list:
    return casework(urls["intake"])


def test_the_casework_reaches_every_part_of_the_fanout(pg, events):
    """The story below is worth comparing: it queues notices (and skips some), webhook messages to every
    endpoint and hotline callbacks, and carries directory events and an erasure between case events."""
    url = notify_database(pg)
    with db.connect(url) as conn:
        for event in events:
            apply_once(conn, event, topic_for(event.type), applier(hotline_on=True))
            conn.commit()
    found = tables(url)
    assert {r["status"] for r in found["notices"]} >= {"queued", "skipped"}
    assert {r["last_error"] for r in found["notices"]} >= {
        "the complainant's data was erased", "addressed when the unit's directory entry arrived"}
    assert {r["subscription_id"] for r in found["deliveries"]} == {"sub_lead", "sub_helper", "sub_lead_closed", None}
    assert {r["status"] for r in found["watched_cases"]} >= {"merged", "closed"}
    assert {e.type.split(".")[2] for e in events} >= {"directory", "case"}


@pytest.mark.parametrize("poll", [1, 3, 7, 1000])
def test_polls_applied_set_wise_leave_the_tables_as_event_by_event(pg, events, poll):
    one_by_one, set_wise = notify_database(pg), notify_database(pg)
    with db.connect(one_by_one) as conn:
        for event in events:
            apply_once(conn, event, topic_for(event.type), applier(hotline_on=True))
            conn.commit()
    with db.connect(set_wise) as conn:
        for start in range(0, len(events), poll):
            chunk = events[start:start + poll]
            apply_fresh(conn, [(topic_for(e.type), e) for e in chunk], batch_applier(hotline_on=True))
            conn.commit()
    assert tables(set_wise) == tables(one_by_one)


@pytest.mark.parametrize("batch", [2, 1000])
def test_the_rebuilds_set_wise_fold_gives_the_event_by_event_projection(pg, events, batch):
    one_by_one, set_wise = notify_database(pg), notify_database(pg)
    with db.connect(one_by_one) as conn:
        for event in events:
            notify_apply(conn, event)
        conn.commit()
    with db.connect(set_wise) as conn:
        for start in range(0, len(events), batch):
            notify_apply_batch(conn, events[start:start + batch])
        conn.commit()
    compared = ("watched_cases", "escalation_checks")
    assert {t: tables(set_wise)[t] for t in compared} == {t: tables(one_by_one)[t] for t in compared}
