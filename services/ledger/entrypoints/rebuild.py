"""`python -m ledger.entrypoints.rebuild AUDIT_URL`: fill an empty ledger database from the audit trail."""
import sys

from zfcommon.rebuild import main

from ..adapters.repository import apply, rebuild_batch

BATCH = 20_000     # events per transaction: the fold and the COPY pay per batch, not per event

if __name__ == "__main__":
    sys.exit(main("ledger", apply, apply_batch=rebuild_batch, batch=BATCH))
