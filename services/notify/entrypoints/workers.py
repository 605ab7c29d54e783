"""Threads that drain a queue kept in PostgreSQL (webhook deliveries, notices …): each worker holds its
own connection(s) and handles one item per transaction until nothing is due, then waits a moment.

The item's row lock lives in that transaction (claimed with FOR UPDATE … SKIP LOCKED by `step`), so
workers in one process or several never take the same item, and a worker that dies releases it
unchanged: it is simply taken again.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, Sequence

import psycopg
from prometheus_client import Counter

log = logging.getLogger(__name__)
IDLE_SECONDS = 1.0          # how long a worker waits when nothing is due (idle cost vs. first-send delay)

Connections = Sequence[psycopg.Connection]


@dataclass
class Workers:
    name: str                                   # for thread names and log events
    connect: Callable[[], Connections]          # a worker's connections; the first holds the item's transaction
    step: Callable[..., str | None]             # step(*connections): one item's outcome, None when nothing is due
    outcomes: Counter                           # counts outcomes (one label)
    workers: int = 4

    def drain(self, conns: Connections) -> int:
        """Handle everything due now, one item per transaction; returns how many were handled."""
        handled = 0
        while True:
            try:
                outcome = self.step(*conns)
                conns[0].commit()
            except Exception:
                conns[0].rollback()
                raise
            if outcome is None:
                return handled
            self.outcomes.labels(outcome).inc()
            handled += 1

    def work(self, stop: threading.Event) -> None:
        conns: Connections | None = None
        while not stop.is_set():
            try:
                if conns is None or any(c.closed or c.broken for c in conns):
                    conns = self.connect()
                if not self.drain(conns):
                    stop.wait(IDLE_SECONDS)
            except psycopg.OperationalError as exc:
                log.warning("database_unavailable", extra={"worker": self.name, "error": str(exc)[:300]})
                conns = None
                stop.wait(1)
            except Exception:        # one bad item must not stop the others: logged, and tried again
                log.exception(f"{self.name}_step_failed")
                stop.wait(1)
        for c in conns or ():
            c.close()

    def run(self, stop: threading.Event, **started) -> None:
        """Run the workers until `stop` is set; `started` goes into the start-up log line."""
        threads = [threading.Thread(target=self.work, args=(stop,), name=f"{self.name}-{i}", daemon=True)
                   for i in range(self.workers)]
        for t in threads:
            t.start()
        log.info(f"{self.name}_started", extra={"workers": self.workers, **started})
        for t in threads:
            t.join()
