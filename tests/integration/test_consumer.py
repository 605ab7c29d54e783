"""The shared exactly-once consumer loop with ledger's and audit's projections, on the real
PostgreSQL and broker."""
from __future__ import annotations

import json
import threading

import pytest
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from audit.adapters import trail
from ledger.adapters import repository as ledger
from zfcommon import db, kafka
from zfcommon.consumer import EventConsumer
from zfcommon.events import serialize_event
from zfcommon.events.catalogue import CASE_TOPIC, all_topics, dlq_topic

from ..support import eventually, group_consumer, read_topic
from .test_event_store import received

pytestmark = pytest.mark.integration


def produce(bootstrap: str, values: list[tuple[str, bytes]], epoch: int = 1) -> None:
    producer = kafka.producer(bootstrap)
    for key, value in values:
        producer.send(CASE_TOPIC, key=key.encode(), value=value,
                      headers=[kafka.CE_CONTENT_TYPE_HEADER, (kafka.EPOCH_HEADER, str(epoch).encode())])
    producer.flush()
    producer.close()


def event_bytes(case_id: str) -> tuple[str, bytes]:
    return case_id, serialize_event(received(case_id))


def make_consumer(url: str, bootstrap: str, apply, group: str = "ledger", apply_batch=None) -> EventConsumer:
    kafka.ensure_topics(bootstrap, all_topics(), 3)
    kc = group_consumer(bootstrap, group, [CASE_TOPIC])
    return EventConsumer(group=group, apply=apply, database_url=url, kafka_consumer=kc,
                         dlq_producer=kafka.producer(bootstrap), apply_batch=apply_batch)


def drain(consumer: EventConsumer, rounds: int = 30) -> None:
    """Poll until three empty polls in a row once the consumer has its partitions (the first polls
    join the group; the broker holds a new group's join for seconds, and polls while joining, or
    the one that completes the join, say nothing about what is waiting)."""
    empty = 0
    for _ in range(rounds):
        had_partitions = bool(consumer.consumer.assignment())
        batch = consumer.consumer.poll(timeout_ms=500)
        if batch:
            consumer.handle(batch)
            empty = 0
        elif had_partitions:
            empty += 1
            if empty >= 3:
                return


def count(url: str, table: str) -> int:
    with db.connect(url) as conn:
        return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def test_a_redelivered_event_has_no_second_effect(urls, broker):
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    produce(broker.bootstrap, [event_bytes("case-a"), event_bytes("case-b")])
    consumer = make_consumer(urls["ledger"], broker.bootstrap, ledger.apply)
    try:
        drain(consumer)
        assert count(urls["ledger"], "cases") == 2
        # Redeliver everything: rewind the partitions as a crash before the offset commit would.
        consumer.consumer.seek_to_beginning()
        drain(consumer)
        assert count(urls["ledger"], "cases") == 2
        assert count(urls["ledger"], "case_events") == 2
        assert count(urls["ledger"], "processed_events") == 2
    finally:
        consumer.consumer.close()


def test_a_poison_message_goes_to_the_dlq_with_its_reason_and_the_consumer_goes_on(urls, broker):
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    unknown_type = json.loads(event_bytes("case-u")[1])
    unknown_type["type"] = "cn.zhengfeng.case.teleported.v1"

    def apply(conn, event):
        if event.subject == "case-cursed":
            raise RuntimeError("this one cannot be applied")
        ledger.apply(conn, event)

    produce(broker.bootstrap, [("x", b"\xff not json"), ("case-u", json.dumps(unknown_type).encode()),
                               event_bytes("case-cursed"), event_bytes("case-fine")])
    consumer = make_consumer(urls["ledger"], broker.bootstrap, apply)
    try:
        drain(consumer)
    finally:
        consumer.consumer.close()
    with db.connect(urls["ledger"]) as conn:
        assert [r["case_id"] for r in conn.execute("SELECT case_id FROM cases")] == ["case-fine"]
    dead = read_topic(broker.bootstrap, dlq_topic(CASE_TOPIC), 3)
    reasons = sorted(dict(r.headers)["zf-reason"].decode() for r in dead)
    assert len(reasons) == 3
    assert any("not JSON" in r for r in reasons)
    assert any("unknown event type" in r for r in reasons)
    assert any("cannot be applied" in r for r in reasons)
    assert all(dict(r.headers)["zf-origin"].decode().startswith(CASE_TOPIC + "/") for r in dead)


