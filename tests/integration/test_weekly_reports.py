"""Weekly reports on the real PostgreSQL and broker with the file clock: two units file (one a zero
report), one does not and is flagged the next working day exactly once — with two schedulers racing
and after a restart; missed weeks after an outage are caught up in order and escalate; the spot-check
draw; the events on Kafka and in the audit trail; a rebuild from the trail equals the live tables and
flags nothing again."""
from __future__ import annotations

import logging
import os
import threading

import pytest
from werkzeug.serving import make_server

from audit.adapters import trail
from audit.entrypoints.http import create_app as audit_app
from intake.entrypoints.http import create_app as intake_app
from notify.adapters.repository import apply as notify_apply
from notify.domain import reports as domain
from notify.domain.reports import MISSED
from notify.entrypoints.http import create_app as notify_app
from notify.service_layer import reports
from notify.service_layer.fanout import applier
from notify.service_layer.uow import UnitOfWork
from zfcommon import db, kafka
from zfcommon.clock import FileClock
from zfcommon.consumer import EventConsumer, apply_once
from zfcommon.draw import draw
from zfcommon.events import parse_event
from zfcommon.events.catalogue import REPORT_TOPIC, TOPICS, all_topics, topic_for
from zfcommon.rebuild import events_from_trail, rebuild
from zfcommon.relay import Relay

from ..conftest import fresh_database, service_urls, settings_for
from ..support import bearer, complaint, group_consumer, read_topic
from .test_consumer import drain
from .test_rebuild import snapshot

pytestmark = pytest.mark.integration
FILER, ZERO, SILENT = "县教育局", "县林业局", "县水利局"
UNITS = (FILER, ZERO, SILENT)
OFFICE = bearer()
TABLES = ("units", "weekly_reports", "weekly_escalations", "spot_checks", "spot_check_results")


class Clock:
    """The file clock every process reads (ZF_CLOCK_FILE), moved by the test."""

    def __init__(self, path):
        self.path, self.tick = path, 0
        self.set("2026-11-23T09:00:00+08:00")          # Monday of 2026-W48

    def set(self, instant: str) -> None:
        self.path.write_text(instant)
        self.tick += 1
        os.utime(self.path, ns=(self.tick * 10**9, self.tick * 10**9))   # a new mtime: FileClock re-reads


def unit_body(name: str) -> dict:
    """A government department, supervised by the supervision bureau; the silent one a township (县委办)."""
    if name == SILENT:
        return {"name": name, "kind": "township", "supervising_channel": "县委办"}
    return {"name": name, "kind": "government_department", "supervising_channel": "县监察局"}


def scheduler_pass(url: str, clock) -> int:
    """One pass of the scheduler's reports part as `python -m notify.entrypoints.scheduler` runs it, with
    its own pool, at the time of `clock` (a Clock, or the path of a clock file)."""
    pool = db.make_pool(url, max_size=1, name="test-scheduler")
    pool.open()
    try:
        with UnitOfWork(pool) as uow:
            return reports.run_once(uow, FileClock(str(getattr(clock, "path", clock))))
    finally:
        pool.close()


def racing_passes(url: str, clock: Clock, n: int = 2) -> int:
    """`n` scheduler passes at once, each with its own connection."""
    start, appended = threading.Barrier(n), []

    def one():
        start.wait()
        appended.append(scheduler_pass(url, clock))
    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(appended)


def stream_types(url: str, stream: str) -> list[str]:
    with db.connect(url) as conn:
        return [r["type"] for r in conn.execute("SELECT type FROM events WHERE stream_id = %s ORDER BY version",
                                                (stream,))]


def publish_all(relay: Relay) -> int:
    """Publish everything the outbox holds, then let go of the broker and the database."""
    relay.check_broker()
    total = 0
    while n := relay.publish_batch():
        total += n
    relay._drop_producer()
    for conn in (relay.conn, relay.listener):
        conn.close()
    return total


