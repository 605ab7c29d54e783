"""The case state machine (lifecycle.decide): which command is allowed in which state and for whom, the
events it decides, and the deadlines it counts in official working days. Cases are built by replaying
commands (fakes.story / CaseStory), never by setting attributes. Dates: see fakes.DAY."""
from datetime import date

import pytest

from intake.domain import lifecycle
from intake.domain.case import COMMAND_LABELS, Case, InvalidCommand, NotYourCase, TransitionRefused
from zfcommon.caseview import STATUS_LABELS
from zfcommon.events.catalogue import CHANNELS, validate_data
from zfcommon.redaction import Identity

from .fakes import (AUDITOR, COOPERATING, COOPERATING_UNIT, DAY, HOTLINE, LEAD, LEAD_UNIT, OFFICE, OTHER,
                    OTHER_UNIT, RETIRED_UNIT, SCHEDULE_2027, CaseStory, case_event, office_directory, story)

D = date.fromisoformat

# The specified state machine: command -> (states it is allowed in, who may give it).
SPEC = {
    "assign": (("received", "returned"), "office"),
    "reassign": (("assigned", "returned", "in_progress"), "office"),
    "merge": (("received", "assigned", "returned"), "office"),
    "accept": (("assigned",), "lead"),
    "return": (("assigned",), "lead"),
    "note_progress": (("in_progress",), "unit"),
    "request_extension": (("in_progress",), "lead"),
    "approve_extension": (("in_progress",), "office"),
    "deny_extension": (("in_progress",), "office"),
    "report_rectified": (("in_progress",), "lead"),
    "report_not_substantiated": (("in_progress",), "lead"),
    "close": (("rectification_reported",), "office"),
    "order_rework": (("rectification_reported", "dismissal_reported"), "office"),
    "accept_dismissal": (("dismissal_reported",), "office"),
    "choose_recheck": (("dismissed",), "office"),
    "record_recheck": (("dismissed",), "office"),
    "record_return_visit": (("closed", "dismissed"), "visit"),
    "order_rehandling": (("closed",), "office"),
    "correct_summary": (("received", "assigned", "returned", "in_progress", "rectification_reported",
                         "dismissal_reported", "closed", "dismissed", "merged"), "office"),
}
STATUSES = ("new", "received", "assigned", "returned", "in_progress", "rectification_reported",
            "dismissal_reported", "closed", "dismissed", "merged")
# Situations where a command's guard holds (fakes.STORIES); otherwise the story named like the state.
GUARDED = {"approve_extension": "extension_pending", "deny_extension": "extension_pending",
           "order_rehandling": "closed_unsatisfied", "choose_recheck": "dismissed_unselected"}
# command -> (event names it decides, the case's status afterwards; None: unchanged)
OUTCOME = {
    "assign": (["assigned"], "assigned"),
    "reassign": (["reassigned"], "assigned"),
    "merge": (["merged", "duplicate_absorbed"], "merged"),
    "accept": (["accepted"], "in_progress"),
    "return": (["returned"], "returned"),
    "note_progress": (["progress_noted"], "in_progress"),
    "request_extension": (["extension_requested"], "in_progress"),
    "approve_extension": (["extension_approved"], "in_progress"),
    "deny_extension": (["extension_denied"], "in_progress"),
    "report_rectified": (["rectification_reported"], "rectification_reported"),
    "report_not_substantiated": (["dismissal_reported"], "dismissal_reported"),
    "close": (["closed"], "closed"),
    "order_rework": (["rework_ordered"], "in_progress"),
    "accept_dismissal": (["dismissal_accepted"], "dismissed"),
    "choose_recheck": (["recheck_chosen"], "dismissed"),
    "record_recheck": (["recheck_upheld"], "dismissed"),
    "record_return_visit": (["return_visit_recorded"], None),        # None: the status stays
    "order_rehandling": (["rehandling_ordered"], "in_progress"),
    "correct_summary": (["summary_corrected"], None),      # None: the status stays as it was
}
IN_PROGRESS = {"reassign", "note_progress", "request_extension", "report_rectified", "report_not_substantiated"}
EXTENSION_PENDING = IN_PROGRESS - {"request_extension"} | {"approve_extension", "deny_extension"}
ALLOWED_IN = {
    "new": set(),
    "received": {"assign", "merge"},
    "assigned": {"reassign", "merge", "accept", "return"},
    "returned": {"assign", "reassign", "merge"},
    "in_progress": IN_PROGRESS,
    "extension_pending": EXTENSION_PENDING,
    "rectification_reported": {"close", "order_rework"},
    "dismissal_reported": {"order_rework", "accept_dismissal"},
    "closed": {"record_return_visit"},
    "closed_unsatisfied": {"record_return_visit", "order_rehandling"},
    "dismissed": {"record_recheck", "record_return_visit"},
    "dismissed_unselected": {"choose_recheck", "record_return_visit"},
    "merged": set(),
}
# The office may correct the summary outsiders read in every state of a case that exists.
ALLOWED_IN = {name: allowed | ({"correct_summary"} if name != "new" else set()) for name, allowed in ALLOWED_IN.items()}


