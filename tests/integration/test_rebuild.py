"""Rebuilding ledger's and notify's projections from the audit trail gives the live projections."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo
from werkzeug.serving import make_server

from audit.adapters import trail
from audit.domain.chain import canonical_bytes
from audit.entrypoints.http import create_app as audit_app
from intake.entrypoints.http import create_app as intake_app
from ledger.adapters.repository import apply as ledger_apply
from ledger.adapters.repository import apply_batch as ledger_apply_batch
from ledger.adapters.repository import rebuild_batch as ledger_rebuild_batch
from ledger.entrypoints.rebuild import ROUTE as LEDGER_ROUTE
from notify.adapters import escalations as notify_escalations
from notify.adapters.repository import apply as notify_apply
from notify.adapters.repository import apply_batch as notify_apply_batch
from notify.entrypoints.rebuild import ROUTE as NOTIFY_ROUTE
from zfcommon import db
from zfcommon.consumer import apply_once
from zfcommon.events import parse_event
from zfcommon.events.catalogue import CASE_TOPIC
from zfcommon.rebuild import RebuildFailed, TrailStream, by_subject, events_from_trail, rebuild, rebuild_in_parallel

from ..conftest import JWT_SECRET, fresh_database, service_urls, settings_for
from ..support import bearer, complaint, scheduler_pass

pytestmark = pytest.mark.integration
UNIT = "县自然资源局"
TABLES = {"ledger": ("cases", "case_events", "units", "categories", "accountability", "campaigns", "tasks",
                     "projects", "project_stages", "plan_events", "unit_month_figures"),
          "notify": ("watched_cases", "escalation_subjects")}


def play_some_casework(client) -> None:
    office = bearer()
    client.post("/v1/directory/units", json={"name": UNIT, "kind": "government_department",
                                             "supervising_channel": "县监察局"}, headers=office)
    for i in range(6):
        # Texts that quote the complainant: the masks, the summary and its correction are rebuilt too.
        case_id = client.post("/v1/cases", json=complaint(description=f"第{i}件，来电人李建国，电话13807391234",
                                                          complainant={"name": "李建国", "phone": "13807391234"}),
                              headers=office).json["case_id"]
        if i == 1:
            client.post(f"/v1/cases/{case_id}/correct-summary", json={"summary": "第1件"}, headers=office)
            client.post(f"/v1/cases/{case_id}/complainant/reveal", json={"reason": "核实"}, headers=office)
        client.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": UNIT, "handling_mode": "deadline"},
                    headers=office)
        if i % 2:
            client.post(f"/v1/cases/{case_id}/accept", json={}, headers=bearer("unit", unit=UNIT))
    # The campaign machinery (docs/CAMPAIGNS.md): a campaign, a task worked on, a project's stage, a case in it.
    campaign = client.post("/v1/campaigns", json={
        "name": "作风建设年", "lead_office": "县纪委", "starts_on": "2020-01-01", "ends_on": "2040-12-31",
        "phases": [{"name": "集中整治", "starts_on": "2020-01-01", "ends_on": "2040-12-31"}]}, headers=office).json
    task = client.post("/v1/tasks", json={
        "title": "清理审批事项", "target": "精简", "lead_unit": UNIT, "responsible_leader": "王局长", "measures": "逐项清理",
        "monitor": "县纪委", "deadline": "2040-06-30", "milestones": [{"name": "摸底", "due": "2040-03-31"}],
        "campaign_id": campaign["campaign_id"]}, headers=office).json
    client.post(f"/v1/tasks/{task['task_id']}/reach-milestone", json={"milestone": 1, "note": "摸底完成"},
                headers=bearer("unit", unit=UNIT))
    client.put("/v1/project-types/政府投资项目", json={"stages": [{"key": "lixiang", "name": "立项", "limit_days": 5},
                                                              {"key": "yongdi", "name": "用地", "limit_days": 10}]},
               headers=office)
    project = client.post("/v1/projects", json={"name": "污水处理厂", "owner": "城投", "project_type": "政府投资项目",
                                                "stage_units": {"lixiang": UNIT, "yongdi": UNIT}}, headers=office).json
    client.post(f"/v1/projects/{project['project_id']}/enter-stage", json={"stage": "lixiang"}, headers=office)
    client.post(f"/v1/projects/{project['project_id']}/complete-stage", json={"stage": "lixiang"}, headers=office)
    client.post(f"/v1/cases/{case_id}/set-campaign", json={"campaign_id": campaign["campaign_id"]}, headers=office)


def snapshot(url: str, table: str) -> list[tuple]:
    with db.connect(url) as conn:
        rows = conn.execute(f"SELECT * FROM {table}").fetchall()
    return sorted((tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows))


def casework(pg) -> tuple[dict[str, str], list]:
    """A fresh set of databases and the events intake stored for play_some_casework, in order."""
    live = service_urls(fresh_database(pg))
    intake = intake_app(settings_for("intake", live["intake"]))
    play_some_casework(intake.test_client())
    intake.extensions["zf_pool"].close()
    with db.connect(live["intake"]) as source:
        return live, [parse_event(r["payload"]) for r in source.execute("SELECT payload FROM events ORDER BY position")]


def test_projections_rebuilt_from_the_trail_equal_the_live_ones(pg):
    live, events = casework(pg)
    # What the consumers would have done: every stored event into ledger, notify and the trail.
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
        # The live side applied event by event; the rebuild applies the ledger's set-wise, five at a time.
        assert rebuild(empty["ledger"], ledger_apply, events_from_trail(audit_url, token),
                       seen.append, batch=5, apply_batch=ledger_apply_batch) == len(events)
        assert seen and seen[-1] <= len(events)
        rebuild(empty["notify"], notify_apply, events_from_trail(audit_url, token), batch=5,
                apply_batch=notify_apply_batch)
        # ledger's rebuild_batch (the folded rows written with COPY): in small batches, where cases
        # written by an earlier batch are merged, and in one batch, where every row is COPYed in.
        for size in (5, 10_000):
            bulk = service_urls(fresh_database(pg))["ledger"]
            rebuild(bulk, ledger_apply, events_from_trail(audit_url, token), batch=size,
                    apply_batch=ledger_rebuild_batch)
            for table in TABLES["ledger"]:
                assert snapshot(bulk, table) == snapshot(live["ledger"], table), f"ledger.{table}, batch {size}"
        for service, tables in TABLES.items():
            for table in tables:
                assert snapshot(empty[service], table) == snapshot(live[service], table), f"{service}.{table}"
        assert all(snapshot(live["ledger"], t) for t in ("campaigns", "tasks", "projects", "project_stages")) and \
            len(snapshot(live["notify"], "escalation_subjects")) == 3      # the task and the project's two stages
        # In parallel, as the commands run it, in batches of 3 so that the two workers interleave.
        parallel = in_parallel(pg, audit_url, token, 3)
        # And the commands themselves, as an operator runs them (two workers by default).
        command = service_urls(fresh_database(pg))
        for service in TABLES:
            done = run_command(service, command[service], audit_url)
            assert done.returncode == 0, done.stderr
            assert f"{service}: rebuilt from the trail, {len(events)} events applied" in done.stdout
            assert f"[{'#' * 40}] {len(events)}/{len(events)} events replayed" in done.stderr
        unsigned = run_command("ledger", command["ledger"], audit_url, "--workers", "1", ZF_JWT_SECRET="")
        assert unsigned.returncode == 2 and "ZF_JWT_SECRET" in unsigned.stderr
        for service, tables in TABLES.items():
            for table in tables:
                assert snapshot(parallel[service], table) == snapshot(live[service], table), f"{service}.{table}"
                assert snapshot(command[service], table) == snapshot(live[service], table), f"{service}.{table}"
        # Running it again changes nothing: every event is already tracked.
        assert rebuild(empty["ledger"], ledger_apply, events_from_trail(audit_url, token)) == 0
    finally:
        server.shutdown()
        app.extensions["zf_pool"].close()
    assert JWT_SECRET


class Delivery:
    """What the consumers would do: each new event of intake's and notify's stores into ledger,
    notify and the trail, in the order of each store."""

    def __init__(self, urls: dict[str, str]):
        self.urls, self.after = urls, {"intake": 0, "notify": 0}

    def __call__(self) -> None:
        for source in self.after:
            with db.connect(self.urls[source]) as conn:
                rows = conn.execute("SELECT position, payload FROM events WHERE position > %s ORDER BY position",
                                    (self.after[source],)).fetchall()
            if rows:
                self.after[source] = rows[-1]["position"]
            events = [parse_event(r["payload"]) for r in rows]
            for service, apply in (("ledger", ledger_apply), ("notify", notify_apply), ("audit", trail.apply)):
                with db.connect(self.urls[service]) as conn:
                    for e in events:
                        apply_once(conn, e, e.topic, apply)
                    conn.commit()


def in_parallel(pg, audit_url: str, token: str, batch: int) -> dict[str, str]:
    """Fresh databases filled by ledger's and notify's rebuilds in two workers, each by its route."""
    urls = service_urls(fresh_database(pg))
    for service, apply, apply_batch, route in (("ledger", ledger_apply, ledger_rebuild_batch, LEDGER_ROUTE),
                                               ("notify", notify_apply, notify_apply_batch, NOTIFY_ROUTE)):
        stream = TrailStream(audit_url, token)
        assert rebuild_in_parallel(urls[service], apply, stream.lines(), route, batch=batch,
                                   apply_batch=apply_batch, workers=2) == stream.total
    return urls


def run_command(service: str, database_url: str, audit_url: str, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """`python -m <service>.entrypoints.rebuild` with only what it needs: the database and the signing key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parents[2] / "services"), DATABASE_URL=database_url,
               ZF_JWT_ALGORITHM="HS256", ZF_JWT_SECRET=JWT_SECRET)
    env.update(extra)
    return subprocess.run([sys.executable, "-m", f"{service}.entrypoints.rebuild", *args, audit_url], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_parallel_rebuild_stops_with_what_a_worker_said_or_that_it_died(pg):
    url = service_urls(fresh_database(pg))["ledger"]
    with pytest.raises(RebuildFailed, match="rebuild-worker-0: InvalidEvent"):
        rebuild_in_parallel(url, ledger_apply, [(1, b'{"not": "an event"}')], by_subject([], None), workers=2)
    nowhere = make_conninfo(url, dbname="zf_no_such_database")
    with pytest.raises(RebuildFailed, match="rebuild-worker-.: OperationalError"):
        rebuild_in_parallel(nowhere, ledger_apply, [(1, b'{"not": "an event"}')], by_subject([], None), workers=2)
    _, events = casework(pg)
    with pytest.raises(RebuildFailed, match="rebuild-worker-0 died"):        # a barrier: worker 0 applies it
        rebuild_in_parallel(url, _dies, [(1, canonical_bytes(events[0].to_dict()))], by_subject([], None), workers=2)


def _dies(conn, event) -> None:
    os._exit(3)


def escalate_on(url: str, clock_file, day: str) -> int:
    clock_file.write_text(f"{day}T09:00:00+08:00")
    return scheduler_pass(url, clock_file)


def last_letter(url: str) -> int:
    with db.connect(url) as conn:
        return notify_escalations.last_letter(conn, 2026)


def test_escalation_ladders_rebuilt_from_the_trail_equal_the_live_ones_and_nothing_is_issued_again(pg, tmp_path):
    live = service_urls(fresh_database(pg))
    clock_file = tmp_path / "now"
    clock_file.write_text("2026-11-02T09:00:00+08:00")           # deadlines 11-23, sign-for 11-03
    intake = intake_app(settings_for("intake", live["intake"], clock_file=str(clock_file)))
    client = intake.test_client()
    play_some_casework(client)
    deliver = Delivery(live)
    deliver()
    assert escalate_on(live["notify"], clock_file, "2026-11-30") > 0
    deliver()
    with db.connect(live["intake"]) as conn:
        accepted = conn.execute("SELECT stream_id FROM events WHERE type = 'cn.zhengfeng.case.accepted.v1'"
                                " ORDER BY position LIMIT 1").fetchone()["stream_id"]
    client.post(f"/v1/cases/{accepted}/report-rectified", json={"text": "已整改"}, headers=bearer("unit", unit=UNIT))
    intake.extensions["zf_pool"].close()
    deliver()
    assert escalate_on(live["notify"], clock_file, "2026-12-31") > 0
    deliver()
    with db.connect(live["ledger"]) as conn:
        assert conn.execute("SELECT count(*) AS n FROM escalation_history WHERE kind = 'stop'").fetchone()["n"] == 1

    app = audit_app(settings_for("audit", live["audit"]))
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = bearer("auditor")["Authorization"].split()[1]
    try:
        empty = service_urls(fresh_database(pg))
        trail_url = f"http://127.0.0.1:{server.server_port}"
        rebuild(empty["ledger"], ledger_apply, events_from_trail(trail_url, token), apply_batch=ledger_apply_batch)
        rebuild(empty["notify"], notify_apply, events_from_trail(trail_url, token), batch=7,
                apply_batch=notify_apply_batch)
        # In parallel: notify's escalation steps, calendar and limits are barriers between its cases.
        parallel = in_parallel(pg, trail_url, token, 2)
    finally:
        server.shutdown()
        app.extensions["zf_pool"].close()
    stored = "(SELECT event_id, stream_id, version, type, payload FROM events) AS own"
    for rebuilt in (empty, parallel):
        for service, tables in {"ledger": ("cases", "escalation_ladders", "escalation_history"),
                                "notify": ("watched_cases", "escalation_ladders", "escalation_history",
                                           "calendar_years", "limits")}.items():
            for table in tables:
                assert snapshot(rebuilt[service], table) == snapshot(live[service], table), f"{service}.{table}"
        # notify's own decisions are back in its store, so the rebuilt scheduler issues nothing twice.
        assert snapshot(rebuilt["notify"], stored) == snapshot(live["notify"], stored)
        assert escalate_on(rebuilt["notify"], clock_file, "2026-12-31") == 0
        # and so are the supervision letters' numbers: the next letter of the year takes the next one.
        assert last_letter(rebuilt["notify"]) == last_letter(live["notify"]) > 0


def test_a_bulk_write_keeps_the_row_by_row_conflict_rules(pg):
    """Events the tracking table does not know, for stream versions the ledger already holds (a copy
    of an event under a new id): rebuild_batch's COPY meets the existing rows, falls back to merging,
    and changes nothing, as apply_batch's statements do."""
    _, events = casework(pg)
    cases = [e for e in events if e.topic == CASE_TOPIC]
    copies = [dataclasses.replace(e, id=f"copy-{e.id}", data={**e.data, "description": "另一个"}
                                  if "description" in e.data else e.data) for e in cases]
    written = {}
    for name, batch in (("row_by_row", ledger_apply_batch), ("bulk", ledger_rebuild_batch)):
        url = service_urls(fresh_database(pg))["ledger"]
        with db.connect(url) as conn:
            batch(conn, cases)
            conn.commit()
            before = [snapshot(url, t) for t in ("cases", "case_events", "unit_month_figures")]
            batch(conn, copies)
            conn.commit()
        written[name] = [snapshot(url, t) for t in ("cases", "case_events", "unit_month_figures")]
        assert written[name] == before, name
    assert written["bulk"] == written["row_by_row"]
