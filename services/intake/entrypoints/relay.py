"""`python -m intake.entrypoints.relay`: the outbox relay process."""
from __future__ import annotations

import signal
import threading

from zfcommon import logs
from zfcommon.settings import Settings

from ..adapters.relay import Relay


def main() -> None:
    settings = Settings.from_env("intake")
    logs.configure("intake-relay", settings.log_level)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Relay(database_url=settings.database_url, bootstrap=settings.kafka_bootstrap_servers,
          partitions=settings.partitions, batch=settings.relay_batch).run(stop)


if __name__ == "__main__":
    main()
