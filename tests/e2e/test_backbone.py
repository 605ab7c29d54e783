"""End to end: the four services as real processes (gunicorn, relay, consumers) over real HTTP."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ..support import complaint, eventually

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


def test_a_second_make_up_finds_every_earlier_case(tmp_path_factory):
    from .conftest import running_system

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
