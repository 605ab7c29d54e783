"""Rebuilding ledger's and notify's projections from the audit trail gives the live projections."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from audit.adapters import trail
from audit.entrypoints.http import create_app as audit_app
from intake.entrypoints.http import create_app as intake_app
from ledger.adapters.repository import apply as ledger_apply
from notify.adapters.repository import apply as notify_apply
from zfcommon import db
from zfcommon.consumer import apply_once
from zfcommon.events import parse_event
from zfcommon.rebuild import events_from_trail, rebuild

from ..conftest import JWT_SECRET, fresh_database, service_urls, settings_for
from ..support import bearer, complaint

pytestmark = pytest.mark.integration
UNIT = "县自然资源局"
TABLES = {"ledger": ("cases", "case_events", "units", "categories", "accountability"),
          "notify": ("watched_cases",)}


def play_some_casework(client) -> None:
    office = bearer()
    client.post("/v1/directory/units", json={"name": UNIT, "kind": "government_department",
                                             "supervising_channel": "县监察局"}, headers=office)
    for i in range(6):
        case_id = client.post("/v1/cases", json=complaint(description=f"第{i}件"), headers=office).json["case_id"]
        client.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": UNIT, "handling_mode": "deadline"},
                    headers=office)
        if i % 2:
            client.post(f"/v1/cases/{case_id}/accept", json={}, headers=bearer("unit", unit=UNIT))


def snapshot(url: str, table: str) -> list[tuple]:
    with db.connect(url) as conn:
        rows = conn.execute(f"SELECT * FROM {table}").fetchall()
    return sorted((tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows))


def test_projections_rebuilt_from_the_trail_equal_the_live_ones(pg):
    live = service_urls(fresh_database(pg))
    intake = intake_app(settings_for("intake", live["intake"]))
    play_some_casework(intake.test_client())
    intake.extensions["zf_pool"].close()
    # What the consumers would have done: every stored event into ledger, notify and the trail.
    with db.connect(live["intake"]) as source:
        events = [parse_event(r["payload"]) for r in source.execute("SELECT payload FROM events ORDER BY position")]
    for service, apply in (("ledger", ledger_apply), ("notify", notify_apply), ("audit", trail.apply)):
        with db.connect(live[service]) as conn:
            for e in events:
                apply_once(conn, e, e.topic, apply)
            conn.commit()

    app = audit_app(settings_for("audit", live["audit"]))
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    audit_url = f"http://127.0.0.1:{server.server_port}"
    token = bearer("auditor")["Authorization"].split()[1]
    try:
        empty = service_urls(fresh_database(pg))
        seen = []
        assert rebuild(empty["ledger"], ledger_apply, events_from_trail(audit_url, token, page=7),
                       seen.append, batch=5) == len(events)
        assert seen and seen[-1] <= len(events)
        rebuild(empty["notify"], notify_apply, events_from_trail(audit_url, token))
        for service, tables in TABLES.items():
            for table in tables:
                assert snapshot(empty[service], table) == snapshot(live[service], table), f"{service}.{table}"
        # Running it again changes nothing: every event is already tracked.
        assert rebuild(empty["ledger"], ledger_apply, events_from_trail(audit_url, token)) == 0
    finally:
        server.shutdown()
        app.extensions["zf_pool"].close()
    assert JWT_SECRET
