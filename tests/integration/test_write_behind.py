"""A command's writes as one statement (zfcommon.uow.WriteBehind) on the real PostgreSQL: what a receipt
sends, that nothing of a refused command is stored, that a command reads its own writes, and that a race
lost at the commit is a 409, never a 500."""
from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg import pq

from intake.entrypoints.http import create_app
from intake.service_layer import handlers
from intake.service_layer.uow import UnitOfWork
from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.events import new_event
from zfcommon.idempotency import StoredAnswer

from ..conftest import settings_for
from ..support import bearer, complaint

pytestmark = pytest.mark.integration

OFFICE = bearer()
LEAD = "县自然资源局"


@pytest.fixture
def app(urls):
    app = create_app(settings_for("intake", urls["intake"]))
    yield app
    app.extensions["zf_pool"].close()


def count(admin_url: str, table: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.execute(f"SELECT count(*) FROM intake.{table}").fetchone()[0]


def sent(monkeypatch) -> list[tuple[str, bool]]:
    """Every statement psycopg sends from here on: (text, whether a transaction was open before it)."""
    log: list[tuple[str, bool]] = []
    execute = psycopg.Connection.execute

    def logged(self, query, params=None, **kwargs):
        log.append((str(query), self.pgconn.transaction_status != pq.TransactionStatus.IDLE or not self.autocommit))
        return execute(self, query, params, **kwargs)
    monkeypatch.setattr(psycopg.Connection, "execute", logged)
    return log


def test_a_receipt_reads_then_writes_everything_in_one_statement_without_a_transaction(app, admin_url, monkeypatch):
    client = app.test_client()
    client.post("/v1/cases", json=complaint(), headers=OFFICE)      # the directory is cached from here on
    log = sent(monkeypatch)
    resp = client.post("/v1/cases", json=complaint(), headers={**OFFICE, "Idempotency-Key": "one-statement"})
    assert resp.status_code == 201
    writes = [q for q, _ in log if "INSERT" in q]
    assert len(writes) == 1, writes
    for table in ("contact_keys", "events", "outbox", "case_numbers", "open311_requests", "idempotency_keys"):
        assert f"INTO {table}" in writes[0]
    assert [q for q, in_transaction in log if in_transaction] == []
    assert len(log) == 3, [q[:60] for q, _ in log]   # the key with the directory's version, the number, the write
    assert count(admin_url, "events") == count(admin_url, "outbox") == count(admin_url, "case_numbers") == 2


def test_the_directory_read_with_the_key_is_current_for_the_very_next_command(app):
    client = app.test_client()
    keyed = {**OFFICE, "Idempotency-Key": "before"}
    assert client.post("/v1/cases", json=complaint(category="新类别"), headers=keyed).status_code == 422
    assert client.post("/v1/directory/categories", json={"name": "新类别", "group": "自定义"},
                       headers=OFFICE).status_code == 200
    for key in ("after", None):
        headers = {**OFFICE, "Idempotency-Key": key} if key else OFFICE
        assert client.post("/v1/cases", json=complaint(category="新类别"), headers=headers).status_code == 201
    assert client.delete("/v1/directory/categories/新类别", headers=OFFICE).status_code == 200
    refused = client.post("/v1/cases", json=complaint(category="新类别"), headers={**OFFICE, "Idempotency-Key": "gone"})
    assert refused.status_code == 422 and refused.json["code"] == "case.category_unknown"


def test_a_retry_and_a_refusal_store_nothing_more(app, admin_url):
    client = app.test_client()
    headers = {**OFFICE, "Idempotency-Key": "k-1"}
    first = client.post("/v1/cases", json=complaint(), headers=headers)
    again = client.post("/v1/cases", json=complaint(), headers=headers)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    refused = client.post("/v1/cases", json=complaint(category="不存在的类别"), headers=OFFICE)
    assert refused.status_code == 422
    for table in ("events", "outbox", "contact_keys", "case_numbers", "idempotency_keys", "open311_requests"):
        assert count(admin_url, table) == 1, table


def new_uow(app) -> UnitOfWork:
    return UnitOfWork(app.extensions["zf_pool"], app.extensions["zf_master_key"], "ZF", write_behind=True)


def received_case(app) -> str:
    resp = app.test_client().post("/v1/cases", json=complaint(), headers=OFFICE)
    assert resp.status_code == 201
    return resp.json["case_id"]


def progress(case_id: str, version: int):
    return new_event(service="intake", type="cn.zhengfeng.case.summary_corrected.v1", subject=case_id,
                     data={"summary": "反映窗口人员推诿"}, streamversion=version,
                     correlationid="corr", actor="office:tester")


def test_a_held_append_that_lost_the_race_is_a_conflict_at_the_commit_and_leaves_nothing(app, admin_url):
    case_id = received_case(app)
    before = {t: count(admin_url, t) for t in ("events", "outbox", "idempotency_keys")}
    with new_uow(app) as first, new_uow(app) as second:
        for u in (first, second):
            case = handlers.load_case(u, case_id)
            u.events.append(case_id, case.version, [progress(case_id, case.version + 1)])
        second.idempotency.remember("office:tester", "lost", StoredAnswer("digest", 200, {}, {}))
        first.commit()
        with pytest.raises(ConcurrencyConflict) as conflict:
            second.commit()
    assert (conflict.value.stream_id, conflict.value.expected_version) == (case_id, 1)
    after = {t: count(admin_url, t) for t in ("events", "outbox", "idempotency_keys")}
    assert after == {"events": before["events"] + 1, "outbox": before["outbox"] + 1,
                     "idempotency_keys": before["idempotency_keys"]}


def test_a_command_reads_what_it_holds_in_its_transaction_and_a_rollback_forgets_it(app, admin_url):
    case_id = received_case(app)
    with new_uow(app) as u:
        u.events.append(case_id, 1, [progress(case_id, 2)])
        assert [e.streamversion for e in u.events.load(case_id)] == [1, 2]     # sent first, in the transaction
        assert u.raw.pgconn.transaction_status == pq.TransactionStatus.INTRANS
        assert count(admin_url, "events") == 1                                # not committed: nobody else sees it
        u.rollback()
        assert [e.streamversion for e in u.events.load(case_id)] == [1]
        u.events.append(case_id, 1, [progress(case_id, 2)])
    assert count(admin_url, "events") == 1 and count(admin_url, "outbox") == 1   # never committed


def test_a_lock_opens_the_transaction_and_sends_what_is_held_before_it(app, admin_url):
    case_id = received_case(app)
    with new_uow(app) as u:
        u.events.append(case_id, 1, [progress(case_id, 2)])
        u.conn.execute("SELECT pg_advisory_xact_lock(42)")
        assert u.raw.pgconn.transaction_status == pq.TransactionStatus.INTRANS
        assert u.conn.execute("SELECT count(*) AS n FROM events").fetchone()["n"] == 2
        u.commit()
    assert count(admin_url, "events") == 2
    with new_uow(app) as u:          # the pool lends the connection back as it was: not in autocommit
        assert not u.raw.autocommit or u.raw.pgconn.transaction_status == pq.TransactionStatus.IDLE


def test_commands_racing_on_one_case_get_an_answer_or_a_conflict_never_a_500(app, admin_url):
    client = app.test_client()
    assert client.post("/v1/directory/units", json={"name": LEAD, "kind": "government_department",
                                                    "supervising_channel": "县监察局"},
                       headers=OFFICE).status_code == 200
    case_id = client.post("/v1/cases", json=complaint(), headers=OFFICE).json["case_id"]
    unit = bearer("unit", sub="officer-1", unit=LEAD)
    assert client.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": LEAD, "handling_mode": "deadline"},
                       headers=OFFICE).status_code == 200
    assert client.post(f"/v1/cases/{case_id}/accept", json={}, headers=unit).status_code == 200
    before = count(admin_url, "events")
    barrier, answers = threading.Barrier(4), []

    def note(i: int) -> None:
        c = app.test_client()
        barrier.wait()
        answers.append(c.post(f"/v1/cases/{case_id}/note-progress", json={"note": f"第{i}次进展"}, headers=unit))
    threads = [threading.Thread(target=note, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(a.status_code for a in answers)
    assert set(codes) <= {200, 409} and 200 in codes, [a.json for a in answers]
    for a in answers:
        if a.status_code == 409:
            assert a.json["code"] == "case.version_conflict" and a.json["case_id"] == case_id
    assert count(admin_url, "events") == before + codes.count(200)


def test_a_connection_lost_under_a_command_is_a_503_and_the_next_command_is_served(app, admin_url):
    client = app.test_client()
    assert client.post("/v1/cases", json=complaint(), headers=OFFICE).status_code == 201
    with psycopg.connect(admin_url, autocommit=True) as admin:      # PostgreSQL drops intake's connections
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE usename = 'zf_intake' AND pid <> pg_backend_pid()")
    lost = client.post("/v1/cases", json=complaint(), headers={**OFFICE, "Idempotency-Key": "lost"})
    assert lost.status_code == 503 and lost.json["code"] == "database_unavailable"
    for _ in range(5):          # each lost connection of the pool answers once, and is discarded
        again = client.post("/v1/cases", json=complaint(), headers={**OFFICE, "Idempotency-Key": "lost"})
        if again.status_code != 503:
            break
    assert again.status_code == 201
    assert count(admin_url, "events") == 2
