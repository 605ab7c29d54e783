"""Commands on a case and the state machine (docs/STATE-MACHINE.md). Pure: decide() returns events.

Checks run in a fixed order: the actor's role (403), the case's state (409, naming the state and the
commands allowed in it), then the command's content (422, naming the field).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from zfcommon import outsiders, redaction
from zfcommon.events.catalogue import REDACTION_KINDS
from zfcommon.workdays import CalendarGap

from .case import COMMAND_LABELS, OPEN, TERMINAL, Case, InvalidCommand, NewEvent, NotYourCase, TransitionRefused
from .directory import Directory
from .recheck import recheck_draw

CASE = "cn.zhengfeng.case."
ACCOUNTABILITY = "cn.zhengfeng.accountability.recorded.v1"


@dataclass(frozen=True)
class Actor:
    role: str
    unit: str | None = None
    name: str = ""


@dataclass(frozen=True)
class Context:
    today: date
    directory: Directory
    actor: Actor
    nonce: str = ""                       # randomness for the re-check draw
    new_id: Callable[[], str] = lambda: ""  # ids of new streams (accountability records)
    identity: redaction.Identity | None = None   # the case's complainant, opened to mask free text; never stored


@dataclass(frozen=True)
class Rule:
    states: tuple[str, ...]
    who: str                                 # office | lead | unit (lead or cooperating) | visit
    guard: Callable[[Case], bool] = lambda c: True
    why: str = ""


RULES: dict[str, Rule] = {
    "assign": Rule(("received", "returned"), "office"),
    "reassign": Rule(("assigned", "returned", "in_progress"), "office"),
    "merge": Rule(("received", "assigned", "returned"), "office"),
    "accept": Rule(("assigned",), "lead"),
    "return": Rule(("assigned",), "lead"),
    "note_progress": Rule(("in_progress",), "unit"),
    "request_extension": Rule(("in_progress",), "lead", lambda c: not c.extension_pending,
                              "已有一项延期申请待正风办审批"),
    "approve_extension": Rule(("in_progress",), "office", lambda c: c.extension_pending, "没有待审批的延期申请"),
    "deny_extension": Rule(("in_progress",), "office", lambda c: c.extension_pending, "没有待审批的延期申请"),
    "report_rectified": Rule(("in_progress",), "lead"),
    "report_not_substantiated": Rule(("in_progress",), "lead"),
    "close": Rule(("rectification_reported",), "office"),
    "order_rework": Rule(("rectification_reported", "dismissal_reported"), "office"),
    "accept_dismissal": Rule(("dismissal_reported",), "office"),
    "choose_recheck": Rule(("dismissed",), "office", lambda c: not c.recheck_pending and not c.rechecked,
                           "这一查否已列入复查（抽中或已选定）或已经复查，无需再选"),
    "record_recheck": Rule(("dismissed",), "office", lambda c: c.recheck_pending,
                           "此查否件未被抽中或选定复查，或已记录过复查结果"),
    # Seed 001 asks for the complainant's rating of any handled case, whatever channel it came by.
    "record_return_visit": Rule(("closed", "dismissed"), "visit"),
    "order_rehandling": Rule(("closed",), "office", lambda c: c.last_satisfaction == "unsatisfied",
                             "只有回访不满意的案件才能责令重办"),
    # What units, channels and the public read of the lead, in every state (docs/PRIVACY.md).
    "correct_summary": Rule(OPEN + TERMINAL, "office"),
}
# Commands that record a fact about a case without moving it through the state machine, so they are
# not among its allowed_commands (docs/CAMPAIGNS.md): it joins a campaign (or leaves it); the office
# dismisses a duplicate suggestion (并单建议) for a case that could still be merged.
NOTES: dict[str, Rule] = {
    "set_campaign": Rule(OPEN + TERMINAL, "office"),
    "dismiss_duplicate": Rule(("received", "assigned", "returned"), "office"),
}


def allowed_commands(case: Case) -> list[str]:
    return [name for name, r in RULES.items() if case.status in r.states and r.guard(case)]


def permitted_commands(case: Case, actor: Actor) -> list[str]:
    """The commands allowed now that this actor may issue (its role, and for a unit whether it leads or
    cooperates): what a client should offer the person, no more — the state machine's, then the notes
    (joining a campaign, dismissing a duplicate suggestion) the case's state admits."""
    permitted = []
    notes = [name for name, rule in NOTES.items() if case.status in rule.states]
    for name in allowed_commands(case) + notes:
        try:
            check(case, name, actor)
        except (NotYourCase, TransitionRefused):
            continue
        permitted.append(name)
    return permitted