def commands_of(who: str) -> list[str]:
    return [c for c, (_, w) in SPEC.items() if w == who]


def situation(command: str) -> str:
    """A situation in which `command` is allowed for the right actor."""
    return GUARDED.get(command, SPEC[command][0][0])


def schema_errors(events) -> dict:
    return {e.type: errors for e in events if (errors := validate_data(e.type, e.data))}


# --- The state machine ----------------------------------------------------------------------------------

def test_the_rules_are_the_specified_state_machine():
    assert {c: (r.states, r.who) for c, r in lifecycle.RULES.items()} == SPEC


@pytest.mark.parametrize("name", ALLOWED_IN)
def test_allowed_commands_in_each_situation(name):
    assert set(lifecycle.allowed_commands(story(name).case)) == ALLOWED_IN[name]


@pytest.mark.parametrize("command,state", [(c, s) for c, (states, _) in SPEC.items() for s in states],
                         ids=lambda v: v)
def test_command_is_allowed_in_each_of_its_states(command, state):
    s = story(GUARDED.get(command, state))
    status_before = s.case.status
    events = s.decide(command)
    names, status_after = OUTCOME[command]
    assert [e.type for e in events] == [case_event(n) for n in names]
    assert schema_errors(events) == {}
    s.play(events)
    assert s.case.status == (status_after or status_before)


@pytest.mark.parametrize("command,status", [(c, s) for c, (states, _) in SPEC.items()
                                            for s in STATUSES if s not in states], ids=lambda v: v)
def test_command_is_refused_in_every_other_status(command, status):
    s = story(status)
    shown = "新建" if status == "new" else STATUS_LABELS[status]
    with pytest.raises(TransitionRefused, match=f"案件当前状态为“{shown}”，不能{COMMAND_LABELS[command]}") as refused:
        s.decide(command, actor=OFFICE)      # the office may give every command: only the state refuses it
    assert (refused.value.state, refused.value.command) == (status, command)
    assert refused.value.allowed == lifecycle.allowed_commands(s.case)
    assert set(refused.value.allowed) == ALLOWED_IN[status]


# --- Roles --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", [LEAD, COOPERATING, HOTLINE, AUDITOR], ids=lambda a: a.role + ":" + str(a.unit))
@pytest.mark.parametrize("command", commands_of("office"))
def test_office_only_command_is_refused_for_units_channels_and_auditors(command, actor):
    with pytest.raises(NotYourCase, match="只有正风办可以"):
        story(situation(command)).decide(command, actor=actor)


@pytest.mark.parametrize("actor", [COOPERATING, OTHER, HOTLINE, AUDITOR], ids=lambda a: a.role + ":" + str(a.unit))
@pytest.mark.parametrize("command", commands_of("lead"))
def test_lead_only_command_is_refused_for_cooperating_and_other_units_and_non_units(command, actor):
    with pytest.raises(NotYourCase):
        story(situation(command)).decide(command, actor=actor)


@pytest.mark.parametrize("command", commands_of("lead"))
def test_office_may_act_for_the_lead_unit_and_the_event_names_the_lead_unit(command):
    [event] = story(situation(command)).decide(command, actor=OFFICE)
    assert event.data["unit"] == LEAD_UNIT


