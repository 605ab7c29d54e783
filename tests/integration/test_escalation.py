"""Escalation ladders end to end on the real PostgreSQL and broker: cases driven through intake, the
relays and the ledger, notify and audit consumers running, the file clock moved across November and
December 2026 (no public holidays; working days Monday to Friday), and the scheduler deciding.

Deadline mode, normal priority: assigned on Monday 11-02 the deadline is 11-23 (15 working days) and
the sign-for date 11-03. Default thresholds: reminder 3 working days before (11-18), supervision
letter at 5 working days overdue (11-30), admonishment talk at 10 (12-07), bulletin criticism at 15
(12-14), accountability proposal at 20 (12-21). Sign-for: reminder on the day, letter at 1, talk at 3.

The scheduler itself is also run as real processes, two racing and one killed with SIGKILL mid-run.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from psycopg.types.json import Jsonb
from werkzeug.serving import make_server

from audit.adapters import trail
from audit.entrypoints.http import create_app as audit_app
from intake.entrypoints.http import create_app as intake_app
from ledger.adapters import repository as ledger
from ledger.entrypoints.http import create_app as ledger_app
from notify.adapters import repository as notify
from notify.entrypoints.http import create_app as notify_app
from notify.service_layer import escalate
from notify.service_layer.uow import UnitOfWork
from zfcommon import db, kafka
from zfcommon.clock import FileClock
from zfcommon.consumer import EventConsumer, apply_once
from zfcommon.events.catalogue import ESCALATION_TOPIC, TOPICS, all_topics
from zfcommon.relay import Relay

from ..conftest import JWT_SECRET, settings_for
from ..support import bearer, complaint, eventually, group_consumer, read_topic, scheduler_pass
from ..unit.test_ledger_evolve import Story

pytestmark = pytest.mark.integration
UNIT = "县自然资源局"
OFFICE, AUDITOR, LEAD = bearer("office"), bearer("auditor"), bearer("unit", unit=UNIT)
STEP, STOP = "cn.zhengfeng.escalation.step_issued.v1", "cn.zhengfeng.escalation.stopped.v1"


class World:
    """The running pipeline and a client of each service; `day` moves the shared file clock."""

    def __init__(self, urls: dict[str, str], bootstrap: str, clock_file: Path, day: str = "2026-11-02"):
        self.urls, self.bootstrap, self.clock_file = urls, bootstrap, clock_file
        self.day(day)
        ledger_web = ledger_app(settings_for("ledger", urls["ledger"], clock_file=str(clock_file)))
        # The ledger also over HTTP: notify drafts bulletins from its figures, intake draws look-backs from it.
        self.ledger_server = make_server("127.0.0.1", 0, ledger_web, threaded=True)
        threading.Thread(target=self.ledger_server.serve_forever, daemon=True).start()
        over_http = {"clock_file": str(clock_file), "ledger_url": f"http://127.0.0.1:{self.ledger_server.server_port}"}
        self.apps = {"intake": intake_app(settings_for("intake", urls["intake"], **over_http)),
                     "ledger": ledger_web,
                     "notify": notify_app(settings_for("notify", urls["notify"], **over_http)),
                     "audit": audit_app(settings_for("audit", urls["audit"]))}
        self.client = {name: app.test_client() for name, app in self.apps.items()}
        self.cases: dict[str, str] = {}
        self.stop = threading.Event()
        self.consumers = [self._consumer("ledger", ledger.apply, ledger.apply_batch),
                          self._consumer("notify", notify.apply, notify.apply_batch),
                          self._consumer("audit", trail.apply, trail.apply_batch)]
        relays = [Relay(database_url=urls[s], bootstrap=bootstrap, partitions=3, service=s, check_interval=0.5)
                  for s in ("intake", "notify")]
        self.threads = [threading.Thread(target=w.run, args=(self.stop,), daemon=True)
                        for w in (*relays, *self.consumers)]
        for t in self.threads:
            t.start()

    def _consumer(self, group: str, apply, apply_batch=None) -> EventConsumer:
        return EventConsumer(group=group, apply=apply, database_url=self.urls[group], apply_batch=apply_batch,
                             kafka_consumer=group_consumer(self.bootstrap, group, list(TOPICS)),
                             dlq_producer=kafka.producer(self.bootstrap))

    def close(self) -> None:
        self.ledger_server.shutdown()
        self.stop.set()
        for t in self.threads:
            t.join(10)
        for c in self.consumers:
            c.consumer.close()
            c.dlq.close()
        for app in self.apps.values():
            app.extensions["zf_pool"].close()

    def day(self, day: str) -> None:
        self.clock_file.write_text(f"{day}T09:00:00+08:00")

    def do(self, name: str, command: str, body: dict | None = None, headers=OFFICE) -> dict:
        r = self.client["intake"].post(f"/v1/cases/{self.cases[name]}/{command}", json=body or {}, headers=headers)
        assert r.status_code == 200, r.json
        return r.json

    def open_case(self, name: str, accept: bool = True) -> None:
        r = self.client["intake"].post("/v1/cases", json=complaint(description=f"{name}: 窗口推诿"), headers=OFFICE)
        self.cases[name] = r.json["case_id"]
        assert self.do(name, "assign", {"lead_unit": UNIT, "handling_mode": "deadline"})["deadline"] == "2026-11-23"
        if accept:
            self.do(name, "accept", headers=LEAD)

    def escalate(self) -> None:
        """One scheduler pass, once notify has seen every case event intake stored."""
        eventually(self._notify_caught_up, timeout=30)
        scheduler_pass(self.urls["notify"], self.clock_file)

    def _notify_caught_up(self) -> bool:
        with db.connect(self.urls["intake"]) as conn:
            stored = {r["stream_id"]: r["v"] for r in conn.execute(
                "SELECT stream_id, max(version) AS v FROM events WHERE stream_id = ANY(%s) GROUP BY stream_id",
                (list(self.cases.values()),))}
        with db.connect(self.urls["notify"]) as conn:
            seen = {r["case_id"]: r["version"] for r in conn.execute("SELECT case_id, version FROM watched_cases")}
        return all(seen.get(case_id) == v for case_id, v in stored.items())

    def notify_steps(self, name: str) -> list[tuple]:
        """What notify's store holds for the case: (ladder, round, step or 'stopped:<reason>')."""
        with db.connect(self.urls["notify"]) as conn:
            rows = conn.execute("SELECT type, payload->'data' AS d FROM events WHERE stream_id = %s ORDER BY version",
                                (self.cases[name],)).fetchall()
        return [(r["d"]["ladder"], r["d"]["round"], r["d"]["step"] if r["type"] == STEP
                 else f"stopped:{r['d']['reason']}") for r in rows]

    def letters(self) -> dict[str, list[str]]:
        """The supervision letters' numbers (文号) in notify's store, by case name."""
        names = {case_id: name for name, case_id in self.cases.items()}
        with db.connect(self.urls["notify"]) as conn:
            rows = conn.execute("SELECT stream_id, payload->'data'->'document'->>'number' AS number FROM events"
                                " WHERE type = %s AND payload->'data'->>'step' = 'supervision_letter'"
                                " ORDER BY position", (STEP,)).fetchall()
        found: dict[str, list[str]] = {}
        for r in rows:
            found.setdefault(names[r["stream_id"]], []).append(r["number"])
        return found

    def escalation_count(self) -> int:
        with db.connect(self.urls["notify"]) as conn:
            return conn.execute("SELECT count(*) AS n FROM events WHERE type IN (%s, %s)", (STEP, STOP)).fetchone()["n"]

    def ledger_case(self, name: str) -> dict:
        r = self.client["ledger"].get(f"/v1/cases/{self.cases[name]}", headers=OFFICE)
        assert r.status_code == 200
        return r.json