def preview_assignment(directory: Directory, today: date, mode: str, priority: str) -> dict[str, Any]:
    """The deadline and sign-for day `assign` would set today without an explicit deadline (the same
    rule); InvalidCommand naming the field when the calendar cannot count that far."""
    ctx = Context(today=today, directory=directory, actor=Actor("office"))
    deadline, basis = _deadline(ctx, mode, priority, None)
    return {"from_date": today, "handling_mode": mode, "priority": priority,
            "working_days": basis["working_days"], "deadline": deadline,
            "sign_for_days": directory.sign_for_days,
            "sign_for_due": _add(ctx, directory.sign_for_days, "sign_for_due")}


def check(case: Case, command: str, actor: Actor) -> None:
    rule, label = RULES.get(command) or NOTES[command], COMMAND_LABELS[command]
    if rule.who == "office" and actor.role != "office":
        raise NotYourCase(f"只有正风办可以{label}")
    if rule.who in ("lead", "unit") and actor.role != "office":
        if actor.role != "unit":
            raise NotYourCase(f"只有承办此案件的单位可以{label}")
        if not (actor.unit == case.lead_unit if rule.who == "lead" else case.is_unit_of(actor.unit)):
            raise NotYourCase(f"{actor.unit}不是此案件的{'牵头' if rule.who == 'lead' else '承办'}单位，不能{label}")
    if rule.who == "visit" and actor.role not in ("office", "channel"):
        raise NotYourCase("回访由正风办或12345热线记录")
    if case.status not in rule.states or not rule.guard(case):
        why = "" if case.status not in rule.states else rule.why
        raise TransitionRefused(case, command, allowed_commands(case), why)


def _deadline(ctx: Context, mode: str, priority: str, explicit: date | None,
              field: str = "deadline", recorded: bool = False) -> tuple[date, dict[str, Any]]:
    if explicit is not None and recorded:     # an earlier ledger's deadline (import): it may have passed
        return explicit, {"rule": "recorded", "from_date": ctx.today.isoformat(), "working_days": None}
    if explicit is not None:
        if explicit <= ctx.today:
            raise InvalidCommand({field: [f"须晚于今天（{ctx.today.isoformat()}）"]}, code="case.deadline_not_future")
        return explicit, {"rule": "explicit", "from_date": ctx.today.isoformat(), "working_days": None}
    days = ctx.directory.limits[mode][priority]
    return _add(ctx, days, field), {"rule": "limit", "from_date": ctx.today.isoformat(), "working_days": days}


def _add(ctx: Context, days: int, field: str) -> date:
    try:
        return ctx.directory.calendar().add_working_days(ctx.today, days)
    except CalendarGap as exc:
        raise InvalidCommand({field: [f"{exc}；也可以直接给出 {field}"]}, code="calendar.year_missing",
                             missing_years=exc.years) from None


def _assignment(case: Case, args: dict[str, Any], ctx: Context) -> dict[str, Any]:
    errors = {**ctx.directory.check_units("lead_unit", [args["lead_unit"]]),
              **ctx.directory.check_units("cooperating_units", args.get("cooperating_units", []))}
    if args["lead_unit"] in args.get("cooperating_units", []):
        errors.setdefault("cooperating_units", []).append("牵头单位不能同时作为配合单位")
    if errors:
        raise InvalidCommand(errors)
    deadline, basis = _deadline(ctx, args["handling_mode"], case.priority, args.get("deadline"),
                                recorded=args.get("recorded", False))
    return {"lead_unit": args["lead_unit"], "cooperating_units": list(args.get("cooperating_units", [])),
            "handling_mode": args["handling_mode"], "deadline": deadline.isoformat(), "deadline_basis": basis,
            "sign_for_due": _add(ctx, ctx.directory.sign_for_days, "sign_for_due").isoformat(),
            "note": args.get("note")}