@pytest.mark.parametrize("actor,unit", [(LEAD, LEAD_UNIT), (COOPERATING, COOPERATING_UNIT)])
def test_lead_and_cooperating_units_note_progress_in_their_own_name(actor, unit):
    [event] = story("in_progress").decide("note_progress", actor=actor)
    assert event.data == {"unit": unit, "note": "已约谈窗口负责人，正在整改"}


@pytest.mark.parametrize("actor", [OTHER, HOTLINE, AUDITOR], ids=lambda a: a.role)
def test_note_progress_is_refused_for_a_unit_outside_the_case_and_for_non_units(actor):
    with pytest.raises(NotYourCase):
        story("in_progress").decide("note_progress", actor=actor)


@pytest.mark.parametrize("actor", [OFFICE, HOTLINE], ids=lambda a: a.role)
def test_office_and_hotline_record_return_visits(actor):
    [event] = story("closed").decide("record_return_visit", actor=actor, satisfaction="basically_satisfied")
    assert event.data == {"satisfaction": "basically_satisfied", "comment": "群众表示满意"}


@pytest.mark.parametrize("actor", [LEAD, COOPERATING, AUDITOR], ids=lambda a: a.role + ":" + str(a.unit))
def test_units_and_auditors_cannot_record_return_visits(actor):
    with pytest.raises(NotYourCase, match="由正风办或12345热线记录"):
        story("closed").decide("record_return_visit", actor=actor)


@pytest.mark.parametrize("channel", sorted(CHANNELS))
@pytest.mark.parametrize("handled", ["closed", "dismissed"])
def test_a_return_visit_rates_any_handled_case_whatever_its_channel(channel, handled):
    # Seed 001 asks for ratings of every handled case, by SMS or recorded by the office.
    s = story(handled, channel=channel)
    assert "record_return_visit" in lifecycle.allowed_commands(s.case)
    [event] = s.decide("record_return_visit", actor=OFFICE, satisfaction="unsatisfied")
    assert event.data["satisfaction"] == "unsatisfied" and schema_errors([event]) == {}


def test_the_office_chooses_a_dismissal_the_draw_left_and_says_who_and_why():
    s = story("dismissed_unselected")
    assert s.case.recheck_pending is False
    [event] = s.decide("choose_recheck", actor=OFFICE, reason="回访不满意，决定复查")
    assert event.data == {"reason": "回访不满意，决定复查", "chosen_by": "office:王主任"}
    assert schema_errors([event]) == {}
    s.play([event])
    assert (s.case.recheck_pending, s.case.recheck_basis) == (True, "chosen")
    assert set(lifecycle.allowed_commands(s.case)) == {"record_recheck", "record_return_visit", "correct_summary"}
    s.do("record_recheck", outcome="upheld")
    assert "choose_recheck" not in lifecycle.allowed_commands(s.case)      # re-checked once is enough


def test_a_drawn_dismissal_is_not_chosen_again():
    s = story("dismissed")
    assert s.case.recheck_basis == "draw"
    with pytest.raises(TransitionRefused, match="已列入复查") as refused:
        s.decide("choose_recheck", actor=OFFICE)
    assert refused.value.allowed == ["record_recheck", "record_return_visit", "correct_summary"]


# --- Deadlines ----------------------------------------------------------------------------------------
# Counted from Fri 2026-09-18: 09-20 (make-up Sunday), 21–24, [25–27 Mid-Autumn], 28–30, [10-01…07],
# 10-08, 09, 10 (make-up Saturday), 12–15 …

@pytest.mark.parametrize("mode,priority,days,due", [
    ("immediate", "critical", 1, "2026-09-20"), ("immediate", "urgent", 2, "2026-09-21"),
    ("immediate", "normal", 3, "2026-09-22"), ("deadline", "critical", 5, "2026-09-24"),
    ("deadline", "urgent", 10, "2026-10-09"), ("deadline", "normal", 15, "2026-10-15"),
    ("long_term", "critical", 30, "2026-11-05"), ("long_term", "urgent", 45, "2026-11-26"),
    ("long_term", "normal", 60, "2026-12-17"),
])
def test_assign_counts_the_limit_for_mode_and_priority_in_official_working_days(mode, priority, days, due):
    [event] = CaseStory(priority=priority).decide("assign", handling_mode=mode)
    assert event.data["deadline"] == due
    assert event.data["deadline_basis"] == {"rule": "limit", "from_date": "2026-09-18", "working_days": days}
    assert event.data["sign_for_due"] == "2026-09-20"
    assert schema_errors([event]) == {}