def test_audit_chains_each_event_once_in_batches(urls, broker):
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    duplicate = event_bytes("case-0")
    produce(broker.bootstrap, [duplicate, *[event_bytes(f"case-{i}") for i in range(1, 5)], duplicate])
    consumer = make_consumer(urls["audit"], broker.bootstrap, trail.apply, group="audit",
                             apply_batch=trail.apply_batch)
    try:
        drain(consumer)
        consumer.consumer.seek_to_beginning()
        drain(consumer)
    finally:
        consumer.consumer.close()
    from audit.domain.chain import first_break
    with db.connect(urls["audit"]) as conn:
        rows = conn.execute("SELECT seq, event, prev_hash, hash FROM trail ORDER BY seq").fetchall()
    assert len(rows) == 5
    assert first_break((r["seq"], r["event"].encode(), bytes(r["prev_hash"]), bytes(r["hash"])) for r in rows) is None


def restart_empty(broker) -> None:
    broker.stop(kill=True)
    broker.start()
    kafka.ensure_topics(broker.bootstrap, all_topics(), 1)


def run_until(consumer: EventConsumer, check) -> None:
    stop = threading.Event()
    runner = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    runner.start()
    try:
        eventually(check, timeout=40)
    finally:
        stop.set()
        runner.join(10)


def test_after_the_broker_comes_back_empty_a_new_epoch_rewinds_the_consumer(urls, broker):
    kafka.ensure_topics(broker.bootstrap, all_topics(), 1)
    produce(broker.bootstrap, [event_bytes(f"old-{i}") for i in range(5)], epoch=1)
    consumer = make_consumer(urls["ledger"], broker.bootstrap, ledger.apply)
    try:
        drain(consumer)
        assert count(urls["ledger"], "cases") == 5
        assert consumer.consumer.position(TopicPartition(CASE_TOPIC, 0)) == 5
        restart_empty(broker)
        # The relay republishes everything under epoch 2, then new events; more than our stale
        # position, so without the epoch rule the consumer would skip the first five of the new log.
        republished = [event_bytes(f"old-{i}") for i in range(5)]
        produce(broker.bootstrap, [event_bytes("new-0"), *republished[1:], event_bytes("new-1"),
                                   event_bytes("new-2"), event_bytes("new-3")], epoch=2)
        run_until(consumer, lambda: count(urls["ledger"], "cases") == 9)
    finally:
        consumer.consumer.close()


def test_a_new_log_shorter_than_the_old_position_still_rewinds_the_consumer(urls, broker):
    """The broker came back empty and the new log ends before our old position (fewer records per
    partition, e.g. topics laid out again with more partitions): no record of the new epoch ever
    reaches that position, so the consumer must notice the partition's end lies behind it."""
    kafka.ensure_topics(broker.bootstrap, all_topics(), 1)
    produce(broker.bootstrap, [event_bytes(f"old-{i}") for i in range(6)], epoch=1)
    consumer = make_consumer(urls["ledger"], broker.bootstrap, ledger.apply)
    tp = TopicPartition(CASE_TOPIC, 0)
    try:
        drain(consumer)
        assert consumer.consumer.position(tp) == 6
        restart_empty(broker)
        # The consumer's last commit of the old log reached the new broker: it resumes at 6 of 3.
        drain(consumer)
        consumer.consumer.seek(tp, 6)
        consumer.consumer.commit({tp: OffsetAndMetadata(6, "", -1)})
        produce(broker.bootstrap, [event_bytes("old-0"), event_bytes("new-0"), event_bytes("new-1")], epoch=2)
        run_until(consumer, lambda: count(urls["ledger"], "cases") == 8)
        assert consumer.consumer.position(tp) == 3
    finally:
        consumer.consumer.close()