def consumer(urls: dict, bootstrap: str, service: str, apply) -> EventConsumer:
    return EventConsumer(group=service, apply=apply, database_url=urls[service],
                         kafka_consumer=group_consumer(bootstrap, service, list(TOPICS)),
                         dlq_producer=kafka.producer(bootstrap))


@pytest.fixture
def world(urls, broker, tmp_path):
    yield from reporting_world(urls, broker, Clock(tmp_path / "clock"))


def reporting_world(urls, broker, clock: Clock):
    """The directory and a case in intake (at the clock's time), relayed over the broker into notify's
    projection; yields the clock, a notify test client, the case's id and notify's consumer."""
    intake = intake_app(settings_for("intake", urls["intake"], clock_file=str(clock.path)))
    client = intake.test_client()
    for name in UNITS:
        assert client.post("/v1/directory/units", json=unit_body(name), headers=OFFICE).status_code == 200
    case_id = client.post("/v1/cases", json=complaint(subject_unit=FILER), headers=OFFICE).json["case_id"]
    assert client.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": FILER, "handling_mode": "deadline"},
                       headers=OFFICE).status_code == 200
    intake.extensions["zf_pool"].close()
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    publish_all(Relay(database_url=urls["intake"], bootstrap=broker.bootstrap, partitions=3))
    notify_consumer = consumer(urls, broker.bootstrap, "notify", applier(False))     # as notify's consumer runs
    drain(notify_consumer)
    notify = notify_app(settings_for("notify", urls["notify"], clock_file=str(clock.path)))
    yield clock, notify.test_client(), case_id, notify_consumer
    notify.extensions["zf_pool"].close()
    close(notify_consumer)


def close(c: EventConsumer) -> None:
    c.consumer.close()
    c.dlq.close()


def file(client, who: str | None, headers=None, **body):
    """POST /v1/weekly-reports for week 2026-W48 with the token of unit `who` (or `headers`)."""
    body = {"week": "2026-W48", "zero": False, **body}
    return client.post("/v1/weekly-reports", json=body, headers=headers or bearer("unit", unit=who))


def deciding_in_step(monkeypatch) -> None:
    """Make racing schedulers load each stream before either appends: both decide on the same version."""
    meet, fold = threading.Barrier(2), domain.fold

    def fold_then_meet(events):
        history = fold(events)
        try:
            meet.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass                  # the other one is done: decide alone
        return history
    monkeypatch.setattr(domain, "fold", fold_then_meet)