@pytest.fixture
def world(urls, broker, tmp_path):
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    w = World(urls, broker.bootstrap, tmp_path / "now")
    w.client["intake"].post("/v1/directory/units", json={"name": UNIT, "kind": "government_department",
                                                         "supervising_channel": "县监察局"}, headers=OFFICE)
    yield w
    w.close()


def test_cases_climb_the_ladder_stop_when_rectified_restart_when_extended_and_show_everywhere(world):
    w = world
    for name in ("X", "Y", "Z"):
        w.open_case(name)
    w.open_case("S", accept=False)                              # never signed for on time
    w.escalate()
    assert all(w.notify_steps(n) == [] for n in "XYZS")

    w.day("2026-11-03")
    w.escalate()
    assert w.notify_steps("S") == [("sign_for", 1, "reminder")]
    w.day("2026-11-06")                                         # 3 working days late: letter and talk at once
    w.escalate()
    assert w.notify_steps("S")[1:] == [("sign_for", 1, "supervision_letter"), ("sign_for", 1, "admonishment_talk")]
    assert w.letters() == {"S": ["正风办督〔2026〕1号"]}                # a letter is a numbered document
    w.day("2026-11-09")
    w.do("S", "accept", headers=LEAD)
    w.escalate()
    assert w.notify_steps("S")[-1] == ("sign_for", 1, "stopped:accepted")

    w.day("2026-11-18")
    w.escalate()
    assert all(w.notify_steps(n) == [("deadline", 1, "reminder")] for n in "XYZ")
    w.day("2026-11-30")
    w.escalate()
    assert all(w.notify_steps(n)[-1] == ("deadline", 1, "supervision_letter") for n in "XYZ")
    letters = w.letters()                                       # S, signed for late, is late on its deadline too
    assert sorted(letters[n][-1] for n in "SXYZ") == [f"正风办督〔2026〕{i}号" for i in (2, 3, 4, 5)]

    w.day("2026-12-01")
    w.do("Y", "report-rectified", {"text": "已整改到位"}, headers=LEAD)
    w.do("Z", "request-extension", {"reason": "需跨部门协调", "requested_deadline": "2026-12-18"}, headers=LEAD)
    w.escalate()
    assert w.notify_steps("Y")[-1] == ("deadline", 1, "stopped:rectification_reported")
    assert w.notify_steps("Z")[-1] == ("deadline", 1, "supervision_letter")         # paused, not stopped
    pending = w.client["notify"].get(f"/v1/escalations/{w.cases['Z']}", headers=OFFICE).json
    assert pending["paused"] is True
    w.day("2026-12-02")
    w.do("Z", "approve-extension")
    w.escalate()
    assert w.notify_steps("Z")[-1] == ("deadline", 1, "stopped:new_deadline")

    for day, step in (("2026-12-07", "admonishment_talk"), ("2026-12-14", "bulletin_criticism"),
                      ("2026-12-15", None), ("2026-12-21", "accountability_proposal")):
        w.day(day)
        w.escalate()
        if step:
            assert w.notify_steps("X")[-1] == ("deadline", 1, step)
    assert [s for _, _, s in w.notify_steps("X")] == ["reminder", "supervision_letter", "admonishment_talk",
                                                     "bulletin_criticism", "accountability_proposal"]
    assert w.notify_steps("Y") == [("deadline", 1, "reminder"), ("deadline", 1, "supervision_letter"),
                                   ("deadline", 1, "stopped:rectification_reported")]
    assert w.notify_steps("Z")[3:] == [("deadline", 2, "reminder")]             # 12-15, before the new 12-18

    # notify's API: one case, and the list by unit, step and ladder. Its projection learns the steps from
    # its own events coming back through the broker, a moment after the store has them.
    def ladder_of_x() -> dict:
        return w.client["notify"].get(f"/v1/escalations/{w.cases['X']}", headers=LEAD).json
    eventually(lambda: [(l["ladder"], l["state"], l["step"]) for l in ladder_of_x()["ladders"]] == [
        ("deadline", "running", "accountability_proposal")], timeout=20)
    x = ladder_of_x()
    assert [(h["step"], h["threshold"], h["crossed_on"]) for h in x["history"]][1:] == [
        ("supervision_letter", 5, "2026-11-30"), ("admonishment_talk", 10, "2026-12-07"),
        ("bulletin_criticism", 15, "2026-12-14"), ("accountability_proposal", 20, "2026-12-21")]
    assert [h["document_number"] for h in x["history"]] == [None, letters["X"][0], None, None, None]
    eventually(lambda: len(w.client["notify"].get("/v1/escalations", headers=OFFICE).json["items"]) == 5)
    listed = w.client["notify"].get("/v1/escalations", query_string={"step": "accountability_proposal",
                                                                      "ladder": "deadline", "unit": UNIT},
                                    headers=OFFICE).json["items"]
    assert {i["case_id"] for i in listed} == {w.cases["X"], w.cases["S"]}     # S signed late, then sat on it
    assert w.client["notify"].get("/v1/escalations", query_string={"unit": "县教育局"}, headers=LEAD).status_code == 403
    other = bearer("unit", unit="县教育局")
    assert w.client["notify"].get(f"/v1/escalations/{w.cases['X']}", headers=other).status_code == 404
    assert w.client["notify"].get("/v1/escalations", headers=other).json["items"] == []

    # On Kafka, in the ledger's case view and overdue list, and in the audit trail.
    total = w.escalation_count()
    records = read_topic(w.bootstrap, ESCALATION_TOPIC, total)
    assert len(records) == total and {r.key.decode() for r in records} == {w.cases[n] for n in "XYZS"}
    eventually(lambda: len(w.ledger_case("X")["escalation_history"]) == 5, timeout=20)
    case = w.ledger_case("X")
    assert case["escalation_step"] == "accountability_proposal"
    assert [h["step"] for h in case["escalation_history"]][-1] == "accountability_proposal"
    assert [h["document_number"] for h in case["escalation_history"]] == [None, letters["X"][0], None, None, None]
    eventually(lambda: w.ledger_case("Z")["escalation_step"] == "reminder", timeout=20)      # its second round
    assert w.ledger_case("Y")["escalation_step"] is None                         # stopped: no longer escalating
    assert w.ledger_case("Y")["escalation_ladders"][0]["stop_reason"] == "rectification_reported"
    overdue = {i["case_id"]: i["escalation_step"]
               for i in w.client["ledger"].get("/v1/overdue", headers=OFFICE).json["items"]}
    assert overdue[w.cases["X"]] == "accountability_proposal" and overdue[w.cases["Z"]] == "reminder"
    assert "督办层级" in w.client["ledger"].get("/v1/overdue/export.csv", headers=OFFICE).get_data(as_text=True)

    def trail_types() -> Counter:
        items = w.client["audit"].get("/v1/events", query_string={"subject": w.cases["X"], "limit": 1000},
                                      headers=AUDITOR).json["items"]
        return Counter(i["event"]["type"] for i in items)
    eventually(lambda: trail_types()[STEP] == 5, timeout=20)
    as_of = w.client["audit"].get(f"/v1/cases/{w.cases['X']}/as-of", query_string={"at": "2026-12-31T00:00:00+08:00"},
                                  headers=AUDITOR)
    assert as_of.status_code == 200 and as_of.json["case"]["status"] == "in_progress"

    # Deciding again on the same day issues nothing more.
    w.escalate()
    assert w.escalation_count() == total