def test_assign_uses_the_limits_the_office_has_set():
    limits = {"immediate": {"normal": 3, "urgent": 2, "critical": 1}, "deadline": {"normal": 20, "urgent": 10,
                                                                                   "critical": 5},
              "long_term": {"normal": 60, "urgent": 45, "critical": 30}}
    s = CaseStory(directory=office_directory(limits=limits, sign_for_days=3))
    [event] = s.decide("assign")
    assert (event.data["deadline"], event.data["sign_for_due"]) == ("2026-10-22", "2026-09-22")


def test_explicit_deadline_is_kept_with_an_explicit_basis():
    [event] = CaseStory().decide("assign", deadline=D("2026-10-30"))
    assert event.data["deadline"] == "2026-10-30"
    assert event.data["deadline_basis"] == {"rule": "explicit", "from_date": "2026-09-18", "working_days": None}
    assert schema_errors([event]) == {}


@pytest.mark.parametrize("deadline", ["2026-09-18", "2026-09-17"])
def test_explicit_deadline_must_be_after_today(deadline):
    with pytest.raises(InvalidCommand) as invalid:
        CaseStory().decide("assign", deadline=D(deadline))
    assert list(invalid.value.errors) == ["deadline"]


def test_limit_deadline_running_into_an_unknown_year_names_the_year_instead_of_guessing():
    # From Sun 2026-12-20 only 9 working days are left in 2026; the 15th falls in 2027.
    with pytest.raises(InvalidCommand) as invalid:
        CaseStory(today=D("2026-12-20")).decide("assign")
    assert list(invalid.value.errors) == ["deadline"]
    assert "2027" in " ".join(invalid.value.errors["deadline"])


@pytest.mark.parametrize("directory,due", [
    (office_directory(years=(SCHEDULE_2027,)), "2027-01-11"),        # 01-01…03 off: 01-04 … 01-08, 01-11
    (office_directory(calendar_fallback="weekends"), "2027-01-08"),  # Mon–Fri: 01-01, 01-04 … 01-08
], ids=["entered-2027", "weekends-fallback"])
def test_limit_deadline_into_2027_is_counted_once_the_office_has_entered_2027_or_chosen_a_fallback(directory, due):
    [event] = CaseStory(today=D("2026-12-20"), directory=directory).decide("assign")
    assert (event.data["deadline"], event.data["sign_for_due"]) == (due, "2026-12-21")


def test_explicit_deadline_in_an_unknown_year_needs_no_calendar():
    [event] = CaseStory(today=D("2026-12-20")).decide("assign", deadline=D("2027-01-15"))
    assert event.data["deadline"] == "2027-01-15"


@pytest.mark.parametrize("command,situation_name", [("assign", "received"), ("reassign", "in_progress")])
@pytest.mark.parametrize("args,field,named", [
    ({"lead_unit": "县不存在局"}, "lead_unit", "县不存在局"),
    ({"lead_unit": RETIRED_UNIT}, "lead_unit", RETIRED_UNIT),
    ({"cooperating_units": ["县不存在局"]}, "cooperating_units", "县不存在局"),
    ({"cooperating_units": [COOPERATING_UNIT, RETIRED_UNIT]}, "cooperating_units", RETIRED_UNIT),
    ({"cooperating_units": [COOPERATING_UNIT, LEAD_UNIT]}, "cooperating_units", "牵头单位不能同时作为配合单位"),
], ids=["unknown-lead", "inactive-lead", "unknown-cooperating", "inactive-cooperating", "lead-also-cooperating"])
def test_assignment_refuses_units_the_directory_does_not_allow(command, situation_name, args, field, named):
    with pytest.raises(InvalidCommand) as invalid:
        story(situation_name).decide(command, **args)
    assert list(invalid.value.errors) == [field]
    assert named in " ".join(invalid.value.errors[field])


