"""An idle consumer long-polls; one that gets records asks the broker often again (zfcommon.kafka.FetchPacer)."""
from __future__ import annotations

from types import SimpleNamespace

from zfcommon import kafka


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pacer_on(clock: Clock) -> kafka.FetchPacer:
    consumer = SimpleNamespace(_fetcher=SimpleNamespace(config={"fetch_max_wait_ms": kafka.BUSY_FETCH_WAIT_MS}))
    return kafka.FetchPacer(consumer, clock)


def test_empty_polls_lengthen_the_broker_wait_only_after_a_quiet_spell():
    clock = Clock()
    pacer = pacer_on(clock)
    clock.now += kafka.IDLE_AFTER_S - 0.1
    pacer.polled(False)
    assert pacer.wait_ms == kafka.BUSY_FETCH_WAIT_MS
    clock.now += 0.1
    pacer.polled(False)
    assert pacer.wait_ms == kafka.IDLE_FETCH_WAIT_MS > kafka.BUSY_FETCH_WAIT_MS


def test_records_bring_the_short_wait_back_at_once_and_restart_the_quiet_spell():
    clock = Clock()
    pacer = pacer_on(clock)
    clock.now += kafka.IDLE_AFTER_S
    pacer.polled(False)
    pacer.polled(True)
    assert pacer.wait_ms == kafka.BUSY_FETCH_WAIT_MS
    clock.now += kafka.IDLE_AFTER_S - 0.1
    pacer.polled(False)
    assert pacer.wait_ms == kafka.BUSY_FETCH_WAIT_MS