def test_the_office_sets_thresholds_recorded_as_an_event_and_they_decide_the_steps_to_come(world):
    w = world
    notify = w.client["notify"]
    before = notify.get("/v1/escalation/config", headers=OFFICE)
    assert before.json["version"] == 0 and before.headers["ETag"] == '"0"'
    config = before.json["config"]
    config["deadline"]["deadline"].update(reminder=1, supervision_letter=1)
    assert notify.put("/v1/escalation/config", json=config, headers=LEAD).status_code == 403
    bad = {**config, "sign_for": {**config["sign_for"], "bulletin_criticism": 1}}
    refused = notify.put("/v1/escalation/config", json=bad, headers=OFFICE)
    assert refused.status_code == 422 and "bulletin_criticism" in str(refused.json["errors"])
    put = notify.put("/v1/escalation/config", json=config, headers={**OFFICE, "If-Match": '"0"'})
    assert put.status_code == 200 and put.json["version"] == 1 and put.json["set_by"] == "office:tester"
    stale = notify.put("/v1/escalation/config", json=before.json["config"], headers={**OFFICE, "If-Match": '"0"'})
    assert stale.status_code == 409

    w.open_case("X")
    w.day("2026-11-24")                                         # 1 working day overdue
    w.escalate()
    assert [step for _, _, step in w.notify_steps("X")] == ["reminder", "supervision_letter"]
    with db.connect(w.urls["notify"]) as conn:
        thresholds = [r["t"] for r in conn.execute(
            "SELECT (payload->'data'->>'threshold')::int AS t FROM events WHERE stream_id = %s ORDER BY version",
            (w.cases["X"],))]
    assert thresholds == [-1, 1]

    def trail_has_config_set() -> bool:
        items = w.client["audit"].get("/v1/events", query_string={"type": "cn.zhengfeng.escalation.config_set.v1"},
                                      headers=AUDITOR).json["items"]
        return len(items) == 1 and items[0]["event"]["actor"] == "office:tester"
    eventually(trail_has_config_set, timeout=20)


