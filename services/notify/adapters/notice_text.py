"""Notices as people read them: one Jinja2 template per kind in notify/templates/notices/, each with
three blocks — `subject` and `email` for the email, `sms` for the short text (the gateway adds the
office's 【签名】 in front). Plain text, so no autoescaping here: the console, which shows a notice's
text on its pages (`reading`), escapes it as it escapes everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined

from zfcommon.trackingcode import TrackingKey
from zfcommon.workdays import local_date

from ..domain import notices
from .columns import cn_date

_env = Environment(loader=PackageLoader("notify", "templates"), autoescape=False, trim_blocks=True,
                   lstrip_blocks=True, undefined=StrictUndefined, keep_trailing_newline=True)
_env.filters["cn_date"] = lambda v: "" if v in (None, "") else cn_date(v)


@dataclass(frozen=True)
class Text:
    subject: str
    email: str
    sms: str
    segments: int           # SMS parts of the text as it reaches the phone, signature included


# The notices that give the complainant the 查询码: on receipt (hotline callers), and when handled (any
# complainant who left a number: the reply is there to read now).
TRACKED = ("complainant_received", "complainant_closed")


def _block(template, name: str, context: Mapping[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(dict(context)))).strip()


def render(kind: str, context: Mapping[str, Any], *, office: str, case_link: str, today: date,
           paper: bool = False, tracking: TrackingKey | None = None) -> Text:
    """The notice of `kind` for `context` (domain.notices.decide's). `case_link` is a format string
    with {case_id}; `office` signs emails and SMS. `paper`: read on a page or on paper, not received
    as an e-mail (no link, and nothing about replying to an e-mail)."""
    case_id = context.get("case_id")
    full = {"link": None, "order_no": None, "case_number": None, "noun": "案件", "plan_title": None, "case_ref": None,
            "document_number": None, **context, "title": notices.KINDS[kind].title, "office": office, "today": today,
            "on_paper": paper}
    # What people call the case: its number; a notice queued before case numbers, its id's first 8 digits;
    # a task or a project stage, its title (domain.notices.plan_context).
    full["case_ref"] = full["case_ref"] or full["case_number"] or (case_id or "")[:8]
    # A hotline caller knows the hotline's order number; any other complainant the case number.
    full["complainant_ref"] = f"工单{full['order_no']}" if full["order_no"] else f"案件{full['case_ref']}"
    # With the number the complainant holds, the 查询码 tracks the case on the public page.
    full["tracking_code"] = tracking.code_for(case_id) if tracking and case_id and kind in TRACKED else None
    if case_id and case_link and not paper:
        full["link"] = case_link.format(case_id=case_id)
    template = _env.get_template(f"notices/{kind}.txt")
    sms = _block(template, "sms", full)
    return Text(_block(template, "subject", full), _block(template, "email", full) + "\n", sms,
                notices.sms_segments(f"【{office}】{sms}"))


def reading(kind: str, context: Mapping[str, Any], created_at: datetime, *, office: str,
            tracking: TrackingKey | None = None) -> dict[str, str] | None:
    """A notice in full as its e-mail reads (a complainant's: its SMS), dated the day it was queued,
    whether or not a channel carried it, and worded for a page or paper (no link, nothing about
    replying to an e-mail): what the unit reads on the console, and what the office prints. None if its
    template cannot render it (a bug, logged by the sender when it tries)."""
    try:
        text = render(kind, context, office=office, case_link="", today=local_date(created_at), paper=True,
                      tracking=tracking)
    except Exception:
        return None
    return {"subject": text.subject, "body": text.email}
