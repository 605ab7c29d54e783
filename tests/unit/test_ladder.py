"""The escalation ladder as specifications (notify/domain/ladder.py, docs/ESCALATION.md).

November 2026 has no public holidays: working days are Monday to Friday (2026-11-02 is a Monday).
Default thresholds, deadline mode: reminder 3 working days before, supervision letter at 5 working
days overdue, admonishment talk 10, bulletin criticism 15, accountability proposal 20.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from marshmallow import ValidationError

from notify.domain import ladder
from notify.domain.ladder import DEFAULT_CONFIG, Case, Issue, Stop, decide, fold
from zfcommon.events.catalogue import EscalationConfigData, validate_data
from zfcommon.workdays import WorkCalendar, YearSchedule

D = date.fromisoformat
CAL = WorkCalendar()
UNIT, OTHER = "县自然资源局", "县市场监管局"
CASE = Case(status="in_progress", lead_unit=UNIT, handling_mode="deadline", deadline=D("2026-11-20"),
            sign_for_due=D("2026-11-03"), accepted=True, extension_pending=False)
UNSIGNED = replace(CASE, status="assigned", accepted=False)


def on(day: str, case: Case = CASE, history: list = (), config=DEFAULT_CONFIG, calendar=CAL) -> ladder.Decision:
    return decide(fold(history), case, config, calendar, D(day))


def events(decision: ladder.Decision) -> list[tuple[str, dict]]:
    return [change.event() for change in decision.changes]


def steps(decision: ladder.Decision) -> list[tuple[str, str]]:
    return [(c.ladder, c.step) for c in decision.changes if isinstance(c, Issue)]


def climbed(case: Case, *days: str, config=DEFAULT_CONFIG) -> list[tuple[str, dict]]:
    """The stream after deciding on each day in turn, every decision appended as it was made."""
    history: list = []
    for day in days:
        history += events(on(day, case, history, config))
    return history


# -- the deadline ladder ---------------------------------------------------------------------------
def test_nothing_is_issued_while_the_deadline_is_far_off_and_the_reminder_day_is_the_next_check():
    decision = on("2026-11-02")
    assert decision.changes == () and decision.next_check == D("2026-11-17")


def test_a_reminder_comes_three_working_days_before_the_deadline():
    decision = on("2026-11-17")
    assert decision.changes == (Issue("deadline", "reminder", 1, UNIT, D("2026-11-20"), -3, "deadline", -3,
                                      D("2026-11-17")),)
    assert decision.next_check == D("2026-11-27")


def test_case_five_working_days_overdue_gets_a_supervision_letter():
    decision = on("2026-11-27", history=climbed(CASE, "2026-11-17"))
    assert decision.changes == (Issue("deadline", "supervision_letter", 1, UNIT, D("2026-11-20"), 5, "deadline", 5,
                                      D("2026-11-27")),)


def test_four_working_days_overdue_is_not_yet_a_supervision_letter():
    decision = on("2026-11-26", history=climbed(CASE, "2026-11-17"))
    assert decision.changes == () and decision.next_check == D("2026-11-27")


def test_weekends_do_not_count_as_days_overdue():
    assert ladder.working_days_overdue(CAL, D("2026-11-20"), D("2026-11-22")) == 0     # Sunday
    assert ladder.working_days_overdue(CAL, D("2026-11-20"), D("2026-11-23")) == 1     # Monday


def test_national_day_does_not_count_and_its_make_up_saturday_does():
    # 2026-10-01 … 10-07 off; Saturday 10-10 is a make-up working day.
    assert ladder.working_days_overdue(CAL, D("2026-09-30"), D("2026-10-12")) == 4


def test_ten_working_days_overdue_is_an_admonishment_talk_then_fifteen_a_bulletin_criticism_then_twenty_a_proposal():
    history = climbed(CASE, "2026-11-17", "2026-11-27", "2026-12-04", "2026-12-11", "2026-12-18")
    assert [(d["step"], d["working_days_overdue"]) for _, d in history] == [
        ("reminder", -3), ("supervision_letter", 5), ("admonishment_talk", 10), ("bulletin_criticism", 15),
        ("accountability_proposal", 20)]
    assert on("2027-01-29", history=history).changes == ()       # the top of the ladder: nothing more
    assert on("2026-12-18", history=history).next_check is None


def test_steps_crossed_while_notify_was_down_are_all_issued_at_once_in_order_with_their_own_thresholds():
    decision = on("2026-12-04", history=climbed(CASE, "2026-11-17"))      # 10 working days overdue
    assert [(c.step, c.threshold, c.crossed_on, c.working_days_overdue) for c in decision.changes] == [
        ("supervision_letter", 5, D("2026-11-27"), 10), ("admonishment_talk", 10, D("2026-12-04"), 10)]


def test_a_case_first_seen_long_overdue_gets_every_step_from_the_reminder_on():
    assert steps(on("2026-12-18")) == [("deadline", s) for s in ladder.STEPS]


def test_deciding_every_day_or_once_after_an_outage_issues_the_same_steps():
    every_day = [(D("2026-11-02") + timedelta(i)).isoformat() for i in range(60)]
    daily = climbed(CASE, *every_day)
    once = climbed(CASE, every_day[-1])
    key = ("step", "round", "threshold", "crossed_on", "due")
    assert [tuple(d[k] for k in key) for _, d in daily] == [tuple(d[k] for k in key) for _, d in once]
    assert len(daily) == len(ladder.STEPS)


def test_a_step_already_issued_is_never_issued_again():
    history = climbed(CASE, "2026-11-27")
    assert on("2026-11-27", history=history).changes == ()
    assert on("2026-11-30", history=history).changes == ()


def test_immediate_cases_climb_faster_than_long_term_ones():
    three_days_late = "2026-11-25"
    assert steps(on(three_days_late, replace(CASE, handling_mode="immediate")))[-1] == ("deadline", "admonishment_talk")
    assert steps(on(three_days_late, replace(CASE, handling_mode="long_term"))) == [("deadline", "reminder")]


def test_thresholds_raised_by_the_office_apply_to_the_steps_not_yet_issued():
    history = climbed(CASE, "2026-11-27")                                  # reminder and letter issued
    stricter = {**DEFAULT_CONFIG, "deadline": {**DEFAULT_CONFIG["deadline"], "deadline": {
        "reminder": 3, "supervision_letter": 5, "admonishment_talk": 6, "bulletin_criticism": 7,
        "accountability_proposal": 30}}}
    decision = on("2026-12-01", history=history, config=stricter)          # 7 working days overdue
    assert [(c.step, c.threshold) for c in decision.changes] == [("admonishment_talk", 6), ("bulletin_criticism", 7)]


# -- stopping, pausing, restarting ---------------------------------------------------------------
@pytest.mark.parametrize("status", ["rectification_reported", "dismissal_reported", "closed", "merged", "returned"])
def test_a_case_that_leaves_the_running_states_stops_its_ladder_with_the_last_step(status):
    history = climbed(CASE, "2026-11-27")
    decision = on("2026-11-30", replace(CASE, status=status), history)
    assert decision.changes == (Stop("deadline", 1, status, "supervision_letter"),) and decision.settled


def test_a_case_rectified_before_any_step_needs_no_stop():
    assert on("2026-11-10", replace(CASE, status="rectification_reported")).changes == ()


def test_a_stopped_ladder_is_not_stopped_twice():
    history = climbed(CASE, "2026-11-27")
    history += events(on("2026-11-30", replace(CASE, status="closed"), history))
    assert on("2026-12-30", replace(CASE, status="closed"), history).changes == ()


def test_an_approved_extension_stops_the_round_and_the_new_deadline_starts_the_next():
    history = climbed(CASE, "2026-11-27")
    extended = replace(CASE, deadline=D("2026-12-04"))
    decision = on("2026-12-01", extended, history)
    assert decision.changes == (
        Stop("deadline", 1, "new_deadline", "supervision_letter"),
        Issue("deadline", "reminder", 2, UNIT, D("2026-12-04"), -3, "deadline", -3, D("2026-12-01")))


def test_a_pending_extension_pauses_the_ladder_and_a_denial_issues_what_was_crossed_meanwhile():
    history = climbed(CASE, "2026-11-17")
    pending = replace(CASE, extension_pending=True)
    assert on("2026-12-04", pending, history).changes == ()
    assert on("2026-12-04", pending, history).settled                         # woken by the office's answer
    assert [c.step for c in on("2026-12-04", CASE, history).changes] == ["supervision_letter", "admonishment_talk"]


def test_rework_after_a_stopped_round_starts_a_new_round_from_the_new_deadline():
    history = climbed(CASE, "2026-11-27")
    history += events(on("2026-11-30", replace(CASE, status="rectification_reported"), history))
    reworked = replace(CASE, deadline=D("2026-12-21"))
    assert on("2026-12-02", reworked, history).changes == ()
    assert steps(on("2026-12-16", reworked, history)) == [("deadline", "reminder")]
    assert on("2026-12-16", reworked, history).changes[0].round == 2


def test_reassignment_to_another_unit_stops_the_round_as_reassigned():
    history = climbed(CASE, "2026-11-27")
    decision = on("2026-11-30", replace(UNSIGNED, lead_unit=OTHER, deadline=D("2026-12-21"),
                                        sign_for_due=D("2026-12-01")), history)
    assert decision.changes[0] == Stop("deadline", 1, "reassigned", "supervision_letter")


# -- cases the unit had only since an import or a reassignment --------------------------------------
# A backlog imported on Tuesday 1 December 2026 whose old ledger recorded a deadline of 15 October.
IMPORTED = replace(CASE, deadline=D("2026-10-15"), since=D("2026-12-01"))


def test_an_imported_backlog_is_counted_from_the_import_not_from_its_recorded_deadline():
    decision = on("2026-12-01", IMPORTED)
    assert decision.changes == (Issue("deadline", "reminder", 1, UNIT, D("2026-12-01"), 0, "deadline", -3,
                                      D("2026-12-01")),)
    assert decision.next_check == D("2026-12-08")          # the supervision letter: 5 working days on


def test_no_step_of_an_imported_case_is_dated_before_the_import_however_late_notify_looks():
    history = climbed(IMPORTED, "2026-12-31")
    crossed = {data["step"]: data["crossed_on"] for _, data in history}
    assert crossed == {"reminder": "2026-12-01", "supervision_letter": "2026-12-08",
                       "admonishment_talk": "2026-12-15", "bulletin_criticism": "2026-12-22",
                       "accountability_proposal": "2026-12-29"}


def test_a_reminder_whose_lead_time_reaches_back_before_the_assignment_is_dated_on_the_assignment_day():
    fresh = replace(CASE, deadline=D("2026-11-04"), since=D("2026-11-03"))
    assert [d["crossed_on"] for _, d in events(on("2026-11-03", fresh))] == ["2026-11-03"]


def test_the_day_the_unit_got_the_case_is_its_assignment_in_china_time():
    view = {"status": "assigned", "lead_unit": UNIT, "handling_mode": "deadline", "deadline": "2026-10-15",
            "sign_for_due": "2026-12-02", "accepted_at": None, "extension_pending": False,
            "received_at": "2026-11-30T16:30:00+00:00", "assigned_at": "2026-11-30T16:30:00+00:00"}
    case = Case.from_view(view)
    assert case.since == D("2026-12-01") and case.due("deadline") == D("2026-12-01")
    assert case.due("sign_for") == D("2026-12-02")


# -- the sign-for ladder -------------------------------------------------------------------------
def test_an_unsigned_case_gets_a_sign_for_reminder_on_its_sign_for_day():
    assert steps(on("2026-11-03", UNSIGNED)) == [("sign_for", "reminder")]


def test_a_unit_that_has_not_signed_three_working_days_after_its_sign_for_day_gets_an_admonishment_talk():
    history = climbed(UNSIGNED, "2026-11-03", "2026-11-04")
    decision = on("2026-11-06", UNSIGNED, history)
    assert decision.changes == (Issue("sign_for", "admonishment_talk", 1, UNIT, D("2026-11-03"), 3, "deadline", 3,
                                      D("2026-11-06")),)


def test_signing_for_stops_the_sign_for_ladder_and_leaves_the_deadline_ladder_running():
    history = climbed(UNSIGNED, "2026-11-04")
    decision = on("2026-11-05", CASE, history)
    assert decision.changes == (Stop("sign_for", 1, "accepted", "supervision_letter"),)
    assert decision.next_check == D("2026-11-17")


def test_the_next_check_is_the_earliest_day_either_ladder_climbs():
    assert on("2026-11-02", UNSIGNED).next_check == D("2026-11-03")


# -- the calendar --------------------------------------------------------------------------------
def test_a_year_the_calendar_lacks_is_named_and_nothing_is_guessed():
    beyond = replace(CASE, deadline=D("2027-01-26"))
    decision = on("2026-12-28", beyond, calendar=WorkCalendar())
    assert decision.changes == () and "2027" in decision.gap and decision.next_check == D("2026-12-29")
    known = WorkCalendar([YearSchedule(2027, {D("2027-01-01")}, set())])
    assert on("2026-12-28", beyond, calendar=known).gap is None


def test_a_reminder_for_a_deadline_on_a_rest_day_counts_back_from_the_last_working_day():
    assert ladder.crossing_day(CAL, D("2026-11-22"), 0) == D("2026-11-20")      # Sunday -> Friday
    assert ladder.crossing_day(CAL, D("2026-11-23"), -1) == D("2026-11-20")     # Monday, one day ahead -> Friday


# -- the stream and the configuration ------------------------------------------------------------
def test_the_stream_folds_into_each_ladders_latest_round_ignoring_other_facts():
    history = climbed(UNSIGNED, "2026-11-04") + [("cn.zhengfeng.notice.sent.v1", {})]
    rounds = fold(history)
    assert rounds["sign_for"] == ladder.Round(1, D("2026-11-03"), UNIT, ("reminder", "supervision_letter"))
    assert rounds["deadline"] == ladder.Round()


def test_the_thresholds_the_office_set_last_replace_the_defaults():
    mine = {**DEFAULT_CONFIG, "sign_for": {**DEFAULT_CONFIG["sign_for"], "supervision_letter": 2}}
    assert ladder.current_config([]) == DEFAULT_CONFIG
    assert ladder.current_config([(ladder.CONFIG_SET, DEFAULT_CONFIG), (ladder.CONFIG_SET, mine)]) == mine


def test_the_default_thresholds_are_a_valid_configuration():
    assert validate_data(ladder.CONFIG_SET, DEFAULT_CONFIG) == {}


def test_a_step_may_not_come_before_the_one_below_it():
    bad = {**DEFAULT_CONFIG, "sign_for": {**DEFAULT_CONFIG["sign_for"], "bulletin_criticism": 2}}
    with pytest.raises(ValidationError) as err:
        EscalationConfigData().load(bad)
    assert "bulletin_criticism" in err.value.messages["sign_for"]


def test_every_issued_step_is_a_valid_event():
    for type_, data in climbed(UNSIGNED, "2026-12-31"):
        assert validate_data(type_, data) == {}