def test_a_consumer_whose_group_membership_stalls_is_made_anew_and_goes_on(urls, broker, monkeypatch):
    """A member stuck joining its group fetches nothing and would stop the projection for good; after
    STALL_SECONDS unsettled its client is closed and a new one joins, starting from the committed offsets."""
    from zfcommon import consumer as loop

    monkeypatch.setattr(loop, "STALL_SECONDS", 3.0)
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    produce(broker.bootstrap, [event_bytes(f"before-{i}") for i in range(3)])
    made = []

    def new_consumer():
        made.append(group_consumer(broker.bootstrap, "ledger", [CASE_TOPIC]))
        return made[-1]
    consumer = make_consumer(urls["ledger"], broker.bootstrap, ledger.apply)
    consumer.new_consumer = new_consumer
    stuck = consumer.consumer
    try:
        drain(consumer)
        assert count(urls["ledger"], "cases") == 3
        assert kafka.group_settled(stuck)
        # What was seen after the broker came back empty: a rejoin that never completes.
        stuck._coordinator.ensure_active_group = lambda *args, **kwargs: False
        stuck._coordinator.request_rejoin()
        assert not kafka.group_settled(stuck)
        produce(broker.bootstrap, [event_bytes(f"after-{i}") for i in range(4)])
        run_until(consumer, lambda: count(urls["ledger"], "cases") == 7)
        assert consumer.recreated == 1 and consumer.consumer is made[0]
        assert stuck._closed
        assert count(urls["ledger"], "processed_events") == 7
    finally:
        consumer.consumer.close()


def test_the_verify_command_detects_a_tampered_trail(urls, admin_url, broker, monkeypatch, capsys):
    from audit.entrypoints import verify

    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    produce(broker.bootstrap, [event_bytes(f"case-{i}") for i in range(3)])
    consumer = make_consumer(urls["audit"], broker.bootstrap, trail.apply, group="audit")
    try:
        drain(consumer)
    finally:
        consumer.consumer.close()
    monkeypatch.setenv("DATABASE_URL", urls["audit"])
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
    monkeypatch.setenv("ZF_JWT_ALGORITHM", "HS256")
    monkeypatch.setenv("ZF_JWT_SECRET", "unused")
    assert verify.main() == 0
    with db.connect(admin_url) as conn:      # an operator with superuser rights bypasses the trigger
        conn.execute("SET session_replication_role = replica")
        conn.execute("""UPDATE audit.trail SET event = replace(event, '"subject":"', '"subject":"forged-')"""
                     " WHERE seq = 2")
        conn.commit()
    assert verify.main() == 1
    assert "trail seq 2: hash chain broken" in capsys.readouterr().out


def test_an_idle_consumer_asks_the_broker_with_the_long_wait_and_a_busy_one_with_the_short(broker):
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    kc = group_consumer(broker.bootstrap, "pacer", [CASE_TOPIC])
    sent: list[int] = []
    create = kc._fetcher._create_fetch_requests

    def recording():
        requests = create()
        sent.extend(request.max_wait_ms for request, _ in requests.values())
        return requests
    kc._fetcher._create_fetch_requests = recording
    clock = [0.0]
    pacer = kafka.FetchPacer(kc, lambda: clock[0])
    try:
        for _ in range(40):         # joining the group first (Tansu holds a new group's first join)
            pacer.polled(bool(kc.poll(timeout_ms=300)))
            if kc.assignment() and len(sent) >= 3:
                break
        assert sent and set(sent) == {kafka.BUSY_FETCH_WAIT_MS}
        clock[0] += kafka.IDLE_AFTER_S
        pacer.polled(False)
        sent.clear()
        for _ in range(4):
            kc.poll(timeout_ms=600)
        assert sent and set(sent) == {kafka.IDLE_FETCH_WAIT_MS}
    finally:
        kc.close()
