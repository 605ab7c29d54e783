"""A case's statuses on the ledger, their Chinese labels, and which of them are still open."""
from __future__ import annotations

from zfcommon.caseview import STATUS_LABELS

STATUSES = tuple(STATUS_LABELS)
OPEN = ("received", "assigned", "returned", "in_progress", "rectification_reported", "dismissal_reported")
# A deadline runs from assignment until the office signs the case off or accepts the dismissal. A case
# not yet assigned has none; a returned case waits for the office to assign it anew.
DEADLINE_RUNNING = tuple(s for s in OPEN if s not in ("received", "returned"))
AWAITING_SIGN_FOR = "assigned"
