"""`python -m audit.entrypoints.signer`: signs a tree head at least once a second while the trail
grows (nothing to sign while it does not), and reconciles the trail with the event stores of intake
and notify every ZF_RECONCILE_SECONDS."""
from __future__ import annotations

import signal
import threading
import time

import psycopg

from zfcommon import db, logs
from zfcommon.settings import Settings, run_entrypoint

from ..adapters import heads
from ..service_layer.reconcile import run_reconciliation


def main() -> None:
    settings = Settings.from_env("audit")
    logs.configure("audit-signer", settings.log_level)
    key = heads.load_signing_key(settings.signing_key)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # Every half second while the trail grows, every second once it stopped (an idle signer's check
    # is most of what it costs): a head is signed within a second of the trail growing either way.
    conn, next_reconciliation, signed = None, time.monotonic() + 30, None
    while not stop.wait(0.5 if signed else 1.0):
        try:
            if conn is None or conn.closed or conn.broken:
                conn = db.connect(settings.database_url)
                key_id = heads.register_key(conn, settings.log_origin, key)
                conn.commit()
            signed = heads.sign_if_grown(conn, settings.log_origin, key, key_id)
            conn.commit()
            if signed:
                heads.log.info("tree_head_signed", extra={"tree_size": signed["tree_size"]})
            if time.monotonic() >= next_reconciliation:
                next_reconciliation = time.monotonic() + settings.reconcile_seconds
                for result in run_reconciliation(conn, settings)["sources"]:
                    if result["error"]:          # that store is unreachable: the others were reconciled
                        heads.log.warning("reconciliation_failed", extra={"source": result["source"],
                                                                         "error": result["error"]})
                        continue
                    level = heads.log.warning if result["missing"] or result["extra"] or result["differing"] \
                        else heads.log.info
                    level("reconciled", extra={k: result[k] for k in
                                               ("source", "streams", "missing", "extra", "differing")})
        except psycopg.OperationalError as exc:
            heads.log.warning("database_unavailable", extra={"error": str(exc)})
            conn = None


if __name__ == "__main__":
    run_entrypoint(main)
