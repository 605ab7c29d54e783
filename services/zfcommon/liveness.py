"""A gunicorn worker that is making progress tells its arbiter so, however long its request takes.

gunicorn's sync worker reports itself alive between requests only; a worker silent for `timeout`
seconds (30, zfcommon.gunicorn_conf) is killed, which is what frees one stuck on a dead socket. A long
download is not stuck: the ledger's export of a large 台账 (CSV streamed, XLSX built first), audit's
export bundle, the console passing either on. Killed at 30 s, it left the office with a broken file, or
none (docs/DECISIONS.md "Long downloads beat"). So a response that is sent in pieces beats at most once
a second while its pieces go out (`beating`, applied to every streamed response by
zfcommon.web.create_base_app), the rows of a file being built beat as they are read, and a worker waiting
for another service's file beats while it waits, for no longer than its bounded wait
(`beating_while`). A worker that stops making progress still misses its beats and is killed.

Outside gunicorn (tests, tools) `WORKER` is None and nothing beats.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
EVERY = 1.0           # seconds between two beats at most; the arbiter's timeout is 30
WORKER = None          # the gunicorn worker this process is (zfcommon.gunicorn_conf.post_worker_init)
_last = [0.0]


def beat() -> None:
    """Tell the arbiter this worker is alive, at most once per EVERY seconds."""
    worker = WORKER
    if worker is None:
        return
    now = time.monotonic()
    if now - _last[0] >= EVERY:
        _last[0] = now
        worker.notify()


def beating(items: Iterable[T]) -> Iterator[T]:
    """`items`, beating as they come. Closing this closes `items` too (a response's body that holds
    a database connection, a request context or an upstream response), at once, as closing `items`
    itself would have."""
    try:
        for item in items:
            beat()
            yield item
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


@contextmanager
def beating_while(limit: float) -> Iterator[None]:
    """Beat every few seconds while the block runs, for at most `limit` seconds: for a wait that is
    bounded by its own timeout (a request to another service), so a hang still ends."""
    if WORKER is None:
        yield
        return
    done = threading.Event()
    worker = WORKER
    # A worker's own `timeout` is half the arbiter's: beat at least twice within it.
    every = min(5.0, max(0.2, getattr(worker, "timeout", 15.0) / 2))

    def keep_beating() -> None:
        ends = time.monotonic() + limit
        while not done.wait(every) and time.monotonic() < ends:
            worker.notify()

    beater = threading.Thread(target=keep_beating, name="zf-liveness", daemon=True)
    beater.start()
    try:
        yield
    finally:
        done.set()
        beater.join()