def test_filed_zero_and_missing_flagged_once_on_kafka_in_the_trail_and_rebuilt(world, urls, broker, pg, monkeypatch,
                                                                               caplog):
    clock, client, case_id, notify_consumer = world
    assert scheduler_pass(urls["notify"], clock) == 0           # the first pass records when reporting began
    config = client.get("/v1/reporting/config", headers=OFFICE).json
    assert (config["version"], config["config"]["start_week"], config["set_by"]) == (1, "2026-W48", "notify:reports")

    # Refused filings store nothing.
    assert file(client, ZERO, zero=True, self_found=[{"description": "x"}]).status_code == 422
    assert file(client, ZERO, week="2026-W49", zero=True).status_code == 422            # next week has not begun
    assert file(client, ZERO, unit=FILER, zero=True).status_code == 403                 # not its own unit
    assert file(client, "县不存在局", zero=True).status_code == 422                      # not in the directory
    assert file(client, ZERO, progress=[{"case_id": case_id, "note": "进展"}]).status_code == 422   # not its case
    assert stream_types(urls["notify"], f"weekly-{ZERO}") == []

    filed = file(client, FILER, progress=[{"case_id": case_id, "note": "已约谈窗口负责人"}],
                 self_found=[{"description": "窗口材料清单未公示", "category": "政务服务审批"}], note="本周进展")
    assert filed.status_code == 201, filed.json
    assert (filed.json["status"], filed.json["late"], filed.json["revision"]) == ("filed", False, 1)
    zero = file(client, None, headers=OFFICE, unit=ZERO, zero=True)                       # the office on its behalf
    assert (zero.status_code, zero.json["status"], zero.json["filed_by"]) == (201, "zero", "office:tester")
    again = file(client, ZERO, zero=True)
    assert again.status_code == 409 and again.json["current"] == zero.json["id"]

    clock.set("2026-11-27T18:00:00+08:00")                   # Friday: due today, nobody is flagged yet
    assert scheduler_pass(urls["notify"], clock) == 0
    clock.set("2026-11-30T09:00:00+08:00")                   # Monday: the next working day
    deciding_in_step(monkeypatch)
    with caplog.at_level(logging.INFO, logger="notify.service_layer.reports"):
        assert racing_passes(urls["notify"], clock) == 1      # the flag, once
    assert "report_conflict_deciding_again" in caplog.messages   # the loser's append failed; it decided again
    monkeypatch.undo()
    assert scheduler_pass(urls["notify"], clock) == 0         # a restarted scheduler: nothing again
    assert stream_types(urls["notify"], f"weekly-{SILENT}") == [MISSED]
    assert stream_types(urls["notify"], f"weekly-{FILER}") == ["cn.zhengfeng.report.weekly_filed.v1"]

    overview = client.get("/v1/weekly-reports/overview?week=2026-W48", headers=OFFICE).json
    assert {u["unit"]: u["status"] for u in overview["units"]} == {FILER: "filed", ZERO: "zero", SILENT: "missing"}
    assert (overview["due"], overview["flag_day"]) == ("2026-11-27", "2026-11-30")
    missing = client.get("/v1/weekly-reports?status=missing", headers=OFFICE).json["items"]
    assert [(m["unit"], m["flagged_on"]) for m in missing] == [(SILENT, "2026-11-30")]
    assert client.get("/v1/weekly-reports/escalations", headers=OFFICE).json == []   # one miss: the flag only
    own = client.get("/v1/weekly-reports", headers=bearer("unit", unit=ZERO)).json["items"]
    assert [r["unit"] for r in own] == [ZERO]
    assert client.get(f"/v1/weekly-reports?unit={FILER}", headers=bearer("unit", unit=ZERO)).status_code == 403

    # Filed late after the flag: late, the flag stays on record. A correction keeps the first filing's lateness.
    late = file(client, SILENT, zero=True)
    assert (late.json["status"], late.json["late"], late.json["flagged_on"]) == ("zero", True, "2026-11-30")
    fixed = file(client, ZERO, self_found=[{"description": "补充:发现一处问题"}], corrects=zero.json["id"])
    assert (fixed.status_code, fixed.json["status"], fixed.json["revision"]) == (201, "filed", 2)
    assert file(client, ZERO, zero=True, corrects=zero.json["id"]).status_code == 409     # not the latest any more

    # The spot checks of November's zero reporters, drawn by the scheduler on 1 December.
    rules = {**config["config"], "spot_check_ratio": 1.0}
    assert client.put("/v1/reporting/config", json=rules, headers=OFFICE).json["version"] == 2
    assert client.post("/v1/spot-checks", json={"month": "2026-11"}, headers=OFFICE).status_code == 422   # not yet
    clock.set("2026-12-01T09:00:00+08:00")
    assert scheduler_pass(urls["notify"], clock) == 1
    [drawn] = client.get("/v1/spot-checks", headers=OFFICE).json
    assert (drawn["candidates"], drawn["selected"], drawn["drawn_by"]) == ([SILENT], [SILENT], "notify:reports")
    assert [d["draw"] for d in drawn["draws"]] == [draw(f"{drawn['seed']}:{SILENT}")]
    assert client.post("/v1/spot-checks", json={"month": "2026-11"}, headers=OFFICE).status_code == 409
    result = {"unit": SILENT, "finding": "confirmed_nothing", "note": "抽查核实无问题"}
    assert client.post("/v1/spot-checks/2026-11/results", json={**result, "unit": FILER},
                       headers=OFFICE).status_code == 422
    recorded = client.post("/v1/spot-checks/2026-11/results", json=result, headers=OFFICE)
    assert recorded.status_code == 201 and recorded.json["results"][0]["finding"] == "confirmed_nothing"
    assert client.post("/v1/spot-checks/2026-11/results", json=result, headers=OFFICE).status_code == 409

    # Every report event goes out on notify.report.events, comes back to notify's consumer and into the trail.
    records, in_trail = through_kafka_and_trail(urls, broker, notify_consumer)
    assert {r.key.decode() for r in records} == {"reporting-config", "spot-checks", *(f"weekly-{u}" for u in UNITS)}
    assert (MISSED, f"weekly-{SILENT}") in {(r["type"], r["subject"]) for r in in_trail}

    # Rebuilt from the trail into an empty database: the same tables, and nothing is flagged or drawn again.
    empty = rebuilt_from_trail(urls, pg, TABLES)
    assert scheduler_pass(empty["notify"], clock) == 0
    assert stream_types(empty["notify"], f"weekly-{SILENT}") == stream_types(urls["notify"], f"weekly-{SILENT}")


