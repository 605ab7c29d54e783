"""`python -m notify.entrypoints.dispatcher`: sends queued webhook deliveries (department
subscriptions and hotline callbacks) until SIGTERM/SIGINT.

ZF_WEBHOOK_WORKERS threads each hold one connection and send one delivery per transaction, so a slow
endpoint (up to ZF_WEBHOOK_TIMEOUT seconds) holds up only its own worker. Several dispatcher processes
may run side by side: deliveries are claimed with SELECT … FOR UPDATE SKIP LOCKED.
"""
from __future__ import annotations

import logging
import signal
import threading

import psycopg
from prometheus_client import Counter

from zfcommon import db, logs
from zfcommon.settings import Settings

from ..service_layer.dispatch import Config, deliver_one

log = logging.getLogger(__name__)
ATTEMPTS = Counter("zf_webhook_attempts_total", "Outbound webhook attempts by outcome", ["outcome"])
IDLE_SECONDS = 0.5          # how long a worker waits when nothing is due


class Dispatcher:
    def __init__(self, database_url: str, config: Config, workers: int = 4, post=None):
        self.database_url = database_url
        self.config = config
        self.workers = workers
        self.extra = {} if post is None else {"post": post}

    def drain(self, conn: psycopg.Connection) -> int:
        """Send everything due now, one delivery per transaction; returns how many were sent."""
        sent = 0
        while True:
            try:
                outcome = deliver_one(conn, self.config, **self.extra)
                conn.commit()
            except Exception:
                conn.rollback()
                raise
            if outcome is None:
                return sent
            ATTEMPTS.labels(outcome).inc()
            sent += 1

    def work(self, stop: threading.Event) -> None:
        conn = None
        while not stop.is_set():
            try:
                if conn is None or conn.closed or conn.broken:
                    conn = db.connect(self.database_url)
                if not self.drain(conn):
                    stop.wait(IDLE_SECONDS)
            except psycopg.OperationalError as exc:
                log.warning("database_unavailable", extra={"error": str(exc)[:300]})
                conn = None
                stop.wait(1)
            except Exception:        # one bad delivery must not stop the others: logged, and tried again
                log.exception("webhook_dispatch_failed")
                stop.wait(1)
        if conn is not None:
            conn.close()

    def run(self, stop: threading.Event) -> None:
        threads = [threading.Thread(target=self.work, args=(stop,), name=f"dispatcher-{i}", daemon=True)
                   for i in range(self.workers)]
        for t in threads:
            t.start()
        log.info("dispatcher_started", extra={"workers": self.workers, "hotline": bool(self.config.hotline_url)})
        for t in threads:
            t.join()


def main() -> None:
    settings = Settings.from_env("notify")
    logs.configure(settings.service, settings.log_level)
    config = Config.from_settings(settings)          # fail fast on bad hotline settings
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Dispatcher(settings.database_url, config, settings.webhook_workers).run(stop)


if __name__ == "__main__":
    main()
