"""`python -m notify.entrypoints.rebuild AUDIT_URL`: fill an empty notify database from the audit trail."""
import sys

from zfcommon.rebuild import by_case, main

from ..adapters.repository import apply, apply_batch

BATCH = 5_000      # events per transaction: 500 → 5,000 took a rebuild from ~12,000 to ~15,000 events/s; more gains nothing
# In parallel (zfcommon.rebuild.rebuild_in_parallel): a case event reads and writes only its case's
# rows (watched_cases, escalation_checks), so each case goes to one worker. The other events may read
# watched cases (an escalation step, a report, a publication), so each is a barrier: applied once
# everything before it is written, before anything after it.
ROUTE = by_case(others=None)

if __name__ == "__main__":
    sys.exit(main("notify", apply, apply_batch=apply_batch, batch=BATCH, route=ROUTE))