def through_kafka_and_trail(urls, broker, notify_consumer, topic: str = REPORT_TOPIC):
    """Publish notify's events of `topic` (its report events by default); each is on the topic once,
    notify's consumer takes them back, and audit's puts them in the trail. Returns the records and the
    trail's (type, subject) rows."""
    with db.connect(urls["notify"]) as conn:
        stored = sum(topic_for(r["type"]) == topic for r in conn.execute("SELECT type FROM events"))
    assert publish_all(Relay(database_url=urls["notify"], bootstrap=broker.bootstrap, partitions=3,
                             service="notify")) >= stored
    records = read_topic(broker.bootstrap, topic, stored)
    assert len(records) == stored
    drain(notify_consumer)
    audit_consumer = consumer(urls, broker.bootstrap, "audit", trail.apply)
    drain(audit_consumer)
    close(audit_consumer)
    with db.connect(urls["audit"]) as conn:
        in_trail = conn.execute("SELECT type, subject FROM trail WHERE topic = %s ORDER BY seq",
                                (topic,)).fetchall()
    assert len(in_trail) == stored
    return records, in_trail


def rebuilt_from_trail(urls, pg, tables) -> dict:
    """notify rebuilt from audit's trail (over audit's HTTP API) into an empty database, whose `tables`
    must equal the live ones; returns the new database's URLs."""
    app = audit_app(settings_for("audit", urls["audit"]))
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        empty = service_urls(fresh_database(pg))
        rebuild(empty["notify"], notify_apply, events_from_trail(f"http://127.0.0.1:{server.server_port}",
                                                                 bearer("auditor")["Authorization"].split()[1]))
    finally:
        server.shutdown()
        app.extensions["zf_pool"].close()
    for table in tables:
        assert snapshot(empty["notify"], table) == snapshot(urls["notify"], table), table
    return empty