# -- restarts and races with real scheduler processes ------------------------------------------------
def scheduler(url: str, clock_file: Path, log: Path) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))},
           "DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "ZF_JWT_ALGORITHM": "HS256", "ZF_JWT_SECRET": JWT_SECRET,
           "ZF_CLOCK_FILE": str(clock_file), "ZF_ESCALATION_SECONDS": "0.05",
           "ZF_NOTICE_OFFICE": "县正风办", "ZF_LETTER_NUMBER": "{office}督字〔{year}〕{seq}号"}
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "notify.entrypoints.scheduler"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def test_schedulers_racing_and_one_killed_mid_run_issue_every_step_exactly_once(urls, tmp_path):
    """300 cases long overdue (deadline 2024-05-20, sign-for 2024-05-08; half never signed for): every
    crossed step is due at once. Two schedulers race; one is killed with SIGKILL while steps are
    being issued and a third takes its place. Each case ends with each step exactly once, in order, and
    the year's supervision letters are numbered 1 to 450 without a gap or a number given twice."""
    cases = [Story(f"kill-{i}").then("assigned", *(("accepted",) if i % 2 else ())) for i in range(300)]
    with db.connect(urls["notify"]) as conn:
        for story in cases:
            for event in story.events:
                apply_once(conn, event, event.topic, notify.apply)
        conn.commit()
    clock_file = tmp_path / "now"
    clock_file.write_text("2024-07-15T09:00:00+08:00")
    expected = sum(5 if i % 2 else 10 for i in range(300))

    def issued() -> int:
        with db.connect(urls["notify"]) as conn:
            return conn.execute("SELECT count(*) AS n FROM events WHERE type IN (%s, %s)", (STEP, STOP)).fetchone()["n"]

    procs = [scheduler(urls["notify"], clock_file, tmp_path / f"scheduler-{i}.log") for i in range(2)]
    try:
        eventually(lambda: issued() > 0, timeout=30, interval=0.01)
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(10)
        killed_at = issued()
        procs.append(scheduler(urls["notify"], clock_file, tmp_path / "scheduler-2.log"))
        eventually(lambda: issued() == expected, timeout=120, interval=0.2)
        threading.Event().wait(1)                      # a few more passes: nothing else is due
        assert issued() == expected
    finally:
        for p in procs[1:]:
            p.send_signal(signal.SIGTERM)
        for p in procs[1:]:
            p.wait(15)
    assert 0 < killed_at < expected, "the kill came too late to interrupt the run"
    assert all(p.returncode == 0 for p in procs[1:])
    with db.connect(urls["notify"]) as conn:
        rows = conn.execute("SELECT stream_id, payload->'data' AS d FROM events WHERE type IN (%s, %s)"
                            " ORDER BY stream_id, version", (STEP, STOP)).fetchall()
    by_case: dict[str, list] = {}
    for r in rows:
        by_case.setdefault(r["stream_id"], []).append((r["d"]["ladder"], r["d"]["step"]))
    letters = [r["d"]["document"] for r in rows if r["d"].get("step") == "supervision_letter"]
    assert sorted(d["sequence"] for d in letters) == list(range(1, 451))
    assert {d["number"] for d in letters} == {f"县正风办督字〔2024〕{i}号" for i in range(1, 451)}
    assert {(d["year"], d["issuer"], d["issued_on"]) for d in letters} == {(2024, "县正风办", "2024-07-15")}
    ladder = ["reminder", "supervision_letter", "admonishment_talk", "bulletin_criticism", "accountability_proposal"]
    for i in range(300):
        got = by_case[f"kill-{i}"]
        for which in ("deadline", "sign_for") if i % 2 == 0 else ("deadline",):
            assert [s for l, s in got if l == which] == ladder, (i, got)
        assert len(got) == len(set(got))


