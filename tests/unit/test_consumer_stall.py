"""A consumer whose group membership stays unsettled for STALL_SECONDS closes its Kafka client and makes
a new one; a membership that settles in time, or a consumer given no way to make one, keeps its client
(zfcommon.consumer.EventConsumer._recreate_if_group_stalled; the real broker: tests/integration/test_consumer.py)."""
from __future__ import annotations

import pytest

from zfcommon import consumer as loop
from zfcommon import metrics
from zfcommon.consumer import STALL_SECONDS, EventConsumer


class Client:
    def __init__(self, settled: bool = True, close_fails: bool = False):
        self.settled, self.close_fails = settled, close_fails
        self.closed_with: dict | None = None

    def close(self, **kwargs):
        self.closed_with = kwargs
        if self.close_fails:
            raise RuntimeError("stuck")


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setattr(loop.kafka, "group_settled", lambda client: client.settled)
    clock = [100.0]
    made: list[Client] = []

    def new_consumer():
        made.append(Client())
        return made[-1]

    def consumer(client: Client, factory=new_consumer) -> EventConsumer:
        return EventConsumer(group="audit", apply=lambda conn, e: None, database_url="postgresql://unused",
                             kafka_consumer=client, dlq_producer=None, new_consumer=factory,
                             clock=lambda: clock[0])
    return clock, made, consumer


def recreated_total() -> float:
    return metrics.CONSUMER_RECREATED.labels("audit")._value.get()


def test_a_membership_unsettled_for_stall_seconds_gets_a_new_client(world):
    clock, made, consumer = world
    old = Client(settled=False)
    c = consumer(old)
    before = recreated_total()
    assert not c._recreate_if_group_stalled()          # first seen unsettled: the timer starts
    clock[0] += STALL_SECONDS - 0.5
    assert not c._recreate_if_group_stalled() and c.consumer is old
    clock[0] += 0.5
    assert c._recreate_if_group_stalled()
    assert c.consumer is made[0] and old.closed_with == {"autocommit": False, "timeout_ms": 5000}
    assert c.recreated == 1 and recreated_total() == before + 1
    # The new client's own time starts afresh.
    made[0].settled = False
    assert not c._recreate_if_group_stalled()
    clock[0] += STALL_SECONDS - 1
    assert not c._recreate_if_group_stalled() and c.consumer is made[0]


def test_a_membership_that_settles_in_between_starts_the_count_again(world):
    clock, made, consumer = world
    client = Client(settled=False)
    c = consumer(client)
    c._recreate_if_group_stalled()
    clock[0] += STALL_SECONDS - 1
    client.settled = True
    assert not c._recreate_if_group_stalled()
    client.settled = False
    clock[0] += 2
    assert not c._recreate_if_group_stalled()
    clock[0] += STALL_SECONDS - 1
    assert not c._recreate_if_group_stalled()
    assert made == [] and c.consumer is client


def test_a_client_that_fails_to_close_is_replaced_all_the_same(world):
    clock, made, consumer = world
    old = Client(settled=False, close_fails=True)
    c = consumer(old)
    c._recreate_if_group_stalled()
    clock[0] += STALL_SECONDS
    assert c._recreate_if_group_stalled() and c.consumer is made[0]


def test_a_client_that_cannot_be_made_leaves_the_old_one_and_is_tried_again_a_stall_later(world):
    from kafka.errors import KafkaTimeoutError

    clock, made, consumer = world
    old = Client(settled=False)
    attempts = []

    def no_broker():
        attempts.append(clock[0])
        raise KafkaTimeoutError("Unable to bootstrap")
    c = consumer(old, factory=no_broker)
    c._recreate_if_group_stalled()
    clock[0] += STALL_SECONDS
    assert not c._recreate_if_group_stalled() and c.consumer is old and old.closed_with is None
    clock[0] += 2
    assert not c._recreate_if_group_stalled() and len(attempts) == 1
    clock[0] += STALL_SECONDS
    assert not c._recreate_if_group_stalled() and len(attempts) == 2


def test_without_a_way_to_make_a_client_the_consumer_keeps_its_own(world):
    clock, made, consumer = world
    old = Client(settled=False)
    c = consumer(old, factory=None)
    for _ in range(3):
        assert not c._recreate_if_group_stalled()
        clock[0] += STALL_SECONDS
    assert c.consumer is old and old.closed_with is None


def test_a_consumer_with_a_long_session_is_given_five_of_its_sessions_before_it_counts_as_stalled(world):
    """A rebalance may wait a whole session for a member that died: with ZF_CONSUMER_SESSION_TIMEOUT_MS
    above the default, the watchdog waits five of that session instead of STALL_SECONDS."""
    clock, made, consumer = world
    old = Client(settled=False)
    old.config = {"session_timeout_ms": 60_000}
    assert loop.stall_seconds(old) == 300 and loop.stall_seconds(Client()) == STALL_SECONDS
    short = Client()
    short.config = {"session_timeout_ms": 2_000}
    assert loop.stall_seconds(short) == STALL_SECONDS
    c = consumer(old)
    c._recreate_if_group_stalled()
    clock[0] += 299
    assert not c._recreate_if_group_stalled() and c.consumer is old
    clock[0] += 1
    assert c._recreate_if_group_stalled() and c.consumer is made[0]