def test_after_an_outage_every_missed_week_is_flagged_once_in_order_and_escalates(urls, tmp_path):
    clock = Clock(tmp_path / "clock")
    intake = intake_app(settings_for("intake", urls["intake"], clock_file=str(clock.path)))
    client = intake.test_client()
    for name in UNITS:
        client.post("/v1/directory/units", json=unit_body(name), headers=OFFICE)
    intake.extensions["zf_pool"].close()
    with db.connect(urls["intake"]) as source, db.connect(urls["notify"]) as conn:
        for row in source.execute("SELECT payload FROM events ORDER BY position"):
            event = parse_event(row["payload"])
            apply_once(conn, event, event.topic, notify_apply)
        conn.commit()
    assert scheduler_pass(urls["notify"], clock) == 0         # reporting starts with 2026-W48
    notify = notify_app(settings_for("notify", urls["notify"], clock_file=str(clock.path)))
    try:
        assert file(notify.test_client(), FILER, week="2026-W49", zero=True).status_code == 422   # not begun
        clock.set("2026-12-07T10:00:00+08:00")
        assert file(notify.test_client(), FILER, week="2026-W49", zero=True).status_code == 201   # late, W49
    finally:
        notify.extensions["zf_pool"].close()

    clock.set("2026-12-14T09:00:00+08:00")                   # back after two weeks: W48, W49 and W50 are due
    assert racing_passes(urls["notify"], clock, 3) > 0
    assert scheduler_pass(urls["notify"], clock) == 0
    with db.connect(urls["notify"]) as conn:
        rows = conn.execute("SELECT stream_id, type, payload->'data' AS data FROM events"
                            " WHERE stream_id LIKE 'weekly-%%' ORDER BY stream_id, version").fetchall()
    decided = {}
    for r in rows:
        decided.setdefault(r["stream_id"].removeprefix("weekly-"), []).append(
            (r["type"].split(".")[-2], r["data"]["week"], r["data"].get("step") or r["data"].get("flagged_on")))
    # Each letter is a numbered document in the year's one sequence of supervision letters (three
    # schedulers raced: no gap, no number twice); no other step is.
    numbers = {r["stream_id"]: r["data"]["document"]["sequence"] for r in rows
               if r["data"].get("step") == "supervision_letter"}
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1)) and f"weekly-{SILENT}" in numbers
    assert not any("document" in r["data"] for r in rows if r["data"].get("step") not in (None, "supervision_letter"))
    assert decided[SILENT] == [
        ("weekly_missed", "2026-W48", "2026-11-30"),
        ("weekly_missed", "2026-W49", "2026-12-07"), ("escalated", "2026-W49", "supervision_letter"),
        ("weekly_missed", "2026-W50", "2026-12-14"), ("escalated", "2026-W50", "bulletin_criticism")]
    # FILER's late W49 report (filed during the outage, so first in its stream) breaks its run.
    assert decided[FILER] == [
        ("weekly_filed", "2026-W49", None), ("weekly_missed", "2026-W48", "2026-11-30"),
        ("weekly_missed", "2026-W50", "2026-12-14")]
    with db.connect(urls["notify"]) as conn:
        drawn = conn.execute("SELECT month, candidates, selected FROM spot_checks").fetchall()
    assert [(d["month"], d["candidates"]) for d in drawn] == [("2026-11", [])]     # nobody filed a zero report
    notify = notify_app(settings_for("notify", urls["notify"], clock_file=str(clock.path)))
    try:
        steps = notify.test_client().get(f"/v1/weekly-reports/escalations?unit={SILENT}", headers=OFFICE).json
        register = notify.test_client().get("/v1/letters", headers=OFFICE).json
        overview = notify.test_client().get("/v1/weekly-reports/overview", headers=bearer("unit", unit=FILER)).json
    finally:
        notify.extensions["zf_pool"].close()
    assert [(s["step"], s["consecutive_missed"], s["threshold"]) for s in steps] == [
        ("bulletin_criticism", 3, 3), ("supervision_letter", 2, 2)]
    silent = f"正风办督〔2026〕{numbers[f'weekly-{SILENT}']}号"
    assert [r["number"] for r in register["items"]] == [f"正风办督〔2026〕{i}号" for i in range(1, len(numbers) + 1)]
    assert [(r["subject_kind"], r["week"], r["consecutive_missed"], r["ladder"]) for r in register["items"]
            if r["number"] == silent] == [("weekly", "2026-W49", 2, None)]
    assert (overview["week"], overview["units"]) == ("2026-W51", [{   # a unit sees only its own row
        "unit": FILER, "supervising_channel": "县监察局", "status": "outstanding", "late": None, "id": None,
        "revision": None, "filed_at": None, "flagged_on": None}])
    assert overview["channels"] == [{"channel": "县监察局", "counts": overview["counts"]}]