def test_a_step_decided_twice_on_the_same_version_is_appended_once(urls, tmp_path):
    """Two deciders in threads on one case, forced to decide on the same history: the second append
    fails on the stream version and its retry finds nothing left to issue."""
    story = Story("race").then("assigned", "accepted")
    with db.connect(urls["notify"]) as conn:
        for event in story.events:
            apply_once(conn, event, event.topic, notify.apply)
        conn.commit()
    clock = FileClock(str(tmp_path / "now"))
    (tmp_path / "now").write_text("2024-07-15T09:00:00+08:00")
    pool = db.make_pool(urls["notify"], max_size=2)
    pool.open()
    barrier = threading.Barrier(2)
    original = escalate.ladder.decide

    def decide_together(*args):
        decision = original(*args)
        try:
            barrier.wait(2)
        except threading.BrokenBarrierError:
            pass                                      # the retry after the conflict decides alone
        return decision

    results = []

    def run():
        with UnitOfWork(pool) as uow:
            results.append(escalate.decide_case(uow, "race", escalate.basis(uow, clock)))
    escalate.ladder.decide = decide_together
    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        escalate.ladder.decide = original
        pool.close()
    assert sorted(results) == [0, 5]
    with db.connect(urls["notify"]) as conn:
        assert conn.execute("SELECT count(*) AS n FROM events WHERE stream_id = 'race'").fetchone()["n"] == 5


