"""End to end: the four services as real processes (gunicorn, relay, consumers) over real HTTP."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
import requests

from zfcommon import db
from zfcommon.devstack.ports import free_port
from zfcommon.devstack.postgres import LocalPostgres

from ..support import complaint, eventually
from .conftest import running_system

pytestmark = pytest.mark.e2e


def ledger_case_ids(system) -> list[str]:
    ids, cursor = [], None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = requests.get(system.url("ledger", "/v1/cases"), params=params, headers=system.headers(),
                            timeout=10).json()
        ids += [c["case_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def trail_subjects(system) -> list[str]:
    subjects, after = [], 0
    while after is not None:
        page = requests.get(system.url("audit", "/v1/events"), params={"after": after, "limit": 1000},
                            headers=system.headers("auditor"), timeout=10).json()
        subjects += [e["event"]["subject"] for e in page["items"]
                     if e["event"]["type"] == "cn.zhengfeng.case.received.v1"]
        after = page["next_after"]
    return subjects


class Stream:
    """Complaints posted from a few threads until told to stop; remembers every accepted case."""

    def __init__(self, system, total: int, threads: int = 8):
        self.system, self.total, self.threads = system, total, threads
        self.accepted: list[str] = []
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.posted = 0

    def _post(self, i: int) -> None:
        session = requests.Session()
        try:
            r = session.post(self.system.url("intake", "/v1/cases"), json=complaint(description=f"第{i}号线索"),
                             headers={**self.system.headers("channel", channel="hotline"),
                                      "Idempotency-Key": f"stream-{id(self)}-{i}"}, timeout=30)
        except requests.RequestException as exc:
            with self.lock:
                self.failures.append(str(exc))
            return
        with self.lock:
            self.posted += 1
            if r.status_code == 201:
                self.accepted.append(r.json()["case_id"])
            else:
                self.failures.append(f"{r.status_code} {r.text[:200]}")

    def run_in_background(self) -> ThreadPoolExecutor:
        pool = ThreadPoolExecutor(self.threads)
        for i in range(self.total):
            pool.submit(self._post, i)
        return pool

    def wait_posted(self, n: int) -> None:
        eventually(lambda: self.posted >= n, timeout=120)


def assert_exactly_once(system, accepted: list[str], before: set[str], timeout: float = 90) -> None:
    expected = set(accepted) | before
    eventually(lambda: len(set(ledger_case_ids(system))) >= len(expected), timeout=timeout, interval=1)
    eventually(lambda: len(trail_subjects(system)) >= len(expected), timeout=timeout, interval=1)
    ledger_ids, subjects = ledger_case_ids(system), trail_subjects(system)
    assert len(ledger_ids) == len(set(ledger_ids)) and set(ledger_ids) == expected
    assert len(subjects) == len(set(subjects)), "an event is in the trail twice"
    assert set(subjects) == expected


def test_a_complaint_reaches_the_ledger_and_the_trail_within_seconds(system):
    r = requests.post(system.url("intake", "/v1/cases"), json=complaint(), headers=system.headers(), timeout=10)
    assert r.status_code == 201
    case_id = r.json()["case_id"]
    case = eventually(lambda: requests.get(system.url("ledger", f"/v1/cases/{case_id}"),
                                           headers=system.headers(), timeout=5).json()
                      if requests.get(system.url("ledger", f"/v1/cases/{case_id}"), headers=system.headers(),
                                      timeout=5).status_code == 200 else None, timeout=5)
    assert case["status"] == "received" and case["version"] == 1 and case["subject_unit"] == "县自然资源局"
    trail = eventually(lambda: requests.get(system.url("audit", "/v1/events"), params={"subject": case_id},
                                            headers=system.headers("auditor"), timeout=5).json()["items"], timeout=5)
    assert trail[0]["event"]["id"] and "13807391234" not in str(trail)
    watched = eventually(lambda: requests.get(system.url("notify", f"/v1/watch/{case_id}"),
                                              headers=system.headers(), timeout=5).status_code == 200, timeout=5)
    assert watched


def test_every_accepted_case_arrives_exactly_once_through_relay_and_consumer_crashes(system):
    before = set(ledger_case_ids(system))
    stream = Stream(system, total=3000)
    pool = stream.run_in_background()
    stream.wait_posted(800)
    system.kill9("intake-relay")
    system.kill9("ledger-consumer")
    stream.wait_posted(1800)
    system.kill9("audit-consumer")
    system.kill9("intake-relay")
    pool.shutdown(wait=True)
    assert not stream.failures, stream.failures[:5]
    assert len(stream.accepted) == 3000
    assert_exactly_once(system, stream.accepted, before)


def test_every_accepted_case_arrives_exactly_once_when_the_broker_restarts_empty(system):
    before = set(ledger_case_ids(system))
    stream = Stream(system, total=2000)
    pool = stream.run_in_background()
    stream.wait_posted(700)
    system.kill9("broker")          # Tansu keeps its log in memory: it comes back empty
    pool.shutdown(wait=True)
    assert not stream.failures, stream.failures[:5]
    assert_exactly_once(system, stream.accepted, before, timeout=120)
    metrics = requests.get(system.url("intake", "/metrics"), timeout=5).text
    resets = [line for line in metrics.splitlines() if line.startswith("zf_relay_broker_resets_total ")]
    assert resets and float(resets[0].split()[1]) >= 1, "the relay never noticed the empty broker"


def test_metrics_report_publishing_consumption_and_backlog(system):
    intake = requests.get(system.url("intake", "/metrics"), timeout=5).text
    assert "zf_events_published_total" in intake and "zf_relay_backlog" in intake
    assert "zf_http_request_seconds_bucket" in intake
    ledger = requests.get(system.url("ledger", "/metrics"), timeout=5).text
    assert 'zf_events_consumed_total{group="ledger"' in ledger and "zf_consumer_lag" in ledger


def operator(argv: list[str], **env: str) -> str:
    """An operator's command run with only the given settings; its output (fails the test on an error)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}
    done = subprocess.run(argv, env={**clean, **env}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout


def zf(*args: str, **env: str) -> str:
    return operator([str(Path(sys.executable).parent / "zf"), *args], **env)


def received_in_store(admin_url: str) -> set[str]:
    with psycopg.connect(admin_url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT stream_id FROM intake.events WHERE type = 'cn.zhengfeng.case.received.v1'")}


def test_a_backup_taken_mid_stream_restores_whole_on_a_new_postgresql_with_an_empty_broker(system, tmp_path_factory):
    """The restore drill (deploy/README.md "Backups and point-in-time recovery"): `zf backup` while complaints stream in,
    `zf restore` into a PostgreSQL that never ran Zhengfeng, the services started on it with an empty broker:
    the relays republish every stored event (those still in the outbox at the backup too), ledger and trail
    hold each restored case exactly once, `audit verify` passes and reconciliation finds nothing missing."""
    before = set(ledger_case_ids(system))
    stream = Stream(system, total=3000)
    pool = stream.run_in_background()
    stream.wait_posted(500)
    folder = Path(zf("backup", str(tmp_path_factory.mktemp("backups")),
                     DATABASE_URL=system.status()["postgres"]["admin_url"]).strip())
    pool.shutdown(wait=True, cancel_futures=True)        # what comes after the backup is not the drill's
    assert not stream.failures, stream.failures[:5]
    manifest = json.loads((folder / "manifest.json").read_text())

    home = tmp_path_factory.mktemp("zf-restored")
    secrets = json.loads((system.home / "secrets.json").read_text())     # the same keys, kept apart from backups
    (home / "secrets.json").write_text(json.dumps(secrets))
    passwords = {f"ZF_{s.upper()}_DB_PASSWORD": pw for s, pw in secrets["db_passwords"].items()}
    new_pg = LocalPostgres(tmp_path_factory.mktemp("pg-restored") / "data", free_port()).start()
    try:
        report = json.loads(zf("restore", str(folder), DATABASE_URL=new_pg.url, **passwords))
        assert report["problems"] == [] and report["counts"] == manifest["counts"]
        restored = received_in_store(new_pg.url)
        taken = restored - before                   # mid-stream: at least those posted before, not all
        assert taken <= set(stream.accepted) and 500 <= len(taken) < len(stream.accepted)
        clock = home / "now"            # reconcile everything: the events are "older than a minute" at once
        clock.write_text((datetime.now(timezone.utc) + timedelta(hours=2)).isoformat())
        with running_system(home, DATABASE_URL=new_pg.url, ZF_CLOCK_FILE=str(clock)) as again:
            eventually(lambda: set(ledger_case_ids(again)) == restored, timeout=90, interval=1)
            eventually(lambda: len(trail_subjects(again)) >= len(restored), timeout=90, interval=1)
            subjects = trail_subjects(again)
            assert len(subjects) == len(set(subjects)) and set(subjects) == restored
            ids = ledger_case_ids(again)
            assert len(ids) == len(set(ids))
            metrics = requests.get(again.url("intake", "/metrics"), timeout=5).text.splitlines()
            assert any(line.startswith("zf_relay_broker_resets_total ") and float(line.split()[1]) >= 1
                       for line in metrics), "the relay did not notice the empty broker"
            published = sum(float(line.split()[-1]) for line in metrics
                            if line.startswith("zf_events_published_total{"))
            assert published >= len(restored), "the relay did not republish every stored event to the new broker"
            reconciled = requests.post(again.url("audit", "/v1/reconciliation"), headers=again.headers("auditor"),
                                       timeout=60).json()
            assert reconciled["unreachable"] == [] and reconciled["streams"] >= len(restored)
            assert (reconciled["missing"], reconciled["extra"], reconciled["differing"]) == (0, 0, 0)
            audit_url = db.service_url(new_pg.url, "audit", secrets["db_passwords"]["audit"])
            verified = operator([sys.executable, "-m", "audit.entrypoints.verify"], DATABASE_URL=audit_url)
            assert verified.startswith("log verified")
    finally:
        new_pg.stop()


def test_a_second_make_up_finds_every_earlier_case(tmp_path_factory):
    home = tmp_path_factory.mktemp("zf-restart")
    with running_system(home) as first:
        case_id = requests.post(first.url("intake", "/v1/cases"), json=complaint(), headers=first.headers(),
                                timeout=10).json()["case_id"]
        eventually(lambda: requests.get(first.url("ledger", f"/v1/cases/{case_id}"), headers=first.headers(),
                                        timeout=5).status_code == 200, timeout=10)
    with running_system(home) as second:           # same data folder, everything stopped in between
        assert requests.get(second.url("ledger", f"/v1/cases/{case_id}"), headers=second.headers(),
                            timeout=5).status_code == 200
        assert requests.get(second.url("intake", f"/v1/cases/{case_id}"), headers=second.headers(),
                            timeout=5).json()["status"] == "received"
        # The broker started empty: the relay republishes everything and the trail still has the case once.
        subjects = eventually(lambda: [e["event"]["subject"] for e in requests.get(
            second.url("audit", "/v1/events"), params={"subject": case_id}, headers=second.headers("auditor"),
            timeout=5).json()["items"]], timeout=30)
        assert subjects == [case_id]
