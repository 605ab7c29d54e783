"""Case numbers (案件编号) on the real PostgreSQL: sequential per office and year in China, decided in the
receipt's transaction without making receipts wait for each other, and given once, afterwards, to the
cases received before numbers existed (docs/DECISIONS.md "Case numbers")."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import psycopg
import pytest

from intake.adapters.case_numbers import MissingCaseNumber
from intake.adapters.contacts import load_master_key
from intake.domain.case import RECEIVED
from intake.entrypoints.http import create_app
from intake.service_layer import handlers
from intake.service_layer.uow import UnitOfWork
from zfcommon import db
from zfcommon.events import new_event
from zfcommon.eventstore import EventStore

from ..conftest import CONTACT_KEY, settings_for
from ..support import bearer, complaint
from ..unit.fakes import complaint as lead, received_data

pytestmark = pytest.mark.integration

OFFICE = bearer()
CTX = handlers.Context(actor="office:tester", correlation_id="c", now=datetime(2026, 11, 23, 1, tzinfo=timezone.utc))


@pytest.fixture
def client(urls, tmp_path):
    clock = tmp_path / "now"
    clock.write_text("2026-11-23T09:00:00+08:00")
    app = create_app(settings_for("intake", urls["intake"], clock_file=str(clock), case_number_prefix="SYX"))
    c = app.test_client()
    c.clock = clock
    yield c
    app.extensions["zf_pool"].close()


@pytest.fixture
def pool(urls):
    pool = db.make_pool(urls["intake"], max_size=4, name="numbers-test")
    pool.open()
    yield pool
    pool.close()


def new_uow(pool) -> UnitOfWork:
    return UnitOfWork(pool, load_master_key(CONTACT_KEY), "ZF")


def receive(client) -> dict:
    resp = client.post("/v1/cases", json=complaint(), headers=OFFICE)
    assert resp.status_code == 201, resp.json
    return resp.json


def test_numbers_carry_the_offices_prefix_and_run_per_year_of_receipt_in_china(client):
    assert [receive(client)["case_number"] for _ in range(3)] == [
        "SYX-2026-000001", "SYX-2026-000002", "SYX-2026-000003"]
    client.clock.write_text("2026-12-31T16:30:00+00:00")          # already 1 January 2027 in China
    first_of_2027 = receive(client)
    assert first_of_2027["case_number"] == "SYX-2027-000001"
    seen = client.get(f"/v1/cases/{first_of_2027['case_id']}", headers=OFFICE).json
    assert seen["case_number"] == "SYX-2027-000001" and seen["case_id"] == first_of_2027["case_id"]


def test_parallel_receipts_never_share_a_number_and_leave_none_out(client, urls):
    receive(client)                     # the year's sequence exists: from here on no receipt waits for another
    app, barrier, answers = client.application, threading.Barrier(8), []

    def post_many():
        c = app.test_client()
        barrier.wait()
        answers.extend(c.post("/v1/cases", json=complaint(), headers=OFFICE) for _ in range(25))
    threads = [threading.Thread(target=post_many) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {a.status_code for a in answers} == {201}
    numbers = sorted(a.json["case_number"] for a in answers)
    assert numbers == [f"SYX-2026-{n:06d}" for n in range(2, 202)]
    with psycopg.connect(urls["intake"]) as conn:
        stored = conn.execute("SELECT count(DISTINCT payload->'data'->>'case_number') FROM events"
                              " WHERE type = %s", (RECEIVED,)).fetchone()[0]
    assert stored == 201


def test_a_receipt_never_waits_for_another_and_one_rolled_back_leaves_a_gap(pool):
    with new_uow(pool) as warm:
        handlers.receive_case(lead(), warm, CTX)
        warm.commit()
    with new_uow(pool) as slow, new_uow(pool) as fast:
        slow_case = handlers.receive_case(lead(), slow, CTX)       # holds its number, not committed yet
        fast.conn.execute("SET LOCAL lock_timeout = '2s'")         # waiting for `slow` would fail here
        fast_case = handlers.receive_case(lead(), fast, CTX)
        fast.commit()
        slow.rollback()
    assert (slow_case.case_number, fast_case.case_number) == ("ZF-2026-000002", "ZF-2026-000003")
    with new_uow(pool) as after:
        assert handlers.receive_case(lead(), after, CTX).case_number == "ZF-2026-000004"    # 000002 is a gap
        after.commit()


def test_no_case_reaches_the_store_without_its_number(pool):
    unnumbered = new_event(service="intake", type=RECEIVED, subject="case-x", data=received_data(),
                           streamversion=1, correlationid="c", actor="office:tester", time=CTX.now)
    with new_uow(pool) as uow, pytest.raises(MissingCaseNumber):
        uow.events.append("case-x", 0, [unnumbered])


def test_cases_received_before_numbers_get_one_once_in_receipt_order_from_their_receipts_year(pool, urls):
    old = {"old-2025": datetime(2025, 12, 31, 16, 30, tzinfo=timezone.utc),      # 2026-01-01 in China
           "old-2025-b": datetime(2025, 6, 1, 1, tzinfo=timezone.utc),
           "old-2026": datetime(2026, 3, 2, 1, tzinfo=timezone.utc)}
    with new_uow(pool) as uow:
        store = EventStore(uow.conn)        # as intake stored them before numbers: no number, no index row
        for case_id in ("old-2025-b", "old-2025", "old-2026"):
            store.append(case_id, 0, [new_event(service="intake", type=RECEIVED, subject=case_id,
                                                data=received_data(), streamversion=1, correlationid="c",
                                                actor="office:tester", time=old[case_id])])
        live = handlers.receive_case(lead(), uow, CTX)          # a case received after the upgrade
        uow.commit()
    assert handlers.number_earlier_cases(lambda: new_uow(pool), CTX) == 3
    assert handlers.number_earlier_cases(lambda: new_uow(pool), CTX) == 0          # once
    with new_uow(pool) as uow:
        numbers = {c: handlers.load_case(uow, c).case_number for c in (*old, live.case_id)}
        numbered = uow.conn.execute("SELECT stream_id, version, payload->'data' AS data FROM events"
                                    " WHERE type = 'cn.zhengfeng.case.numbered.v1' ORDER BY position").fetchall()
        record = uow.events.requests.find(["old-2026"])[0]
    assert numbers == {"old-2025-b": "ZF-2025-000001", "old-2025": "ZF-2026-000002",
                       "old-2026": "ZF-2026-000003", live.case_id: "ZF-2026-000001"}
    assert [(r["stream_id"], r["version"]) for r in numbered] == [("old-2025-b", 2), ("old-2025", 2), ("old-2026", 2)]
    assert record["case_number"] == "ZF-2026-000003"
    assert record["updated_at"] == record["requested_at"] == old["old-2026"]    # numbering is not an update


def test_the_seed_step_of_every_start_numbers_earlier_cases_once(urls, pool, monkeypatch, capsys):
    from intake.entrypoints import seed
    with new_uow(pool) as uow:
        EventStore(uow.conn).append("old-1", 0, [new_event(
            service="intake", type=RECEIVED, subject="old-1", data=received_data(), streamversion=1,
            correlationid="c", actor="office:tester", time=CTX.now)])
        uow.commit()
    for name, value in {"DATABASE_URL": urls["intake"], "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                        "ZF_JWT_ALGORITHM": "HS256", "ZF_JWT_SECRET": "x" * 32, "ZF_CONTACT_KEY": CONTACT_KEY,
                        "ZF_CASE_NUMBER_PREFIX": "SYX"}.items():
        monkeypatch.setenv(name, value)
    seed.main()
    assert "1 cases received before case numbers were numbered" in capsys.readouterr().out
    seed.main()
    assert "numbered" not in capsys.readouterr().out
    with new_uow(pool) as uow:
        assert handlers.load_case(uow, "old-1").case_number == "SYX-2026-000001"


@pytest.mark.parametrize("first_commits", [True, False], ids=["first-commits", "first-rolls-back"])
def test_a_years_first_receipts_wait_only_for_the_one_creating_its_sequence(pool, first_commits):
    new_year = handlers.Context(actor="office:tester", correlation_id="c",
                                now=datetime(2027, 1, 4, 1, tzinfo=timezone.utc))
    second: list = []
    with new_uow(pool) as first:
        first_case = handlers.receive_case(lead(), first, new_year)       # creates 2027's sequence, uncommitted

        def receive_second():
            with new_uow(pool) as uow:
                second.append(handlers.receive_case(lead(), uow, new_year).case_number)
                uow.commit()
        waiting = threading.Thread(target=receive_second)
        waiting.start()
        waiting.join(timeout=1)
        assert waiting.is_alive()                   # it waits for the sequence's creation to commit or not
        first.commit() if first_commits else first.rollback()
    waiting.join(timeout=10)
    assert first_case.case_number == "ZF-2027-000001"
    assert second == ["ZF-2027-000002" if first_commits else "ZF-2027-000001"]