def test_reassign_names_the_previous_lead_unit_and_asks_for_a_new_sign_for():
    s = story("in_progress").on("2026-09-24")
    s.do("reassign", lead_unit=OTHER_UNIT, cooperating_units=[])
    assert (s.case.status, s.case.lead_unit, s.case.sign_for_due) == ("assigned", OTHER_UNIT, D("2026-09-28"))
    with pytest.raises(NotYourCase):
        s.decide("accept", actor=LEAD)
    s.do("accept", actor=OTHER)
    assert s.case.status == "in_progress"


# --- Signing for, closing on time, extensions -------------------------------------------------------

@pytest.mark.parametrize("today,on_time", [("2026-09-18", True), ("2026-09-20", True), ("2026-09-21", False)])
def test_accept_is_on_time_until_the_sign_for_due_date(today, on_time):
    [event] = story("assigned").on(today).decide("accept")
    assert event.data == {"unit": LEAD_UNIT, "on_time": on_time}


@pytest.mark.parametrize("today,on_time", [("2026-10-14", True), ("2026-10-15", True), ("2026-10-16", False)])
def test_close_is_on_time_until_the_deadline(today, on_time):
    [event] = story("rectification_reported").on(today).decide("close")
    assert event.data["on_time"] is on_time


def test_approved_extension_moves_the_deadline_to_the_requested_date_by_default():
    s = story("in_progress").do("request_extension", requested_deadline=D("2026-10-30")).do("approve_extension")
    assert (s.case.deadline, s.case.extension_pending) == (D("2026-10-30"), False)
    [closed] = s.do("report_rectified").on("2026-10-30").decide("close")
    assert closed.data["on_time"] is True


def test_office_may_approve_an_extension_to_a_date_of_its_own():
    s = story("extension_pending")
    [event] = s.decide("approve_extension", new_deadline=D("2026-10-23"), comment="准予延期至10月23日")
    assert event.data == {"previous_deadline": "2026-10-15", "new_deadline": "2026-10-23",
                          "comment": "准予延期至10月23日"}
    s.play([event])
    [closed] = s.do("report_rectified").on("2026-10-26").decide("close")
    assert closed.data["on_time"] is False


def test_denied_extension_keeps_the_deadline_and_a_new_request_may_follow():
    s = story("extension_pending").do("deny_extension")
    assert (s.case.deadline, s.case.extension_pending) == (D("2026-10-15"), False)
    assert "request_extension" in lifecycle.allowed_commands(s.case)


def test_second_extension_request_is_refused_while_one_is_pending():
    s = story("extension_pending")
    with pytest.raises(TransitionRefused, match="已有一项延期申请待正风办审批") as refused:
        s.decide("request_extension")
    assert refused.value.state == "in_progress"
    assert set(refused.value.allowed) == ALLOWED_IN["extension_pending"]


@pytest.mark.parametrize("requested", ["2026-10-15", "2026-10-14"])
def test_requested_deadline_must_be_after_the_current_deadline(requested):
    with pytest.raises(InvalidCommand) as invalid:
        story("in_progress").decide("request_extension", requested_deadline=D(requested))
    assert list(invalid.value.errors) == ["requested_deadline"]


@pytest.mark.parametrize("command", ["approve_extension", "deny_extension"])
def test_approve_and_deny_are_refused_when_no_extension_is_pending(command):
    with pytest.raises(TransitionRefused, match="没有待审批的延期申请") as refused:
        story("in_progress").decide(command)
    assert refused.value.state == "in_progress"


def test_requested_deadline_must_also_be_after_today():
    s = story("in_progress").on("2026-10-20")            # five days past the deadline 2026-10-15
    with pytest.raises(InvalidCommand) as invalid:
        s.decide("request_extension", requested_deadline=D("2026-10-16"))
    assert list(invalid.value.errors) == ["requested_deadline"]


@pytest.mark.parametrize("new_deadline", ["2026-09-18", "2026-10-01"], ids=["today", "before-previous-deadline"])
def test_office_given_extension_must_be_after_today_and_the_previous_deadline(new_deadline):
    with pytest.raises(InvalidCommand) as invalid:
        story("extension_pending").decide("approve_extension", new_deadline=D(new_deadline))
    assert list(invalid.value.errors) == ["new_deadline"]


