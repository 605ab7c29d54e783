"""The outbox relay against the real PostgreSQL and the real broker."""
from __future__ import annotations

import json
import threading
import time

import pytest
from kafka.errors import KafkaError

from zfcommon.eventstore import EventStore
from zfcommon.relay import PENDING, Relay
from zfcommon import db, kafka
from zfcommon.devstack.ports import free_port
from zfcommon.devstack.postgres import LocalPostgres
from zfcommon.events.catalogue import CASE_TOPIC

from ..support import eventually, read_topic
from .test_event_store import received

pytestmark = pytest.mark.integration


def relay_for(url: str, bootstrap: str) -> Relay:
    return Relay(database_url=url, bootstrap=bootstrap, partitions=3, batch=100)


def store(url: str, case_id: str, version: int = 1) -> None:
    with db.connect(url) as conn:
        EventStore(conn).append(case_id, version - 1, [received(case_id, version)])
        conn.commit()


def subjects(records) -> list[str]:
    return [json.loads(r.value)["subject"] for r in records]


def test_an_event_that_commits_late_with_a_lower_position_is_not_skipped(urls, broker):
    relay = relay_for(urls["intake"], broker.bootstrap)
    relay.check_broker()
    late = db.connect(urls["intake"])
    EventStore(late).append("case-late", 0, [received("case-late")])   # takes the lower position, uncommitted
    store(urls["intake"], "case-early")                                  # higher position, committed first
    assert relay.publish_batch() == 1                                    # only what is committed
    late.commit()
    late.close()
    assert relay.publish_batch() == 1                                    # the late one is not skipped
    assert relay.publish_batch() == 0
    assert sorted(subjects(read_topic(broker.bootstrap, CASE_TOPIC, 2))) == ["case-early", "case-late"]


def _rows_read(plan: dict, relation: str) -> int:
    here = plan["Actual Rows"] * plan["Actual Loops"] if plan.get("Relation Name") == relation else 0
    return here + sum(_rows_read(p, relation) for p in plan.get("Plans", []))


def test_reading_the_outbox_reads_only_the_waiting_events_however_many_were_published(admin_url, urls, broker):
    # 3,000 events published long ago, statistics that still show them waiting (autovacuum lags behind
    # a busy outbox), one event waiting now: the relay's read must touch that one, not the store.
    with db.connect(admin_url) as conn:
        conn.execute("SET search_path TO intake")
        conn.execute("INSERT INTO events (event_id, stream_id, version, type, payload)"
                     " SELECT gen_random_uuid(), 'case-old-' || g, 1, 'cn.zhengfeng.case.received.v1', '{}'"
                     " FROM generate_series(1, 3000) g")
        conn.execute("INSERT INTO outbox SELECT position FROM events")
        conn.execute("ANALYZE events")
        conn.execute("ANALYZE outbox")
        conn.execute("DELETE FROM outbox")
        conn.commit()
    store(urls["intake"], "case-new")
    with db.connect(urls["intake"]) as conn:
        [[plan]] = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + PENDING, (500,),
                                prepare=False).fetchone().values()
        assert _rows_read(plan["Plan"], "events") == 1
    relay = relay_for(urls["intake"], broker.bootstrap)
    relay.check_broker()
    assert relay.publish_batch() == 1
    assert subjects(read_topic(broker.bootstrap, CASE_TOPIC, 1)) == ["case-new"]


def test_records_carry_the_case_key_the_cloudevents_content_type_and_the_epoch(urls, broker):
    relay = relay_for(urls["intake"], broker.bootstrap)
    relay.check_broker()
    store(urls["intake"], "case-1")
    relay.publish_batch()
    [record] = read_topic(broker.bootstrap, CASE_TOPIC, 1)
    headers = dict(record.headers)
    assert record.key == b"case-1"
    assert headers["content-type"] == b"application/cloudevents+json; charset=UTF-8"
    assert headers[kafka.EPOCH_HEADER] == b"1"
    assert json.loads(record.value)["specversion"] == "1.0"


def test_one_case_keeps_its_order_on_one_partition(urls, broker):
    relay = relay_for(urls["intake"], broker.bootstrap)
    relay.check_broker()
    for v in range(1, 6):
        store(urls["intake"], "case-ordered", v)
    relay.publish_batch()
    records = read_topic(broker.bootstrap, CASE_TOPIC, 5)
    assert len({r.partition for r in records}) == 1
    assert [json.loads(r.value)["streamversion"] for r in records] == [1, 2, 3, 4, 5]


def check_as_the_loop_does(relay: Relay) -> bool:
    """check_broker() as Relay.run calls it: a broker that has just restarted may refuse the first
    requests (NodeNotReadyError while the client reconnects); the loop drops its clients and checks again."""
    def once():
        try:
            return (relay.check_broker(),)
        except (KafkaError, TimeoutError):
            relay._drop_producer()
            return None
    return eventually(once, timeout=30, interval=0.5)[0]