def _overdue(url: str, prefix: str, n: int) -> None:
    """`n` cases signed for and long overdue on 2024-07-15: five deadline steps due at once each."""
    with db.connect(url) as conn:
        for i in range(n):
            for event in Story(f"{prefix}-{i}").then("assigned", "accepted").events:
                apply_once(conn, event, event.topic, notify.apply)
        conn.commit()


def _scheduler_at(url: str, tmp_path, day: str):
    (tmp_path / "now").write_text(f"{day}T09:00:00+08:00")
    pool = db.make_pool(url, max_size=1)
    pool.open()
    return pool, FileClock(str(tmp_path / "now"))


def test_a_pass_decides_the_cases_due_in_one_transaction_per_batch(urls, tmp_path):
    _overdue(urls["notify"], "batch", 30)
    pool, clock = _scheduler_at(urls["notify"], tmp_path, "2024-07-15")
    try:
        with UnitOfWork(pool) as uow:
            commits = []
            commit = uow.commit
            uow.commit = lambda: commits.append(1) or commit()
            assert escalate.run_once(uow, clock, batch=12) == 30 * 5
            assert len(commits) == 3, "30 cases in batches of 12: three transactions"
            assert escalate.run_once(uow, clock, batch=12) == 0 and len(commits) == 3
    finally:
        pool.close()
    with db.connect(urls["notify"]) as conn:
        assert conn.execute("SELECT count(*) AS n FROM escalation_checks WHERE case_id LIKE 'batch-%%'"
                            " AND checked_version = seen_version AND next_check IS NULL").fetchone()["n"] == 30