# --- Rework, re-handling ----------------------------------------------------------------------------

@pytest.mark.parametrize("reported", ["rectification_reported", "dismissal_reported"])
def test_rework_reopens_the_case_with_a_limit_deadline_and_counts_each_rework(reported):
    s = story(reported).on("2026-10-12")
    s.do("order_rework")
    # 15 working days from Mon 2026-10-12: 10-13…16, 19…23, 26…30, 11-02.
    assert (s.case.status, s.case.rework_count, s.case.deadline) == ("in_progress", 1, D("2026-11-02"))
    s.do("report_rectified").on("2026-10-20")
    [event] = s.decide("order_rework", new_deadline=D("2026-10-30"))
    assert event.data == {"reason": "整改不彻底，退回重办", "new_deadline": "2026-10-30", "rework_count": 2}
    s.play([event])
    assert (s.case.rework_count, s.case.deadline) == (2, D("2026-10-30"))


def test_unsatisfied_return_visit_allows_rehandling_with_a_new_deadline():
    s = story("closed_unsatisfied").on("2026-10-20")
    s.do("order_rehandling")
    assert (s.case.status, s.case.deadline) == ("in_progress", D("2026-11-10"))
    s.do("report_rectified").do("close")
    assert set(lifecycle.allowed_commands(s.case)) == ALLOWED_IN["closed"]   # the old rating no longer counts


@pytest.mark.parametrize("satisfaction", ["satisfied", "basically_satisfied"])
def test_rehandling_is_refused_after_a_satisfied_return_visit(satisfaction):
    s = story("closed").do("record_return_visit", satisfaction=satisfaction)
    with pytest.raises(TransitionRefused, match="只有回访不满意的案件才能责令重办") as refused:
        s.decide("order_rehandling")
    assert (refused.value.state, refused.value.allowed) == ("closed", ["record_return_visit", "correct_summary"])


@pytest.mark.parametrize("command,situation_name,args", [
    ("order_rework", "rectification_reported", {}),
    ("order_rehandling", "closed_unsatisfied", {}),
    ("record_recheck", "dismissed", {"outcome": "overturned"}),
])
def test_reopening_with_a_past_new_deadline_names_the_new_deadline_field(command, situation_name, args):
    with pytest.raises(InvalidCommand) as invalid:
        story(situation_name).decide(command, new_deadline=DAY, **args)
    assert list(invalid.value.errors) == ["new_deadline"]


# --- Merge --------------------------------------------------------------------------------------------

def test_merge_marks_the_duplicate_and_tells_the_target_on_its_own_stream():
    s = story("assigned")
    target = CaseStory("case-2").case
    merged, absorbed = s.decide("merge", target=target)
    assert (merged.stream, merged.data) == (None, {"into_case_id": "case-2", "reason": "同一窗口同一事项重复反映"})
    assert (absorbed.type, absorbed.stream, absorbed.data) == (
        case_event("duplicate_absorbed"), "case-2", {"duplicate_case_id": "case-1"})
    s.play([merged, absorbed])
    assert (s.case.status, s.case.merged_into, s.elsewhere) == ("merged", "case-2", [absorbed])


def _merged_case() -> Case:
    return story("merged", case_id="case-3").case      # case-3, merged into case-2


@pytest.mark.parametrize("target", [
    lambda s: s.case, lambda s: _merged_case(), lambda s: Case("case-9"),
], ids=["itself", "a-merged-case", "a-case-that-does-not-exist"])
def test_merge_is_refused_into_itself_a_merged_case_or_a_missing_case(target):
    s = story("received")
    with pytest.raises(InvalidCommand) as invalid:
        s.decide("merge", target=target(s))
    assert list(invalid.value.errors) == ["into_case_id"]


def test_merge_without_a_target_case_is_refused():
    s = story("received")
    ctx = s.context(OFFICE)
    with pytest.raises(InvalidCommand) as invalid:
        lifecycle.decide(s.case, "merge", {"reason": None}, ctx, None)
    assert list(invalid.value.errors) == ["into_case_id"]


