"""zfcommon.liveness without gunicorn: beats are throttled, a wrapped body is closed with its wrapper,
and nothing beats outside a worker (the real arbiter: tests/integration/test_liveness.py)."""
from __future__ import annotations

import time

import pytest

from zfcommon import liveness


class Worker:
    timeout = 0.5            # half the arbiter's, as gunicorn sets it

    def __init__(self):
        self.beats = 0

    def notify(self):
        self.beats += 1


@pytest.fixture
def worker(monkeypatch):
    w = Worker()
    monkeypatch.setattr(liveness, "WORKER", w)
    monkeypatch.setattr(liveness, "_last", [0.0])
    return w


def test_beats_are_at_most_one_a_second(worker, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(liveness.time, "monotonic", lambda: clock[0])
    for _ in range(50):
        liveness.beat()
    assert worker.beats == 1
    clock[0] += liveness.EVERY
    liveness.beat()
    assert worker.beats == 2


def test_a_body_beats_as_it_goes_and_closing_it_closes_what_it_wraps(worker):
    closed = []

    class Body:
        def __iter__(self):
            return iter([b"a", b"b", b"c"])

        def close(self):
            closed.append(True)

    wrapped = liveness.beating(Body())
    assert next(wrapped) == b"a" and worker.beats == 1
    wrapped.close()                     # the client left: werkzeug closes the response's body
    assert closed == [True]
    assert list(liveness.beating([b"x", b"y"])) == [b"x", b"y"]     # a body without close()


def test_a_bounded_wait_beats_from_a_thread_and_stops_with_the_block(worker):
    with liveness.beating_while(10):
        time.sleep(0.7)
    beats = worker.beats
    assert beats >= 2                   # every worker.timeout / 2 = 0.25 s
    time.sleep(0.4)
    assert worker.beats == beats


def test_outside_a_worker_nothing_beats(monkeypatch):
    monkeypatch.setattr(liveness, "WORKER", None)
    liveness.beat()
    with liveness.beating_while(1):
        pass
    assert list(liveness.beating([1, 2])) == [1, 2]