def _reopen_deadline(case: Case, args: dict[str, Any], ctx: Context) -> str:
    return _deadline(ctx, case.handling_mode or "deadline", case.priority, args.get("new_deadline"),
                     "new_deadline")[0].isoformat()


def _event(name: str, data: dict[str, Any], stream: str | None = None) -> list[NewEvent]:
    return [NewEvent(f"{CASE}{name}.v1", data, stream)]


def decide(case: Case, command: str, args: dict[str, Any], ctx: Context, target: Case | None = None) -> list[NewEvent]:
    """The events that `command` with `args` produces on `case`, their free text masked for outsiders
    with the complainant's identity (zfcommon.outsiders); raises a DomainError otherwise."""
    check(case, command, ctx.actor)
    return [NewEvent(e.type, outsiders.with_masks(e.type, e.data, ctx.identity), e.stream)
            if e.type.startswith(CASE) else e for e in _decide(case, command, args, ctx, target)]


def checked_summary(text: str, identity: redaction.Identity | None) -> str:
    """A summary the office wrote: it must hold neither the complainant's identity nor personal data the
    patterns find, or it would show outsiders what the masking hides (422 naming what, masked)."""
    found = redaction.scan(text, identity)
    if found:
        raise InvalidCommand({"summary": [f"含有{REDACTION_KINDS[f.kind]}：{f.masked}" for f in found]},
                             detail="摘要中仍有投诉人身份或个人信息，请删除后再提交", code="case.summary_not_masked")
    return text


