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

from prometheus_client import Counter

from zfcommon import db, logs
from zfcommon.settings import Settings, run_entrypoint

from ..adapters import sender, subscriptions
from ..service_layer.dispatch import Config, deliver_one
from .workers import Workers

log = logging.getLogger(__name__)
ATTEMPTS = Counter("zf_webhook_attempts_total", "Outbound webhook attempts by outcome", ["outcome"])


def dispatcher(database_url: str, config: Config, workers: int = 4, post=sender.post) -> Workers:
    return Workers("dispatcher", lambda: [db.connect(database_url)], lambda conn: deliver_one(conn, config, post),
                   ATTEMPTS, workers)


def seal_secrets(database_url: str, config: Config) -> int:
    """Before signing anything, seal what rows from before migration 0050 still keep in clear (a
    second dispatcher doing the same waits for the row locks and finds nothing left)."""
    with db.connect(database_url) as conn:
        sealed = subscriptions.seal_clear(conn, config.secrets)
        conn.commit()
    if sealed:
        log.info("webhook_secrets_sealed", extra={"subscriptions": sealed})
    return sealed


def main() -> None:
    settings = Settings.from_env("notify")
    logs.configure(settings.service, settings.log_level)
    config = Config.from_settings(settings)          # fail fast on bad hotline settings or master key
    seal_secrets(settings.database_url, config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    dispatcher(settings.database_url, config, settings.webhook_workers).run(stop, hotline=bool(config.hotline_url))


if __name__ == "__main__":
    run_entrypoint(main)
