"""`python -m notify.entrypoints.scheduler`: issues escalation steps as the clock crosses their
thresholds (docs/ESCALATION.md), flags missed weekly reports and draws the monthly spot checks
(docs/REPORTS.md), every ZF_ESCALATION_SECONDS, until SIGTERM/SIGINT.

Safe to kill at any moment and to run twice: each case is decided and appended in one transaction at
the stream version it was decided on (notify.service_layer.escalate), so a killed pass leaves nothing
half done and a second scheduler's duplicate decision fails on the store's unique index.

Never dies of what it reads: a case, a unit or a configuration it cannot process is skipped, logged
with its reason and counted (`zf_scheduler_skipped_total{item}`), and the rest of the pass goes on;
a whole part that fails (the escalations or the reports) is skipped the same way until the next pass.
"""
from __future__ import annotations

import logging
import signal
import threading
import time

import psycopg
from prometheus_client import Counter
from psycopg_pool import PoolTimeout

from zfcommon import db, jwks, logs, metrics
from zfcommon.clock import Clock, clock_for
from zfcommon.settings import Settings, run_entrypoint

from ..adapters.intake_client import IntakeClient
from ..domain import document
from ..service_layer import enforcement, escalate, reports
from ..service_layer.uow import UnitOfWork

log = logging.getLogger(__name__)
APPENDED = Counter("zf_escalation_events_total", "Escalation events the scheduler appended (steps and stops)")
FORGOTTEN = Counter("zf_enforcement_numbers_forgotten_total",
                    "Parties' numbers deleted once their rating requests expired (短信评议)")
REPORTED = Counter("zf_report_events_total", "Report events the scheduler appended (missed weeks, steps, draws)")


class Every:
    """Whether a part that need not run every pass (every `interval` seconds) is due again."""

    def __init__(self, seconds: float):
        self.seconds, self.last = seconds, None

    def due(self) -> bool:
        now = time.monotonic()
        if self.last is not None and now - self.last < self.seconds:
            return False
        self.last = now
        return True


# An expired number waits up to a minute more: one statement a minute instead of one a pass (idle cost).
FORGET_NUMBERS = Every(60.0)

# Each part of a pass: (name, part(uow, clock, open_case, office) -> events appended, the counter of those,
# whether it is due this pass).
PARTS = (("escalations", lambda uow, clock, open_case, office: escalate.run_once(uow, clock, open_case=open_case,
                                                                                 office=office), APPENDED, Every(0).due),
         ("weekly_reports", lambda uow, clock, open_case, office: reports.run_once(uow, clock, office), REPORTED,
          Every(0).due),
         # the numbers of enforcement actions' parties whose rating requests can no longer be answered
         ("enforcement_contacts", lambda uow, clock, open_case, office: enforcement.forget_expired(uow, clock.now()),
          FORGOTTEN, FORGET_NUMBERS.due))


def run_pass(pool, clock: Clock, open_case: escalate.OpenCase | None = None,
             office: document.Office | None = None) -> None:
    """One pass of every part, each in its own unit of work: one that fails is logged and counted, and
    the next part (and the next pass) still runs."""
    for name, part, counter, due in PARTS:
        if not due():
            continue
        try:
            with UnitOfWork(pool) as uow:
                counter.inc(part(uow, clock, open_case, office))
        except (psycopg.OperationalError, PoolTimeout) as exc:
            log.warning("database_unavailable", extra={"part": name, "error": str(exc)[:300]})
        except Exception:
            metrics.SCHEDULER_SKIPPED.labels(name).inc()
            log.exception("scheduler_part_failed", extra={"part": name})


def run(database_url: str, clock: Clock, interval: float, stop: threading.Event,
        open_case: escalate.OpenCase | None = None, office: document.Office | None = None) -> None:
    pool = db.make_pool(database_url, max_size=1, name="notify-scheduler")
    pool.open()
    log.info("escalation_scheduler_started", extra={"interval": interval})
    try:
        while not stop.is_set():
            run_pass(pool, clock, open_case, office)
            stop.wait(interval)
    finally:
        pool.close()


def main() -> None:
    settings = Settings.from_env("notify")
    logs.configure("notify-scheduler", settings.log_level)
    office = document.office_from(settings)          # a bad 文号 pattern stops the start
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    intake = IntakeClient(settings.intake_url, jwks.signer(settings))      # project stages past their grace
    run(settings.database_url, clock_for(settings.clock_file), settings.escalation_seconds, stop,
        intake.open_stage_case, office)


if __name__ == "__main__":
    run_entrypoint(main)