def test_a_case_that_cannot_be_decided_sends_its_batch_case_by_case_and_holds_up_only_itself(urls, tmp_path):
    _overdue(urls["notify"], "held", 10)
    with db.connect(urls["notify"]) as conn:
        conn.execute("UPDATE watched_cases SET view = '{\"not\": \"a view\"}' WHERE case_id = 'held-7'")
        conn.commit()
    pool, clock = _scheduler_at(urls["notify"], tmp_path, "2024-07-15")
    try:
        with UnitOfWork(pool) as uow:
            assert escalate.run_once(uow, clock) == 9 * 5, "the other nine climbed their ladders"
        with db.connect(urls["notify"]) as conn:
            steps = {r["stream_id"]: r["n"] for r in conn.execute(
                "SELECT stream_id, count(*) AS n FROM events WHERE stream_id LIKE 'held-%%' GROUP BY stream_id")}
            assert steps == {f"held-{i}": 5 for i in range(10) if i != 7}
            good = conn.execute("SELECT view FROM watched_cases WHERE case_id = 'held-6'").fetchone()["view"]
            conn.execute("UPDATE watched_cases SET view = %s WHERE case_id = 'held-7'", (Jsonb(good),))
            conn.commit()
        with UnitOfWork(pool) as uow:
            assert escalate.run_once(uow, clock) == 5, "mended, it is decided at the next pass"
    finally:
        pool.close()


def test_a_case_reaching_notify_late_is_checked_at_once_and_the_clock_wakes_it_on_its_day(urls, tmp_path):
    story = Story("late").then("assigned", "accepted")         # deadline 2024-05-20, a Monday
    with db.connect(urls["notify"]) as conn:
        for event in story.events:
            apply_once(conn, event, event.topic, notify.apply)
        conn.commit()
    (tmp_path / "now").write_text("2024-05-09T09:00:00+08:00")
    clock = FileClock(str(tmp_path / "now"))
    pool = db.make_pool(urls["notify"], max_size=1)
    pool.open()
    try:
        with UnitOfWork(pool) as uow:
            assert escalate.run_once(uow, clock) == 0
            with db.connect(urls["notify"]) as conn:
                check = conn.execute("SELECT * FROM escalation_checks WHERE case_id = 'late'").fetchone()
            assert check["next_check"].isoformat() == "2024-05-15" and not check["settled"]
            assert escalate.run_once(uow, clock) == 0                 # nothing due: not even looked at
            (tmp_path / "now").write_text("2024-05-15T09:00:00+08:00")
            assert escalate.run_once(uow, clock) == 1                 # the reminder
    finally:
        pool.close()


def test_an_imported_backlog_climbs_from_the_import_and_no_earlier_bulletin_counts_it(urls, tmp_path):
    """Imported on Tuesday 1 December 2026 from an old ledger whose deadline was 15 October: the ladder
    starts at the import, so its bulletin criticism falls in December (15 working days on: the 22nd),
    and November's bulletin, drafted from the same marks, holds nothing of it."""
    from datetime import date, datetime, timezone

    from notify.adapters import bulletin_projection
    imported = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)
    story = Story("backlog", at=imported, origin={"system": "import", "ref": "row-key", "parent": "import-1",
                                                  "extra": {"deadline": "2026-10-15"}}).add(
        "assigned", at=imported, lead_unit=UNIT, deadline="2026-10-15", sign_for_due="2026-12-02",
        deadline_basis={"rule": "recorded", "from_date": "2026-12-01", "working_days": None}).add("accepted", unit=UNIT)
    with db.connect(urls["notify"]) as conn:
        for event in story.events:
            apply_once(conn, event, event.topic, notify.apply)
        conn.commit()
    (tmp_path / "now").write_text("2026-12-31T09:00:00+08:00")
    pool = db.make_pool(urls["notify"], max_size=1)
    pool.open()
    try:
        with UnitOfWork(pool) as uow:
            assert escalate.run_once(uow, FileClock(str(tmp_path / "now"))) == 5
            issued = uow.events.load("backlog")
            uow.conn.rollback()
        assert min(e.data["crossed_on"] for e in issued) == "2026-12-01"
        assert {e.data["due"] for e in issued} == {"2026-12-01"}
        with db.connect(urls["notify"]) as conn:
            for event in issued:                    # as notify's consumer applies them when they come back
                apply_once(conn, event, event.topic, notify.apply)
            conn.commit()
            assert bulletin_projection.period_marks(conn, date(2026, 11, 1), date(2026, 11, 30)) == {}
            december = bulletin_projection.period_marks(conn, date(2026, 12, 1), date(2026, 12, 31))[UNIT]
            assert december.criticisms == 1 and december.entries[0]["day"] == "2026-12-22"
    finally:
        pool.close()