# --- A whole case -------------------------------------------------------------------------------------

HAPPY_PATH = [
    ("2026-09-18", "assign", {}, "assigned", {"reassign", "merge", "accept", "return"}),
    ("2026-09-20", "accept", {}, "in_progress", IN_PROGRESS),
    ("2026-09-21", "note_progress", {}, "in_progress", IN_PROGRESS),
    ("2026-10-12", "request_extension", {"requested_deadline": D("2026-10-30")}, "in_progress", EXTENSION_PENDING),
    ("2026-10-13", "approve_extension", {}, "in_progress", IN_PROGRESS),
    ("2026-10-28", "report_rectified", {}, "rectification_reported", {"close", "order_rework"}),
    ("2026-10-29", "order_rework", {}, "in_progress", IN_PROGRESS),
    ("2026-11-10", "report_rectified", {}, "rectification_reported", {"close", "order_rework"}),
    ("2026-11-11", "close", {}, "closed", {"record_return_visit"}),
    ("2026-11-12", "record_return_visit", {"satisfaction": "unsatisfied"}, "closed",
     {"record_return_visit", "order_rehandling"}),
    ("2026-11-13", "order_rehandling", {}, "in_progress", IN_PROGRESS),
    ("2026-11-20", "report_rectified", {}, "rectification_reported", {"close", "order_rework"}),
    ("2026-11-23", "close", {}, "closed", {"record_return_visit"}),
]


def test_a_hotline_case_from_receipt_through_rework_and_rehandling_to_its_second_sign_off():
    s = CaseStory()
    assert (s.case.status, set(lifecycle.allowed_commands(s.case))) == ("received", ALLOWED_IN["received"])
    for today, command, args, status, allowed in HAPPY_PATH:
        events = s.on(today).decide(command, **args)
        assert schema_errors(events) == {}, command
        s.play(events)
        assert (s.case.status, set(lifecycle.allowed_commands(s.case))) == (status, allowed | {"correct_summary"}), \
            (today, command)
    assert (s.case.version, s.case.rework_count, s.case.deadline) == (1 + len(HAPPY_PATH), 1, D("2026-12-04"))


# --- What outsiders read (docs/PRIVACY.md) -------------------------------------------------------------

OUYANG = Identity(name="欧阳明远", phone="13907395678")


def test_a_commands_free_text_is_masked_for_outsiders_with_the_complainants_identity():
    [assigned] = story("received").decide("assign", identity=OUYANG, note="请与来信人欧阳明远（139-0739-5678）核实")
    assert assigned.data["note"] == "请与来信人欧阳明远（139-0739-5678）核实"        # the office's own words
    assert assigned.data["redacted"] == {"note": "请与来信人某某（〔电话已隐去〕）核实"}
    assert schema_errors([assigned]) == {}


def test_free_text_with_nothing_to_mask_carries_no_masks():
    [noted] = story("in_progress").decide("note_progress", identity=OUYANG)
    assert "redacted" not in noted.data


def test_the_office_corrects_the_summary_outsiders_read_in_any_state():
    for name in ("received", "closed", "merged"):
        [corrected] = story(name).decide("correct_summary", summary="反映窗口推诿，多次往返")
        assert (corrected.type, corrected.data) == (case_event("summary_corrected"), {"summary": "反映窗口推诿，多次往返"})


@pytest.mark.parametrize("summary, why", [("欧阳先生反映窗口推诿", "含有投诉人姓名：欧＊"),
                                          ("来电13907395678反映", "含有投诉人电话：139＊＊＊＊＊＊78"),
                                          ("投诉人张三丰反映", "含有姓名：张＊＊")])
def test_a_corrected_summary_that_shows_the_complainant_or_personal_data_is_refused(summary, why):
    with pytest.raises(InvalidCommand) as refused:
        story("assigned").decide("correct_summary", identity=OUYANG, summary=summary)
    assert refused.value.errors == {"summary": [why]} and refused.value.code == "case.summary_not_masked"


def test_only_the_office_corrects_the_summary():
    with pytest.raises(NotYourCase):
        story("assigned").decide("correct_summary", actor=LEAD)
