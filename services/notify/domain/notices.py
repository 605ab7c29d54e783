"""Notices to units and complainants, pure: which notices an event causes, who at a unit gets them on
which channel, what the templates are given, when to try again, masking, and reading an SMS reply.

Units hear of work they must do (交办, 退回重办, 延期, each escalation step, a missed weekly report) by
email to every contact with an address, and by SMS as well for the kinds that cannot wait. A named
complainant hears by SMS that the case was handled (closed, or its dismissal accepted) and is asked for
a satisfaction rating (seed 001: 短信评议, for every handled case); the caller of a 12345 work order also
hears that it was received and is being handled. The complainant's number is never part of a decision
or a template: notify fetches it from intake only to send, and a complainant who left none gets
nothing (the notice is skipped, saying so; docs/NOTICES.md).
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from zfcommon import caseview, outsiders
from zfcommon.periods import quarter_label, week_label
from zfcommon.events import Event
from zfcommon.events.catalogue import ESCALATION_STEPS, HANDLING_MODES, LADDERS, SATISFACTION

from . import hotline

UNIT, COMPLAINANT, INSPECTED = "unit", "complainant", "inspected"   # INSPECTED: the party of an enforcement action
COMPLAINANT_RECIPIENT = "complainant"     # the recipient key of a complainant notice: never the number
STEP_ISSUED = "cn.zhengfeng.escalation.step_issued.v1"
WEEKLY_MISSED = "cn.zhengfeng.report.weekly_missed.v1"
WEEKLY_ESCALATED = "cn.zhengfeng.report.escalated.v1"
QUARTERLY_MISSED = "cn.zhengfeng.report.quarterly_missed.v1"
APPRAISAL_PUBLISHED = "cn.zhengfeng.appraisal.published.v1"
ENFORCEMENT_RECORDED = "cn.zhengfeng.enforcement.recorded.v1"
ERASED = caseview.case_type("complainant_erased")


@dataclass(frozen=True)
class Kind:
    audience: str
    title: str              # the notice's Chinese name (also the email's subject line prefix)
    urgent: bool = False    # units also get it by SMS


KINDS: dict[str, Kind] = {
    "case_assigned": Kind(UNIT, "交办通知", urgent=True),
    "rework_ordered": Kind(UNIT, "退回重办通知", urgent=True),
    "rehandling_ordered": Kind(UNIT, "重新办理通知", urgent=True),
    "extension_approved": Kind(UNIT, "延期申请审批结果通知"),
    "extension_denied": Kind(UNIT, "延期申请审批结果通知"),
    **{f"escalation_{step}": Kind(UNIT, title, urgent=True) for step, title in
       {"reminder": "到期提醒", "supervision_letter": "督办函", "admonishment_talk": "约谈通知",
        "bulletin_criticism": "通报批评", "accountability_proposal": "提请问责告知"}.items()},
    "weekly_missed": Kind(UNIT, "周报告催报通知", urgent=True),
    "weekly_escalated": Kind(UNIT, "周报告督办通知", urgent=True),
    "quarterly_missed": Kind(UNIT, "季度工作情况催报通知", urgent=True),
    "appraisal_published": Kind(UNIT, "民主评议结果通报"),
    "webhook_disabled": Kind(UNIT, "接口推送停用通知"),
    "complainant_received": Kind(COMPLAINANT, "受理告知"),
    "complainant_assigned": Kind(COMPLAINANT, "办理告知"),
    "complainant_closed": Kind(COMPLAINANT, "办结告知"),
    "visit_request": Kind(COMPLAINANT, "满意度回访"),
    "enforcement_rating_request": Kind(INSPECTED, "执法监督满意度评议"),
}
REPLY_KINDS = ("visit_request", "enforcement_rating_request")     # SMS whose replies come back with a code
assert set(f"escalation_{s}" for s in ESCALATION_STEPS) <= set(KINDS)
LETTER_KINDS = ("escalation_supervision_letter", "weekly_escalated")     # the notices a 督办函 goes out as
STATUSES = ("queued", "sent", "failed", "not_configured", "skipped", "unknown")
RETRYABLE = ("failed", "not_configured", "unknown")     # what the office may send again
# A complainant's reply to the visit request, by the digit the SMS names.
REPLY_DIGITS = {"1": "satisfied", "2": "basically_satisfied", "3": "unsatisfied"}
assert set(REPLY_DIGITS.values()) == set(SATISFACTION)


@dataclass(frozen=True)
class Wanted:
    """One notice an event calls for, before it is addressed: `unit` None means the complainant."""
    kind: str
    unit: str | None
    case_id: str | None
    context: dict[str, Any]


# -- what an event causes ------------------------------------------------------------------------
def _excerpt(text: str | None, length: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[:length - 1] + "…"


def case_context(case: Mapping[str, Any] | None, case_id: str | None) -> dict[str, Any]:
    """What every case notice's template may name: never the complainant (the view holds nothing of
    them) and only an excerpt of the lead's summary, as units read it (zfcommon.outsiders)."""
    view = (case or {}).get("view") or {}
    summary = outsiders.summary_of(view) if view.get("description") else None
    return {"case_id": case_id, "case_number": view.get("case_number"), "category": view.get("category"),
            "summary": _excerpt(summary),
            "subject_unit": view.get("subject_unit"), "lead_unit": view.get("lead_unit"),
            "deadline": view.get("deadline"), "handling_mode": HANDLING_MODES.get(view.get("handling_mode") or "")}


