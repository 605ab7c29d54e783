"""What a complainant may read of their own case with the receipt number they were given (受理回执): its
status in public wording, its dates and, once it is closed, the handling unit's reply with personal data
removed — nothing else: no units, no people, no description. Pure."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Mapping

from zfcommon.workdays import local_date

# What the public reads for each status: no internal step (assigned, returned, reported) shows through.
PUBLIC_STATUS = {"received": "已受理", "assigned": "办理中", "returned": "办理中", "in_progress": "办理中",
                 "rectification_reported": "办理中", "dismissal_reported": "办理中", "closed": "已办结",
                 "dismissed": "已办结", "merged": "已与同类问题合并办理"}
FINISHED = ("closed", "dismissed")
RECEIPT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{5,63}$")


def receipt(raw: str | None) -> str | None:
    """A receipt number as typed (case id, case number or hotline order number), or None if it cannot be one."""
    value = (raw or "").strip()
    return value if RECEIPT.fullmatch(value) else None


def _day(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return local_date(value) if isinstance(value, datetime) else value


def answer(row: Mapping[str, Any], *, with_reply: bool) -> dict[str, Any]:
    """`with_reply`: the case's 查询码 was given, so a closed case shows the unit's reply; without it,
    `reply_held` says there is one to see."""
    view = row["view"] or {}
    finished = row["status"] in FINISHED
    # The watch keeps the last report as outsiders read it (zfcommon.outsiders: the complainant's
    # identity and personal data masked when it was written), so it is the public's reply as it stands.
    reply = row.get("last_report") if finished else None
    return {"status": PUBLIC_STATUS.get(row["status"], "办理中"), "finished": finished,
            "received_on": _day(row["received_at"]), "closed_on": _day(view.get("closed_at")) if finished else None,
            "deadline": _day(view.get("deadline")) if not finished and row["status"] != "received" else None,
            "reply": reply if with_reply else None, "reply_held": bool(reply) and not with_reply}
