"""Audit reconciles its trail with the event stores of intake and notify over HTTP and reports, per
source, missing and extra events — and still reconciles one source when the other is unreachable."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.serving import make_server

from audit.adapters import trail
from audit.entrypoints.http import create_app as audit_app
from audit.service_layer.reconcile import reconcile, run_reconciliation, source_digests
from intake.entrypoints.http import create_app as intake_app
from notify.entrypoints.http import create_app as notify_app
from zfcommon import db
from zfcommon.consumer import apply_once
from zfcommon.eventstore import EventStore
from zfcommon.events import parse_event

from ..conftest import settings_for
from ..support import bearer, complaint
from .test_event_store import received

pytestmark = pytest.mark.integration

UNIT = "县自然资源局"
OFFLINE = "http://127.0.0.1:9"          # nothing listens on the discard port


def serve(app):
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def stored(url: str) -> list:
    with db.connect(url) as conn:
        return [parse_event(r["payload"]) for r in conn.execute("SELECT payload FROM events ORDER BY position")]


def to_trail(audit_url: str, events) -> None:
    with db.connect(audit_url) as conn:
        for e in events:
            apply_once(conn, e, e.topic, trail.apply)
        conn.commit()


def test_the_trail_is_reconciled_with_intakes_event_store(urls):
    intake = intake_app(settings_for("intake", urls["intake"]))
    client = intake.test_client()
    for i in range(5):
        client.post("/v1/cases", json=complaint(description=f"第{i}件"), headers=bearer())
    events = stored(urls["intake"])
    to_trail(urls["audit"], [*events[:-1], received("not-in-intake")])   # the last one never reached the trail;
    url, server = serve(intake)                                          # one intake never stored did
    token = bearer("auditor")["Authorization"].split()[1]
    until = datetime.now(timezone.utc) + timedelta(minutes=1)
    try:
        with db.connect(urls["audit"]) as conn:
            result = reconcile(conn, "intake", source_digests(url, token, until), until)
            conn.commit()
            assert (result["streams"], result["missing"], result["extra"], result["differing"]) == (5, 1, 1, 0)
            assert {p["stream"] for p in result["report"]} == {events[-1].subject, "not-in-intake"}
            assert {"stream": "not-in-intake", "intake": 0, "trail": 1} in result["report"]
            apply_once(conn, events[-1], events[-1].topic, trail.apply)
            conn.commit()
            again = reconcile(conn, "intake", source_digests(url, token, until), until)
            assert (again["missing"], again["extra"]) == (0, 1)
            conn.commit()
        app = audit_app(settings_for("audit", urls["audit"]))
        metrics = app.test_client().get("/metrics").get_data(as_text=True)
        assert 'zf_reconcile_missing{source="intake"} 0.0' in metrics
        assert 'zf_reconcile_extra{source="intake"} 1.0' in metrics
        latest = app.test_client().get("/v1/reconciliation", headers=bearer("auditor")).json
        assert (latest["extra"], latest["unreachable"], [s["source"] for s in latest["sources"]]) == (1, [], ["intake"])
        assert client.get("/v1/streams/digests", query_string={"until": until.isoformat()},
                          headers=bearer("unit", unit=UNIT)).status_code == 403
        app.extensions["zf_pool"].close()
    finally:
        server.shutdown()
        intake.extensions["zf_pool"].close()


def record(notify_url: str, stream: str, type_: str, data: dict) -> None:
    with db.connect(notify_url) as conn:
        store = EventStore(conn, service="notify")
        store.record(stream, store.version(stream), [(type_, data)], correlation_id="test", actor="notify:test",
                     time=datetime.now(timezone.utc))
        conn.commit()


def step(case_id: str, step_: str) -> tuple[str, str, dict]:
    return case_id, "cn.zhengfeng.escalation.step_issued.v1", {
        "ladder": "deadline", "step": step_, "round": 1, "unit": UNIT, "due": "2026-12-14",
        "working_days_overdue": 5, "handling_mode": "deadline", "threshold": 5, "crossed_on": "2026-12-21"}


def test_notify_events_are_reconciled_under_their_own_source_beside_intakes(urls, tmp_path):
    intake, notify = intake_app(settings_for("intake", urls["intake"])), notify_app(settings_for("notify", urls["notify"]))
    cases = [intake.test_client().post("/v1/cases", json=complaint(), headers=bearer()).json["case_id"]
             for _ in range(2)]
    # notify's escalation streams share a case's id with intake's case stream: each store knows only its own.
    for stream, type_, data in (step(cases[0], "reminder"), step(cases[0], "supervision_letter"), step(cases[1], "reminder")):
        record(urls["notify"], stream, type_, data)
    record(urls["notify"], f"weekly-{UNIT}", "cn.zhengfeng.report.weekly_missed.v1",
           {"unit": UNIT, "week": "2026-W48", "due": "2026-11-27", "flagged_on": "2026-11-30"})
    intake_events, notify_events = stored(urls["intake"]), stored(urls["notify"])
    lost = notify_events[1]                                       # cases[0]'s supervision letter
    to_trail(urls["audit"], intake_events + [e for e in notify_events if e is not lost])
    (intake_url, intake_server), (notify_url, notify_server) = serve(intake), serve(notify)
    clock = tmp_path / "now"
    clock.write_text((datetime.now(timezone.utc) + timedelta(hours=1)).isoformat())   # every event is past the grace
    audit = audit_app(settings_for("audit", urls["audit"], intake_url=intake_url, notify_url=notify_url,
                                   clock_file=str(clock)))
    auditor = bearer("auditor")
    try:
        body = audit.test_client().post("/v1/reconciliation", headers=auditor).json
        by = {s["source"]: s for s in body["sources"]}
        assert list(by) == ["intake", "notify"] and body["unreachable"] == []
        assert (by["intake"]["streams"], by["intake"]["missing"], by["intake"]["extra"]) == (2, 0, 0)
        assert (by["notify"]["streams"], by["notify"]["missing"], by["notify"]["extra"], by["notify"]["differing"]) \
            == (3, 1, 0, 0)
        assert by["notify"]["report"] == [{"stream": cases[0], "notify": 2, "trail": 1}]
        assert (body["missing"], body["extra"]) == (1, 0)

        to_trail(urls["audit"], [lost])                            # the letter arrives: all clean
        body = audit.test_client().post("/v1/reconciliation", headers=auditor).json
        assert [(s["source"], s["missing"], s["extra"], s["differing"], s["error"]) for s in body["sources"]] == [
            ("intake", 0, 0, 0, None), ("notify", 0, 0, 0, None)]
        latest = audit.test_client().get("/v1/reconciliation", headers=auditor).json
        assert [(s["source"], s["streams"], s["missing"]) for s in latest["sources"]] == [("intake", 2, 0), ("notify", 3, 0)]
        metrics = audit.test_client().get("/metrics").get_data(as_text=True)
        assert 'zf_reconcile_missing{source="notify"} 0.0' in metrics
        assert 'zf_reconcile_unreachable{source="notify"} 0.0' in metrics
        assert notify.test_client().get("/v1/streams/digests", query_string={"until": clock.read_text()},
                                        headers=bearer("unit", unit=UNIT)).status_code == 403
        paged = notify.test_client().get("/v1/streams/digests", query_string={"until": clock.read_text(), "limit": 2},
                                         headers=auditor).json
        assert len(paged["streams"]) == 2 and paged["next_after"] == paged["streams"][-1]["stream_id"]
    finally:
        intake_server.shutdown()
        notify_server.shutdown()
        for app in (intake, notify, audit):
            app.extensions["zf_pool"].close()


def test_an_unreachable_source_is_reported_and_the_other_still_reconciled(urls, tmp_path):
    intake = intake_app(settings_for("intake", urls["intake"]))
    intake.test_client().post("/v1/cases", json=complaint(), headers=bearer())
    record(urls["notify"], *step("case-x", "reminder"))
    to_trail(urls["audit"], stored(urls["notify"]))                # in the trail, but notify cannot be asked
    intake_url, server = serve(intake)
    clock = tmp_path / "now"
    clock.write_text((datetime.now(timezone.utc) + timedelta(hours=1)).isoformat())
    audit = audit_app(settings_for("audit", urls["audit"], intake_url=intake_url, notify_url=OFFLINE,
                                   clock_file=str(clock)))
    try:
        resp = audit.test_client().post("/v1/reconciliation", headers=bearer("auditor"))
        assert resp.status_code == 200, resp.json
        by = {s["source"]: s for s in resp.json["sources"]}
        assert resp.json["unreachable"] == ["notify"] and "notify is not reachable" in by["notify"]["error"]
        assert (by["intake"]["streams"], by["intake"]["missing"], by["intake"]["error"]) == (1, 1, None)
        assert resp.json["missing"] == 1                             # totals leave the unreachable source out
        metrics = audit.test_client().get("/metrics").get_data(as_text=True)
        assert 'zf_reconcile_unreachable{source="notify"} 1.0' in metrics
        assert 'zf_reconcile_missing{source="notify"}' not in metrics
        assert audit.test_client().get("/v1/reconciliation", headers=bearer("auditor")).json["unreachable"] == ["notify"]
        settings = settings_for("audit", urls["audit"], intake_url=OFFLINE, notify_url=OFFLINE, clock_file=str(clock))
        with db.connect(urls["audit"]) as conn:
            assert run_reconciliation(conn, settings)["unreachable"] == ["intake", "notify"]
        offline = audit_app(settings)
        resp = offline.test_client().post("/v1/reconciliation", headers=bearer("office"))
        assert resp.status_code == 503 and resp.json["code"] == "reconciliation.no_source_reachable"
        assert "无法访问任何事件库" in resp.json["detail"]
        offline.extensions["zf_pool"].close()
    finally:
        server.shutdown()
        for app in (intake, audit):
            app.extensions["zf_pool"].close()