def _named_complainant(case: Mapping[str, Any]) -> bool:
    """Only a complainant who gave who they are (not anonymous) can hear from us."""
    return not case["view"].get("anonymous", True)


def _to_units(kind: str, units: Iterable[str], case_id: str | None, context: dict) -> list[Wanted]:
    return [Wanted(kind, u, case_id, {**context, "unit": u}) for u in dict.fromkeys(units) if u]


def _imported_history(event: Event, after: Mapping[str, Any]) -> bool:
    """A case an import brings over from an earlier ledger arrives with its history (assigned, closed …)
    in one transaction, every event at the time of its receipt: that history is news to nobody."""
    return ((after.get("origin") or {}).get("system") == "import") and event.time == after["received_at"]


def _case_notices(event: Event, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Wanted]:
    if _imported_history(event, after):
        return []
    ctx = {**case_context(after, event.subject), "order_no": hotline.order_number(after)}
    # Units read the event's free text as outsiders do: masked (notes, reasons, comments).
    lead, data, name = after["lead_unit"], outsiders.event_data(event.type, event.data), event.type.split(".")[3]
    out: list[Wanted] = []
    if name in ("assigned", "reassigned"):
        out += _to_units("case_assigned", [lead, *after["cooperating_units"]], event.subject,
                         {**ctx, "reassigned": name == "reassigned", "note": data.get("note"),
                          "sign_for_due": data["sign_for_due"]})
    elif name == "rework_ordered":
        out += _to_units("rework_ordered", [lead], event.subject,
                         {**ctx, "reason": data["reason"], "deadline": data["new_deadline"],
                          "rework_count": data["rework_count"]})
    elif name == "rehandling_ordered":
        out += _to_units("rehandling_ordered", [lead], event.subject,
                         {**ctx, "reason": data["reason"], "deadline": data["new_deadline"]})
    elif name == "extension_approved":
        out += _to_units("extension_approved", [lead], event.subject,
                         {**ctx, "previous_deadline": data["previous_deadline"], "deadline": data["new_deadline"],
                          "comment": data.get("comment")})
    elif name == "extension_denied":
        out += _to_units("extension_denied", [lead], event.subject, {**ctx, "reason": data["reason"]})
    if _named_complainant(after):
        out += _complainant_notices(name, before, after, ctx)
    return out


HANDLED = ("closed", "dismissal_accepted")     # the case is handled: the complainant is told and asked to rate


