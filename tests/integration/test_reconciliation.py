"""Audit reconciles its trail with intake's event store over HTTP and reports missing and extra events."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.serving import make_server

from audit.adapters import trail
from audit.entrypoints.http import create_app as audit_app
from audit.service_layer.reconcile import intake_digests, reconcile
from intake.entrypoints.http import create_app as intake_app
from zfcommon import db
from zfcommon.consumer import apply_once
from zfcommon.events import parse_event

from ..conftest import settings_for
from ..support import bearer, complaint
from .test_event_store import received

pytestmark = pytest.mark.integration


def test_the_trail_is_reconciled_with_intakes_event_store(urls):
    intake = intake_app(settings_for("intake", urls["intake"]))
    client = intake.test_client()
    for i in range(5):
        client.post("/v1/cases", json=complaint(description=f"第{i}件"), headers=bearer())
    with db.connect(urls["intake"]) as source:
        events = [parse_event(r["payload"]) for r in source.execute("SELECT payload FROM events ORDER BY position")]
    with db.connect(urls["audit"]) as conn:
        for e in events[:-1]:                                    # the last one never reached the trail
            apply_once(conn, e, e.topic, trail.apply)
        apply_once(conn, received("not-in-intake"), "intake.case.events", trail.apply)   # one intake never stored
        conn.commit()
    server = make_server("127.0.0.1", 0, intake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = bearer("auditor")["Authorization"].split()[1]
    until = datetime.now(timezone.utc) + timedelta(minutes=1)
    try:
        with db.connect(urls["audit"]) as conn:
            result = reconcile(conn, intake_digests(f"http://127.0.0.1:{server.server_port}", token, until), until)
            conn.commit()
            assert (result["streams"], result["missing"], result["extra"], result["differing"]) == (5, 1, 1, 0)
            assert {p["stream"] for p in result["report"]} == {events[-1].subject, "not-in-intake"}
            apply_once(conn, events[-1], events[-1].topic, trail.apply)
            conn.commit()
            again = reconcile(conn, intake_digests(f"http://127.0.0.1:{server.server_port}", token, until), until)
            assert (again["missing"], again["extra"]) == (0, 1)
            conn.commit()
        app = audit_app(settings_for("audit", urls["audit"]))
        metrics = app.test_client().get("/metrics").get_data(as_text=True)
        assert "zf_reconcile_missing 0.0" in metrics and "zf_reconcile_extra 1.0" in metrics
        latest = app.test_client().get("/v1/reconciliation", headers=bearer("auditor")).json
        assert latest["extra"] == 1
        assert client.get("/v1/streams/digests", query_string={"until": until.isoformat()},
                          headers=bearer("unit", unit="县自然资源局")).status_code == 403
        app.extensions["zf_pool"].close()
    finally:
        server.shutdown()
        intake.extensions["zf_pool"].close()
