"""`python -m ledger.entrypoints.rebuild AUDIT_URL`: fill an empty ledger database from the audit trail."""
import sys

from zfcommon.rebuild import main

from ..adapters.repository import apply, apply_batch

if __name__ == "__main__":
    sys.exit(main("ledger", apply, apply_batch=apply_batch))