def _complainant_notices(name: str, before: Mapping[str, Any] | None, after: Mapping[str, Any],
                         ctx: dict) -> list[Wanted]:
    case_id = after["case_id"]
    if name in HANDLED:
        return [Wanted("complainant_closed", None, case_id, ctx), Wanted("visit_request", None, case_id, ctx)]
    if ctx["order_no"] is None:
        return []           # receipt and progress: only the 12345 hotline promised its callers those
    if name == "received":
        return [Wanted("complainant_received", None, case_id, ctx)]
    if name == "assigned" and (before is None or before["lead_unit"] is None):    # the first assignment only
        return [Wanted("complainant_assigned", None, case_id, ctx)]
    return []


def _step_issued(event: Event, case: Mapping[str, Any] | None) -> list[Wanted]:
    d = event.data
    ctx = {**case_context(case, event.subject), "step": ESCALATION_STEPS[d["step"]], "ladder": LADDERS[d["ladder"]],
           "due": d["due"], "overdue_days": d["working_days_overdue"], "round": d.get("round", 1),
           "handling_mode": HANDLING_MODES.get(d["handling_mode"]), "sign_for": d["ladder"] == "sign_for",
           "what": "签收" if d["ladder"] == "sign_for" else "办结",
           "document_number": _document_number(d), **_plan_context((case or {}).get("view") or {})}
    return _to_units(f"escalation_{d['step']}", [d["unit"]], event.subject, ctx)


# A task or a project stage on the ladder (zfcommon.ladderviews) is named as such, never as a case.
PLAN_NOUNS = {"task": ("任务", "完成"), "stage": ("重点项目审批阶段", "办结")}


def _plan_context(view: Mapping[str, Any]) -> dict[str, Any]:
    if view.get("kind") not in PLAN_NOUNS:
        return {}
    noun, what = PLAN_NOUNS[view["kind"]]
    return {"noun": noun, "what": what, "plan_title": view["title"], "case_ref": f"“{view['title']}”"}


def _document_number(data: Mapping[str, Any]) -> str | None:
    """The 文号 in an event's data: a supervision letter's, a published appraisal's (None: another step,
    or issued before numbering)."""
    return (data.get("document") or {}).get("number")


def _weekly_missed(event: Event, _: Any) -> list[Wanted]:
    d = event.data
    return _to_units("weekly_missed", [d["unit"]], None,
                     {"week": d["week"], "week_label": week_label(d["week"]), "due": d.get("due")})


def _weekly_escalated(event: Event, _: Any) -> list[Wanted]:
    d = event.data
    step = "提醒" if d["step"] == "reminder" else ESCALATION_STEPS[d["step"]]
    return _to_units("weekly_escalated", [d["unit"]], None,
                     {"week": d["week"], "week_label": week_label(d["week"]), "step": step,
                      "consecutive_missed": d["consecutive_missed"], "document_number": _document_number(d)})


def _quarterly_missed(event: Event, _: Any) -> list[Wanted]:
    d = event.data
    return _to_units("quarterly_missed", [d["unit"]], None,
                     {"quarter": d["quarter"], "quarter_label": quarter_label(d["quarter"]), "due": d.get("due")})


def _appraisal_published(event: Event, appraisal: Mapping[str, Any] | None) -> list[Wanted]:
    """Each unit appraised learns its own result once the results are published (通报): `appraisal` is
    the published round as notify keeps it (None: notify does not have it)."""
    if appraisal is None:
        return []
    data = appraisal["data"]
    ranked = sum(1 for u in data["units"] if u["ranked"])
    return [Wanted("appraisal_published", u["unit"], None, {
        "unit": u["unit"], "publication_title": event.data["title"], "ballots": u["ballots"], "score": u["score"],
        "satisfaction": u["satisfaction_rate"]["value"], "rank": u["rank"], "ranked_units": ranked,
        "key_unit": u["key_unit"], "min_ballots": data["round"]["min_ballots"],
        "document_number": _document_number(event.data)}) for u in data["units"]]


def _enforcement_recorded(event: Event, action: Mapping[str, Any] | None) -> list[Wanted]:
    """The party of an enforcement or supervision action is asked by SMS to rate it (短信评议): `action`
    is the request's context (domain.enforcement.request_context); None: notify no longer has it."""
    if action is None:
        return []
    return [Wanted("enforcement_rating_request", None, None, dict(action))]


