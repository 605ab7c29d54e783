"""A case's statuses on the ledger, their Chinese labels, and which of them are still open."""
from __future__ import annotations

STATUS_LABELS = {
    "received": "已受理",
    "assigned": "已交办",
    "returned": "已退回",
    "in_progress": "整改中",
    "rectification_reported": "已报整改",
    "dismissal_reported": "已报查否",
    "closed": "已销号",
    "dismissed": "已查否",
    "merged": "已并单",
}
STATUSES = tuple(STATUS_LABELS)
OPEN = ("received", "assigned", "returned", "in_progress", "rectification_reported", "dismissal_reported")
# A deadline runs from assignment until the office signs the case off or accepts the dismissal. A case
# not yet assigned has none; a returned case waits for the office to assign it anew.
DEADLINE_RUNNING = tuple(s for s in OPEN if s not in ("received", "returned"))
AWAITING_SIGN_FOR = "assigned"
