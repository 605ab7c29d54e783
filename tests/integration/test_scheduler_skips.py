"""notify's scheduler never dies of what it reads (issue 14): on main, `start_week: "0000-W01"` was
accepted and the scheduler then died on every pass (2,000+ restarts). Rules stored past the checks (here
inserted as an event directly, bypassing the API) are skipped, logged with the reason and counted, the
rest of the pass goes on, the API answers 409 naming them instead of a 500, and the office's next rules
put everything right. Real PostgreSQL."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from prometheus_client import REGISTRY
from psycopg.types.json import Jsonb

from notify.adapters import repository as notify
from notify.domain import ladder
from notify.domain.reports import CONFIG_SET
from notify.entrypoints import scheduler
from notify.entrypoints.http import create_app as notify_app
from notify.service_layer import reports
from notify.service_layer.uow import UnitOfWork
from zfcommon import db
from zfcommon.clock import FileClock
from zfcommon.consumer import apply_once
from zfcommon.events import new_event
from zfcommon.events.catalogue import ESCALATION_CONFIG_STREAM, REPORTING_CONFIG_STREAM

from ..conftest import settings_for
from ..support import bearer
from ..unit.test_ledger_evolve import Story

pytestmark = pytest.mark.integration
OFFICE = bearer()
RULES = {"due_rule": "week_end", "spot_check_ratio": 0.2, "escalation": {
    "reminder": None, "supervision_letter": 2, "admonishment_talk": None, "bulletin_criticism": 3,
    "accountability_proposal": None}}


def skipped(item: str) -> float:
    return REGISTRY.get_sample_value("zf_scheduler_skipped_total", {"item": item}) or 0.0


def store_unchecked(url: str, stream: str, type_: str, good: dict, changes: dict) -> None:
    """An event written past the API and the catalogue (as the API once accepted it, or by hand)."""
    event = new_event(service="notify", type=type_, subject=stream, data=good, streamversion=1,
                      correlationid="by-hand", actor="office:tester", time=datetime.now(timezone.utc))
    payload = {**event.to_dict(), "data": {**good, **changes}}
    with db.connect(url) as conn:
        conn.execute("INSERT INTO events (event_id, stream_id, version, type, payload) VALUES (%s, %s, 1, %s, %s)",
                     (event.id, stream, type_, Jsonb(payload)))
        conn.commit()


@pytest.fixture
def pool(urls):
    made = db.make_pool(urls["notify"], max_size=1, name="test-scheduler")
    made.open()
    yield made
    made.close()


@pytest.fixture
def clock(tmp_path):
    (tmp_path / "now").write_text("2024-05-15T09:00:00+08:00")
    return FileClock(str(tmp_path / "now"))


def a_case_due_for_its_reminder(url: str) -> None:
    """A case notify watches whose reminder is due on 2024-05-15 (deadline 2024-05-20)."""
    with db.connect(url) as conn:
        for event in Story("due").then("assigned", "accepted").events:
            apply_once(conn, event, event.topic, notify.apply)
        conn.commit()


def steps_issued(url: str) -> int:
    with db.connect(url) as conn:
        return conn.execute("SELECT count(*) AS n FROM events WHERE stream_id = 'due'").fetchone()["n"]


def test_a_stored_start_week_of_year_0000_is_skipped_and_the_rest_of_the_pass_goes_on(urls, pool, clock, caplog):
    store_unchecked(urls["notify"], REPORTING_CONFIG_STREAM, CONFIG_SET,
                    {**RULES, "start_week": "2024-W19"}, {"start_week": "0000-W01"})
    a_case_due_for_its_reminder(urls["notify"])
    before = skipped("reporting_config")
    with caplog.at_level(logging.WARNING):
        scheduler.run_pass(pool, clock)                   # raised ValueError on main: the process died
        scheduler.run_pass(pool, clock)
    assert skipped("reporting_config") == before + 2
    assert [r for r in caplog.records if r.getMessage() == "weekly_reports_config_skipped"][0].reason == {
        "start_week": ["年份须在 1000 到 9999 之间"]}
    assert steps_issued(urls["notify"]) == 1, "the escalations of the same pass went on: the reminder"

    app = notify_app(settings_for("notify", urls["notify"]))
    try:
        client = app.test_client()
        for path in ("/v1/weekly-reports/overview", "/v1/reporting/config"):
            resp = client.get(path, headers=OFFICE)                     # a 500 on main
            assert resp.status_code == 409 and resp.json["code"] == "report.config_unusable"
            assert "start_week" in resp.json["errors"] and "请正风办重新设置" in resp.json["detail"]
        fixed = client.put("/v1/reporting/config", json={**RULES, "start_week": "2024-W19"}, headers=OFFICE)
        assert fixed.status_code == 200 and fixed.json["version"] == 2
        assert client.get("/v1/weekly-reports/overview", headers=OFFICE).status_code == 200
    finally:
        app.extensions["zf_pool"].close()
    scheduler.run_pass(pool, clock)
    assert skipped("reporting_config") == before + 2, "the office's new rules are used"


def test_unusable_escalation_thresholds_skip_the_escalations_not_the_reports(urls, pool, clock, caplog):
    store_unchecked(urls["notify"], ESCALATION_CONFIG_STREAM, ladder.CONFIG_SET, ladder.DEFAULT_CONFIG,
                    {"sign_for": None})
    a_case_due_for_its_reminder(urls["notify"])
    before = skipped("escalation_config")
    with caplog.at_level(logging.WARNING):
        scheduler.run_pass(pool, clock)
    assert skipped("escalation_config") == before + 1 and steps_issued(urls["notify"]) == 0
    assert any(r.getMessage() == "escalation_config_skipped" for r in caplog.records)
    with UnitOfWork(pool) as uow:
        assert reports.rules(uow).version == 1, "the weekly reports of the same pass went on: they started"


def test_a_part_that_fails_is_logged_and_counted_and_the_next_part_still_runs(pool, clock, monkeypatch, caplog):
    ran = []

    def broken(uow, clock, open_case, office):
        raise RuntimeError("a bug in one part")

    monkeypatch.setattr(scheduler, "PARTS", (("escalations", broken, scheduler.APPENDED, lambda: True),
                                             ("weekly_reports", lambda uow, c, o, f: ran.append(1) or 0, scheduler.REPORTED,
                                              lambda: True)))
    before = skipped("escalations")
    scheduler.run_pass(pool, clock)
    assert ran == [1] and skipped("escalations") == before + 1
    assert any(r.getMessage() == "scheduler_part_failed" and r.part == "escalations" for r in caplog.records)