NOT_CASE_EVENTS = {STEP_ISSUED: _step_issued, WEEKLY_MISSED: _weekly_missed, WEEKLY_ESCALATED: _weekly_escalated,
                   QUARTERLY_MISSED: _quarterly_missed, APPRAISAL_PUBLISHED: _appraisal_published,
                   ENFORCEMENT_RECORDED: _enforcement_recorded}


def decide(event: Event, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Wanted]:
    """The notices `event` calls for. `before`/`after` are the watched case around a case event (the
    case as it is, for an escalation step; None for a report event or a case notify never saw)."""
    if event.type in NOT_CASE_EVENTS:
        return NOT_CASE_EVENTS[event.type](event, after)
    if after is None or event.type not in caseview.CASE_TYPES:
        return []
    return _case_notices(event, before, after)


# -- who at a unit, on which channel -------------------------------------------------------------
@dataclass(frozen=True)
class Address:
    channel: str            # email | sms | wecom | dingtalk
    recipient: str          # the address or number (a unit contact's, on the directory); a robot: robot_recipient
    name: str | None


ROBOT_NAMES = {"wecom": "企业微信群机器人", "dingtalk": "钉钉群机器人"}


def robot_recipient(kind: str, unit: str) -> str:
    """The recipient key of a unit's group robot: never its address (a secret, kept sealed by intake)."""
    return f"{kind}:{unit}"


def robot_addresses(unit: str, robots: Iterable[str]) -> list[Address]:
    """Every kind of notice to a unit also goes to each group robot it has (WeCom, DingTalk): the
    unit's group reads what its contacts read by email."""
    return [Address(kind, robot_recipient(kind, unit), ROBOT_NAMES[kind]) for kind in ROBOT_NAMES if kind in robots]


def unit_addresses(kind: str, contacts: Iterable[Mapping[str, Any]]) -> list[Address]:
    """Email to every contact with an address; SMS to contacts with a phone when the notice is urgent
    or the contact has no email (so nobody listed is left out). Duplicates collapse."""
    urgent = KINDS[kind].urgent
    out: dict[tuple[str, str], Address] = {}
    for c in contacts:
        email, phone = (c.get("email") or "").strip(), (c.get("phone") or "").strip()
        if email:
            out.setdefault(("email", email.lower()), Address("email", email, c.get("name")))
        if phone and (urgent or not email):
            out.setdefault(("sms", normalise_phone(phone)), Address("sms", phone, c.get("name")))
    return list(out.values())


# Why a unit's notice found nobody (the skipped row's last_error, so the office sees whom it could not reach).
UNREACHABLE = {"unknown": "the unit is not in the directory", "inactive": "the unit is inactive in the directory",
               "no_contact": "the directory lists no email or phone for the unit's contacts, and no group robot"}


def unreachable_recipient(unit: str) -> str:
    """The recipient key of a unit's notice that found nobody to go to."""
    return f"unit:{unit}"


def addressed(wanted: Wanted, unit: Mapping[str, Any] | None, event_id: str, event_type: str,
              now: Any) -> list[dict[str, Any]]:
    """The notice rows of `wanted`, one per recipient; `unit` is its unit's directory entry (None: not
    in the directory; not read for a complainant's notice). A unit nobody can be told about still gets
    a row, skipped with the reason, so the office sees whom a notice could not reach."""
    base = {"kind": wanted.kind, "case_id": wanted.case_id, "event_id": event_id, "event_type": event_type,
            "context": wanted.context, "now": now, "status": "queued", "last_error": None, "masked_to": None,
            "unit": wanted.unit, "contact_name": None}
    if KINDS[wanted.kind].audience == INSPECTED:
        return [{**base, "channel": "sms", "audience": INSPECTED, "recipient": inspected_recipient(wanted.context)}]
    if wanted.unit is None:
        return [{**base, "channel": "sms", "audience": COMPLAINANT, "recipient": COMPLAINANT_RECIPIENT}]
    addresses = (unit_addresses(wanted.kind, unit["contacts"]) + robot_addresses(wanted.unit, unit["robots"])
                 if unit and unit["active"] else [])
    if not addresses:
        why = "unknown" if unit is None else "inactive" if not unit["active"] else "no_contact"
        return [{**base, "channel": "email", "audience": UNIT, "recipient": unreachable_recipient(wanted.unit),
                 "status": "skipped", "last_error": UNREACHABLE[why]}]
    return [{**base, "channel": a.channel, "audience": UNIT, "recipient": a.recipient,
             "masked_to": a.recipient, "contact_name": a.name} for a in addresses]