def test_a_broker_that_comes_back_empty_gets_every_event_again_under_a_new_epoch(urls, broker):
    relay = relay_for(urls["intake"], broker.bootstrap)
    relay.check_broker()
    for i in range(3):
        store(urls["intake"], f"case-{i}")
    assert relay.publish_batch() == 3
    broker.stop(kill=True)
    broker.start()                                  # Tansu keeps topics in memory: they are gone
    assert check_as_the_loop_does(relay) is True
    store(urls["intake"], "case-3")
    while relay.publish_batch():
        pass
    records = read_topic(broker.bootstrap, CASE_TOPIC, 4)
    assert sorted(subjects(records)) == ["case-0", "case-1", "case-2", "case-3"]
    assert {dict(r.headers)[kafka.EPOCH_HEADER] for r in records} == {b"2"}
    assert relay.check_broker() is False            # the same broker again: nothing to do


def test_a_kept_admin_client_that_lost_its_broker_is_replaced_within_the_same_check(urls, broker):
    """The flake this fixes: after a broker restart the relay's kept admin client could answer
    NodeNotReadyError (or time out) on the first check, which then failed instead of reconnecting."""
    from kafka.errors import NodeNotReadyError

    class Stale:
        closed = False

        def describe_topics(self, topics):
            raise NodeNotReadyError("the connection died with the old broker")

        def close(self):
            self.closed = True
    stale = Stale()
    made = iter([stale])
    relay = Relay(database_url=urls["intake"], bootstrap=broker.bootstrap, partitions=3,
                  admin_factory=lambda: next(made, None) or kafka.admin(broker.bootstrap))
    assert relay.check_broker() is False            # first sight of the topics: recorded, nothing to do
    assert stale.closed


def test_the_relay_rides_out_broker_and_database_restarts(tmp_path, broker):
    from ..conftest import PASSWORDS
    from zfcommon.devstack.stack import migrate_all

    pg = LocalPostgres(tmp_path / "pg", free_port()).start()
    try:
        migrate_all(pg.url, PASSWORDS)
        url = db.service_url(pg.url, "intake", PASSWORDS["intake"])
        relay = Relay(database_url=url, bootstrap=broker.bootstrap, partitions=3, check_interval=0.2)
        stop = threading.Event()
        runner = threading.Thread(target=relay.run, args=(stop,), daemon=True)
        runner.start()
        store(url, "before")
        eventually(lambda: len(read_topic(broker.bootstrap, CASE_TOPIC, 1, timeout=1)) == 1)
        pg.stop()
        pg.start()
        store(url, "after-db-restart")
        eventually(lambda: len(read_topic(broker.bootstrap, CASE_TOPIC, 2, timeout=1)) == 2, timeout=20)
        broker.stop(kill=True)
        store(url, "while-broker-down")
        broker.start()
        found = eventually(lambda: sorted(subjects(read_topic(broker.bootstrap, CASE_TOPIC, 3, timeout=1)))
                           == ["after-db-restart", "before", "while-broker-down"], timeout=30)
        assert found
        stop.set()
        runner.join(10)
    finally:
        pg.stop()


def test_a_second_relay_waits_as_a_standby(urls, broker):
    first = relay_for(urls["intake"], broker.bootstrap)
    first.check_broker()
    second = relay_for(urls["intake"], broker.bootstrap)
    stop = threading.Event()
    standby = threading.Thread(target=second.run, args=(stop,), daemon=True)
    standby.start()
    store(urls["intake"], "only-once")
    assert first.publish_batch() == 1
    told = time.monotonic()
    stop.set()
    standby.join(10)
    assert not standby.is_alive() and time.monotonic() - told < 3     # a standby told to stop stops
    assert second.conn is None and second.listener is None
    assert len(read_topic(broker.bootstrap, CASE_TOPIC, 2, timeout=2)) == 1


def test_a_waiting_relay_is_woken_by_a_commit_rides_out_a_lost_listener_and_stops_when_told(urls, broker):
    """Its wait for work is bounded by the broker check (here a minute away), yet a commit wakes it,
    a listener whose server connection ended is made anew, and a stop ends the wait within a few of
    its STOP_CHECK_SECONDS (a service's SIGTERM, a test's teardown)."""
    from zfcommon import relay as outbox

    relay = Relay(database_url=urls["intake"], bootstrap=broker.bootstrap, partitions=3, check_interval=60.0)
    stop = threading.Event()
    running = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    running.start()
    try:
        store(urls["intake"], "woken")          # the relay lays out the topics as it starts: wait for them
        assert subjects(eventually(lambda: read_topic(broker.bootstrap, CASE_TOPIC, 1, timeout=1), 15)) == ["woken"]
        listener = relay.listener.info.backend_pid
        with db.connect(urls["intake"]) as conn:
            assert conn.execute("SELECT pg_terminate_backend(%s) AS ok", (listener,)).fetchone()["ok"]
        # Made anew at once (not after a wait for the lock its old connection held, as a standby).
        eventually(lambda: relay.listener is not None and not relay.listener.closed
                   and relay.listener.info.backend_pid != listener, 3)
        store(urls["intake"], "heard-anew")
        published = subjects(read_topic(broker.bootstrap, CASE_TOPIC, 2, timeout=10))
        assert sorted(published) == ["heard-anew", "woken"]
        time.sleep(0.5)                 # waiting again, with ~60 s to its next broker check
        told = time.monotonic()
        stop.set()
        running.join(10)
        assert not running.is_alive()
        assert time.monotonic() - told < 4 * outbox.STOP_CHECK_SECONDS
    finally:
        stop.set()