def _decide(case: Case, command: str, args: dict[str, Any], ctx: Context, target: Case | None) -> list[NewEvent]:
    unit = {"unit": ctx.actor.unit or case.lead_unit}
    if command == "assign":
        return _event("assigned", _assignment(case, args, ctx))
    if command == "reassign":
        return _event("reassigned", {**_assignment(case, args, ctx), "reason": args["reason"],
                                     "previous_lead_unit": case.lead_unit or ""})
    if command == "accept":
        return _event("accepted", {**unit, "on_time": ctx.today <= case.sign_for_due})
    if command == "return":
        return _event("returned", {**unit, "reason": args["reason"]})
    if command == "note_progress":
        return _event("progress_noted", {**unit, "note": args["note"]})
    if command == "request_extension":
        if args["requested_deadline"] <= max(case.deadline or ctx.today, ctx.today):
            raise InvalidCommand({"requested_deadline": ["须晚于当前整改时限和今天"]}, code="case.deadline_not_later")
        return _event("extension_requested", {**unit, "reason": args["reason"],
                                              "requested_deadline": args["requested_deadline"].isoformat()})
    if command == "approve_extension":
        new = args.get("new_deadline") or case.requested_deadline
        if new <= max(case.deadline, ctx.today):
            raise InvalidCommand({"new_deadline": ["须晚于当前整改时限和今天"]}, code="case.deadline_not_later")
        return _event("extension_approved", {"previous_deadline": case.deadline.isoformat(),
                                             "new_deadline": new.isoformat(), "comment": args.get("comment")})
    if command == "deny_extension":
        return _event("extension_denied", {"reason": args["reason"]})
    if command in ("report_rectified", "report_not_substantiated"):
        name = "rectification_reported" if command == "report_rectified" else "dismissal_reported"
        return _event(name, {**unit, "text": args["text"], "attachments": args.get("attachments", [])})
    if command == "close":
        on_time = ctx.today <= case.deadline
        # An import signs off what an earlier ledger closed: after a passed deadline, when is unknown.
        return _event("closed", {"comment": args.get("comment"),
                                 "on_time": None if args.get("recorded") and not on_time else on_time})
    if command == "order_rework":
        return _event("rework_ordered", {"reason": args["reason"], "new_deadline": _reopen_deadline(case, args, ctx),
                                         "rework_count": case.rework_count + 1})
    if command == "accept_dismissal":
        return _event("dismissal_accepted", {"comment": args.get("comment"), "recheck": recheck_draw(
            case.case_id, ctx.nonce, ctx.directory.recheck_ratio)})
    if command == "choose_recheck":
        # The office's own choice, beside the random draw: who chose the case and why, on the record.
        return _event("recheck_chosen", {"reason": args["reason"], "chosen_by": ctx.actor.name})
    if command == "record_recheck":
        if args["outcome"] == "upheld":
            return _event("recheck_upheld", {"findings": args["findings"]})
        record = ctx.new_id()
        return _event("recheck_overturned", {"findings": args["findings"], "accountability_id": record,
                                             "new_deadline": _reopen_deadline(case, args, ctx)}) + [
            NewEvent(ACCOUNTABILITY, {"measure": args.get("measure") or "criticism_education",
                                      "target_kind": "unit", "target": case.lead_unit, "unit": case.lead_unit,
                                      "basis_cases": [case.case_id], "decided_by": ctx.actor.name,
                                      "reason": f"查否复查发现问题属实: {args['findings']}"}, record)]
    if command == "record_return_visit":
        return _event("return_visit_recorded", {"satisfaction": args["satisfaction"], "comment": args.get("comment")})
    if command == "order_rehandling":
        return _event("rehandling_ordered", {"reason": args["reason"],
                                             "new_deadline": _reopen_deadline(case, args, ctx)})
    if command == "correct_summary":
        return _event("summary_corrected", {"summary": checked_summary(args["summary"], ctx.identity)})
    if command == "set_campaign":
        # The handler loaded the campaign named (None: none was named, or no campaign has that id).
        campaign_id, campaign = args.get("campaign_id"), args.get("campaign")
        if campaign_id is not None and (campaign is None or not campaign.exists):
            raise InvalidCommand({"campaign_id": [f"没有这个专项行动：{campaign_id}"]}, code="campaign.not_found")
        if campaign_id == case.facts.get("campaign_id"):
            raise InvalidCommand({"campaign_id": ["案件已属于该专项行动" if campaign_id else "案件不属于任何专项行动"]},
                                 code="case.campaign_unchanged")
        return _event("campaign_set", {"campaign_id": campaign_id, "previous_campaign_id": case.facts.get("campaign_id")})
    if command == "dismiss_duplicate":
        if target is None or not target.exists or target.case_id == case.case_id:
            raise InvalidCommand({"candidate_case_id": ["须是另一件已受理的案件"]}, code="case.duplicate_candidate_invalid")
        if target.case_id in case.facts.get("dismissed_duplicates", ()):
            raise InvalidCommand({"candidate_case_id": ["该并单建议已排除"]}, code="case.duplicate_already_dismissed")
        return _event("duplicate_dismissed", {"candidate_case_id": target.case_id, "score": args.get("score"),
                                              "reason": args.get("reason")})
    if command == "merge":
        if target is None or not target.exists or target.status == "merged" or target.case_id == case.case_id:
            raise InvalidCommand({"into_case_id": ["须为另一件未被并单的案件"]}, code="case.merge_target_invalid")
        return _event("merged", {"into_case_id": target.case_id, "reason": args.get("reason")}) + \
            _event("duplicate_absorbed", {"duplicate_case_id": case.case_id}, target.case_id)
    raise KeyError(command)


def record_accountability(args: dict[str, Any], ctx: Context) -> list[NewEvent]:
    if ctx.actor.role != "office":
        raise NotYourCase("只有正风办可以记录问责")
    errors = ctx.directory.check_units("unit", [args["unit"]])
    if errors:
        raise InvalidCommand(errors)
    return [NewEvent(ACCOUNTABILITY, {**args, "decided_by": args.get("decided_by") or ctx.actor.name},
                     ctx.new_id())]
