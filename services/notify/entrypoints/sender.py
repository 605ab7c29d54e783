"""`python -m notify.entrypoints.sender`: sends queued notices (email over SMTP, SMS through the HTTP
gateway) until SIGTERM/SIGINT.

ZF_NOTICE_WORKERS threads each hold two connections: one for the claimed notice's transaction and one
autocommit connection that puts each attempt on record before the message leaves
(notify.service_layer.notice_sending explains why that means nothing goes out twice). Several sender
processes may run side by side: notices are claimed with FOR NO KEY UPDATE SKIP LOCKED. A channel
left unconfigured does not stop the sender: its notices are marked not_configured, for all to see.
"""
from __future__ import annotations

import logging
import signal
import threading

import psycopg
from prometheus_client import Counter

from zfcommon import db, jwks, logs
from zfcommon.settings import Settings, run_entrypoint

from ..adapters.intake_client import IntakeClient
from ..service_layer.notice_sending import Channels, Config, send_one

log = logging.getLogger(__name__)
RESULTS = Counter("zf_notice_attempts_total", "Notice attempts by the notice's status afterwards", ["status"])
IDLE_SECONDS = 1.0          # how long a worker waits when nothing is due (idle cost vs. first-send delay)


class Sender:
    def __init__(self, database_url: str, config: Config, channels: Channels, workers: int = 2):
        self.database_url = database_url
        self.config = config
        self.channels = channels
        self.workers = workers

    def drain(self, conn: psycopg.Connection, log_conn: psycopg.Connection) -> int:
        """Attempt everything due now, one notice per transaction; returns how many were attempted."""
        done = 0
        while True:
            try:
                status = send_one(conn, log_conn, self.config, self.channels)
                conn.commit()
            except Exception:
                conn.rollback()
                raise
            if status is None:
                return done
            RESULTS.labels(status).inc()
            done += 1

    def work(self, stop: threading.Event) -> None:
        conns: tuple[psycopg.Connection, psycopg.Connection] | None = None
        while not stop.is_set():
            try:
                if conns is None or any(c.closed or c.broken for c in conns):
                    conns = (db.connect(self.database_url), db.connect(self.database_url, autocommit=True))
                if not self.drain(*conns):
                    stop.wait(IDLE_SECONDS)
            except psycopg.OperationalError as exc:
                log.warning("database_unavailable", extra={"error": str(exc)[:300]})
                conns = None
                stop.wait(1)
            except Exception:       # one bad notice must not stop the others: logged, and tried again
                log.exception("notice_send_failed")
                stop.wait(1)
        for c in conns or ():
            c.close()

    def run(self, stop: threading.Event) -> None:
        threads = [threading.Thread(target=self.work, args=(stop,), name=f"sender-{i}", daemon=True)
                   for i in range(self.workers)]
        for t in threads:
            t.start()
        log.info("notice_sender_started", extra={"workers": self.workers, "email": bool(self.config.mail),
                                                 "sms": bool(self.config.sms)})
        for t in threads:
            t.join()


def main() -> None:
    settings = Settings.from_env("notify")
    logs.configure("notify-sender", settings.log_level)
    config = Config.from_settings(settings)          # fail fast on malformed settings
    for channel, ready in (("email", config.mail), ("sms", config.sms)):
        if ready is None:
            log.warning("notice_channel_not_configured", extra={"channel": channel})
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    channels = Channels(IntakeClient(settings.intake_url, jwks.signer(settings), settings.notice_timeout))
    Sender(settings.database_url, config, channels, settings.notice_workers).run(stop)


if __name__ == "__main__":
    run_entrypoint(main)
