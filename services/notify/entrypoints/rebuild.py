"""`python -m notify.entrypoints.rebuild AUDIT_URL`: fill an empty notify database from the audit trail."""
from zfcommon.events.catalogue import CASE_TOPIC, ESCALATION_TOPIC
from zfcommon.rebuild import by_subject, main
from zfcommon.settings import run_entrypoint

from ..adapters.repository import apply, apply_batch

BATCH = 5_000      # events per transaction: 500 → 5,000 took a rebuild from ~12,000 to ~15,000 events/s; more gains nothing
# In parallel (zfcommon.rebuild.rebuild_in_parallel): a case event reads and writes only its case's
# rows (watched_cases, escalation_checks); an escalation event (a step, a stop, the thresholds) only
# its subject's (the ladders and history of its case, task or stage, its stream in notify's own
# store) and a mark keyed by its own id. So each subject goes to one worker. The other events may
# read watched cases (a report, a publication) or write what many subjects share (the directory, the
# calendar), so each is a barrier: applied once everything before it is written, before anything
# after it.
ROUTE = by_subject([CASE_TOPIC, ESCALATION_TOPIC], others=None)

if __name__ == "__main__":
    run_entrypoint(main, "notify", apply, apply_batch=apply_batch, batch=BATCH, route=ROUTE,
                   parses_arguments=True)