def inspected_recipient(context: Mapping[str, Any]) -> str:
    """The recipient key of the party of an action: the action, never the number."""
    return f"inspected:{context['action_id']}"


# -- phones ----------------------------------------------------------------------------------------
def normalise_phone(phone: str) -> str:
    """Digits only, without China's country code: how two spellings of one number compare equal."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone or ""))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def mask_phone(phone: str) -> str:
    """138****1234: enough to tell two deliveries apart, never enough to call anyone."""
    digits = normalise_phone(phone)
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"


# -- SMS length ------------------------------------------------------------------------------------
def sms_segments(text: str) -> int:
    """How many SMS parts `text` takes: 160/153 GSM characters, or 70/67 UCS-2 units once any Chinese
    character is in it (a character outside the BMP takes two units)."""
    if all(ord(ch) < 128 for ch in text):
        single, part, units = 160, 153, len(text)
    else:
        single, part, units = 70, 67, sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return 1 if units <= single else math.ceil(units / part)


# -- sending and retries ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What one attempt to hand a message to the SMTP server or the SMS gateway came to."""
    ok: bool
    permanent: bool = False         # refused for good: trying again cannot help
    message_id: str | None = None   # the provider's id (the Message-ID for email)
    error: str | None = None
    duration_ms: int = 0


@dataclass(frozen=True)
class Verdict:
    status: str             # sent | queued (try again after `delay`) | failed
    delay: float | None = None


def verdict(ok: bool, permanent: bool, attempts: int, schedule: tuple[float, ...]) -> Verdict:
    """After attempt number `attempts` (1-based): sent, or tried again after the schedule's next delay,
    or failed for good (a permanent refusal, or the schedule is used up)."""
    if ok:
        return Verdict("sent")
    if permanent or attempts > len(schedule):
        return Verdict("failed")
    return Verdict("queued", schedule[attempts - 1])


def parse_schedule(raw: str) -> tuple[float, ...]:
    """'60,300,1800' → the delays after the first, second, third failed attempt; ValueError if not."""
    delays = tuple(float(x) for x in re.split(r"[,\s]+", raw.strip()) if x)
    if any(d < 0 or math.isnan(d) for d in delays):
        raise ValueError("delays are seconds, zero or more")
    return delays


# -- replies to the visit request --------------------------------------------------------------------
def reply_code(notice_id: int) -> str:
    """The code a visit request's replies come back with (the gateway's extension number, or typed
    after the digit): the notice's own id, so codes never collide."""
    return f"{notice_id:04d}"


@dataclass(frozen=True)
class Reply:
    satisfaction: str | None     # None: no rating could be read
    notice_id: int | None        # None: no code


_WORDS = (("不满意", "unsatisfied"), ("基本满意", "basically_satisfied"), ("满意", "satisfied"))


def parse_reply(text: str, ext: str | None) -> Reply:
    """A reply such as '1', '１', '3 不满意', '2 0042' or '满意': the rating by its digit or word, and
    the code from the gateway's extension or a number of four digits or more in the text."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    numbers = re.findall(r"\d+", text)
    digits = [n for n in numbers if n in REPLY_DIGITS]
    satisfaction = REPLY_DIGITS[digits[0]] if digits else next((s for w, s in _WORDS if w in text), None)
    code = (ext or "").strip() or next((n for n in numbers if len(n) >= 4), "")
    return Reply(satisfaction, int(code) if re.fullmatch(r"[0-9]{1,18}", code) else None)


