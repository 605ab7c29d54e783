"""intake's event store on the real PostgreSQL: optimistic concurrency and append-only storage."""
from __future__ import annotations

import threading

import psycopg
import pytest

from zfcommon.eventstore import ConcurrencyConflict, EventStore
from zfcommon import db
from zfcommon.events import new_event

from ..support import complaint

pytestmark = pytest.mark.integration

RECEIVED = "cn.zhengfeng.case.received.v1"


def received(case_id: str, version: int = 1):
    data = {k: v for k, v in complaint().items() if k != "complainant"}
    data.update(priority="normal", anonymous=True, complainant=None)
    return new_event(service="intake", type=RECEIVED, subject=case_id, data=data, streamversion=version,
                     correlationid="corr", actor="office:tester")


def test_two_concurrent_writers_on_one_stream_one_wins_and_the_other_conflicts(urls):
    with db.connect(urls["intake"]) as conn:
        EventStore(conn).append("case-race", 0, [received("case-race")])
        conn.commit()
    barrier, outcomes = threading.Barrier(2), []

    def writer():
        with db.connect(urls["intake"]) as conn:
            store = EventStore(conn)
            version = len(store.load("case-race"))        # both read version 1
            barrier.wait()
            try:
                store.append("case-race", version, [received("case-race", version + 1)])
                conn.commit()
                outcomes.append("won")
            except ConcurrencyConflict:
                conn.rollback()
                outcomes.append("conflict")
    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    with db.connect(urls["intake"]) as conn:
        history = EventStore(conn).load("case-race")
        assert [e.streamversion for e in history] == [1, 2]
        assert conn.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"] == 2


def test_the_service_role_cannot_rewrite_or_delete_events(urls):
    with db.connect(urls["intake"]) as conn:
        EventStore(conn).append("case-x", 0, [received("case-x")])
        conn.commit()
        for statement in ("UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()


def test_even_the_owner_cannot_rewrite_or_delete_events(urls, admin_url):
    with db.connect(urls["intake"]) as conn:
        EventStore(conn).append("case-y", 0, [received("case-y")])
        conn.commit()
    with db.connect(admin_url) as conn:
        for statement in ("UPDATE intake.events SET type = 'x'", "DELETE FROM intake.events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
            conn.rollback()


def test_the_audit_role_cannot_update_or_delete_the_trail(urls, admin_url):
    with db.connect(urls["audit"]) as conn:
        conn.execute("INSERT INTO trail (seq, event_key, topic, subject, type, actor, event_time, event,"
                     " prev_hash, hash) VALUES (1, 'k', 't', 's', 'ty', 'a', now(), '{}', ''::bytea, ''::bytea)")
        conn.commit()
        for statement in ("UPDATE trail SET actor = 'someone else'", "DELETE FROM trail", "TRUNCATE trail"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    with db.connect(admin_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM audit.trail")
