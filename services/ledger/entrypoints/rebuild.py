"""`python -m ledger.entrypoints.rebuild AUDIT_URL`: fill an empty ledger database from the audit trail."""
from zfcommon.events.catalogue import CASE_TOPIC
from zfcommon.rebuild import by_subject, main
from zfcommon.settings import run_entrypoint

from ..adapters.repository import apply, rebuild_batch

BATCH = 20_000     # events per transaction: the fold and the COPY pay per batch, not per event
# In parallel (zfcommon.rebuild.rebuild_in_parallel): a case event reads and writes only its case's
# rows (cases, case_events) and adds to unit_month_figures in key order; the other events (directory,
# plans, escalations, accountability) never read the cases, and a case event reads nothing of theirs.
# So each case goes to one worker, and all the others, in their order, to one worker: no barriers.
ROUTE = by_subject([CASE_TOPIC], others="")

if __name__ == "__main__":
    run_entrypoint(main, "ledger", apply, apply_batch=rebuild_batch, batch=BATCH, route=ROUTE,
                   parses_arguments=True)
