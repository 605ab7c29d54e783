"""Weekly reports, pure: weeks and due dates on the official calendar (2026 National Day, 2027 Spring
Festival entered by the office), zero-report rules, corrections, missed weeks and their escalation,
and the reproducible spot-check draw."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from notify.domain import reports
from notify.domain.reports import Invalid, Refused, Week
from zfcommon.draw import draw
from zfcommon.events.catalogue import validate_data
from zfcommon.workdays import CalendarGap, WorkCalendar, YearSchedule

CAL = WorkCalendar()
RUNGS = {"reminder": 1, "supervision_letter": 2, "admonishment_talk": None, "bulletin_criticism": 3,
         "accountability_proposal": None}


def d(text: str) -> date:
    return date.fromisoformat(text)


def stored(*decided, start: int = 1):
    """(type, data) pairs as a unit's stream holds them."""
    return [SimpleNamespace(id=f"ev-{start + i}", type=t, data=data, streamversion=start + i)
            for i, (t, data) in enumerate(decided)]


# -- weeks ---------------------------------------------------------------------------------------------
def test_weeks_are_iso_weeks_named_like_2026_w48():
    week = Week.parse("2026-W48")
    assert (week.monday, week.sunday, str(week)) == (d("2026-11-23"), d("2026-11-29"), "2026-W48")
    assert Week.of(d("2026-11-29")) == week and Week.of(d("2026-11-30")) == week.next()
    assert str(Week.parse("2026-W53").next()) == "2027-W01"      # 2026 has 53 ISO weeks
    assert Week.parse("2027-W01").previous() == Week.parse("2026-W53")
    for bad in ("2027-W53", "2026-48", "2026-W5", ""):
        with pytest.raises(ValueError):
            Week.parse(bad)


def test_a_week_counts_in_the_month_of_its_thursday():
    assert Week.parse("2026-W40").month == "2026-10"                # Mon 28 Sep, Thu 1 Oct
    assert [str(w) for w in reports.month_weeks("2026-11")] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert [str(w) for w in reports.month_weeks("2026-12")][-1] == "2026-W53"   # Thu 31 Dec


def test_a_unit_reports_from_the_first_monday_on_or_after_it_joined():
    assert reports.first_week(d("2026-11-23")) == Week.parse("2026-W48")       # a Monday: that week
    assert reports.first_week(d("2026-11-24")) == Week.parse("2026-W49")       # a Tuesday: the next one
    assert reports.first_week(d("2026-11-29")) == Week.parse("2026-W49")


# -- due dates -----------------------------------------------------------------------------------------
def test_an_ordinary_week_is_due_on_friday_and_flagged_on_monday():
    week = Week.parse("2026-W48")
    assert reports.due_date(week, "week_end", CAL) == d("2026-11-27")
    assert reports.flag_day(week, "week_end", CAL) == d("2026-11-30")
    assert reports.due_date(week, "next_week", CAL) == d("2026-11-30")
    assert reports.flag_day(week, "next_week", CAL) == d("2026-12-01")


@pytest.mark.parametrize("week,due,flagged", [
    ("2026-W38", "2026-09-20", "2026-09-21"),   # Sunday 20 Sep is a make-up working day: the week's last
    ("2026-W39", "2026-09-24", "2026-09-28"),   # Mid-Autumn Friday off: due Thursday, flagged after the weekend
    ("2026-W40", "2026-09-30", "2026-10-08"),   # National Day from Thu 1 Oct: flagged after the holiday
    ("2026-W41", "2026-10-10", "2026-10-12"),   # holiday to Wed 7 Oct, make-up Saturday 10 Oct
])
def test_national_day_2026(week, due, flagged):
    assert reports.due_date(Week.parse(week), "week_end", CAL) == d(due)
    assert reports.flag_day(Week.parse(week), "week_end", CAL) == d(flagged)


def test_under_the_next_week_rule_national_day_moves_the_due_date_past_the_holiday():
    assert reports.due_date(Week.parse("2026-W40"), "next_week", CAL) == d("2026-10-08")


SPRING_2027 = YearSchedule(2027, holidays={d("2027-01-01")} | {d(f"2027-02-{n:02d}") for n in range(6, 15)},
                           workdays={d("2027-01-31"), d("2027-02-20")})
CAL_2027 = WorkCalendar([SPRING_2027])


def test_spring_festival_2027_as_the_office_entered_it():
    assert reports.due_date(Week.parse("2027-W05"), "week_end", CAL_2027) == d("2027-02-05")
    # Feb 8-14 has no working day at all: due the first working day after it, flagged the day after.
    assert reports.due_date(Week.parse("2027-W06"), "week_end", CAL_2027) == d("2027-02-15")
    assert reports.flag_day(Week.parse("2027-W06"), "week_end", CAL_2027) == d("2027-02-16")
    assert reports.due_date(Week.parse("2027-W04"), "week_end", CAL_2027) == d("2027-01-31")   # make-up Sunday
    assert reports.due_date(Week.parse("2027-W07"), "week_end", CAL_2027) == d("2027-02-20")   # make-up Saturday


def test_a_week_reaching_into_a_year_nobody_entered_is_never_guessed():
    with pytest.raises(CalendarGap) as gap:
        reports.due_date(Week.parse("2026-W53"), "week_end", CAL)       # Dec 28 - Jan 3
    assert gap.value.years == [2027]
    assert reports.due_date(Week.parse("2026-W53"), "week_end", CAL_2027) == d("2026-12-31")
    assert reports.due_date(Week.parse("2026-W53"), "week_end", WorkCalendar(fallback="weekends")) == d("2027-01-01")


def test_the_latest_week_flaggable_today():
    assert reports.flaggable_through(d("2026-11-30"), "week_end", CAL) == (Week.parse("2026-W48"), None)
    assert reports.flaggable_through(d("2026-11-27"), "week_end", CAL) == (Week.parse("2026-W47"), None)
    # During the National Day holiday nothing new: W39 was flagged on 28 Sep, W40 waits for 8 Oct.
    assert reports.flaggable_through(d("2026-10-06"), "week_end", CAL)[0] == Week.parse("2026-W39")
    assert reports.flaggable_through(d("2026-10-08"), "week_end", CAL)[0] == Week.parse("2026-W40")
    # Without 2027's schedule the weeks reaching into it wait, named; 2026-W52 was flagged on 28 Dec.
    through, gap = reports.flaggable_through(d("2027-01-05"), "week_end", CAL)
    assert through == Week.parse("2026-W52") and gap.years == [2027]


# -- filing ----------------------------------------------------------------------------------------------
TODAY = d("2026-11-27")


def body(**changes):
    return {"week": "2026-W48", "zero": False, "progress": [],
            "self_found": [{"description": "窗口推诿", "category": None}], "note": None, **changes}


@pytest.mark.parametrize("changes,field", [
    ({"zero": True}, "zero"),                                          # a zero report with an item
    ({"self_found": []}, "zero"),                                      # a report with nothing in it
    ({"week": "2026-W49"}, "week"),                                    # next week has not begun
    ({"week": "2027-W53"}, "week"),
    ({"progress": [{"case_id": "c1", "note": "a"}, {"case_id": "c1", "note": "b"}]}, "progress"),
])
def test_filings_that_can_never_be_right_are_refused(changes, field):
    with pytest.raises(Invalid) as exc:
        reports.check_filing(body(**changes), TODAY)
    assert field in exc.value.errors


def test_a_zero_report_lists_nothing_and_is_accepted():
    assert reports.check_filing(body(zero=True, self_found=[]), TODAY) == Week.parse("2026-W48")
    assert reports.check_filing(body(week="2026-W40"), TODAY) == Week.parse("2026-W40")     # late is allowed


def test_a_first_filing_is_late_after_its_due_date_and_valid_for_the_catalogue():
    week = Week.parse("2026-W48")
    on_time = reports.filing(reports.History(), "县教育局", week, body(), due=d("2026-11-27"), today=TODAY)
    assert (on_time["late"], on_time["revision"], on_time["corrects"]) == (False, 1, None)
    late = reports.filing(reports.History(), "县教育局", week, body(), due=d("2026-11-27"), today=d("2026-11-28"))
    assert late["late"] is True
    unknown = reports.filing(reports.History(), "县教育局", week, body(), due=None, today=TODAY)
    assert unknown["late"] is None and unknown["due"] is None
    for data in (on_time, late, unknown):
        assert validate_data(reports.FILED, data) == {}


def test_a_second_filing_is_a_correction_of_the_latest_one():
    week = Week.parse("2026-W48")
    first = reports.filing(reports.History(), "县教育局", week, body(zero=True, self_found=[]), due=d("2026-11-27"),
                           today=d("2026-11-30"))
    history = reports.fold(stored((reports.FILED, first)))
    with pytest.raises(Refused):
        reports.filing(history, "县教育局", week, body(), due=d("2026-11-27"), today=d("2026-12-01"))
    with pytest.raises(Refused):
        reports.filing(history, "县教育局", week, body(corrects="ev-0"), due=d("2026-11-27"), today=d("2026-12-01"))
    with pytest.raises(Invalid):
        reports.filing(history, "县教育局", Week.parse("2026-W47"), body(corrects="ev-1"), due=d("2026-11-20"),
                       today=d("2026-12-01"))
    fixed = reports.filing(history, "县教育局", week, body(corrects="ev-1"), due=d("2026-11-27"), today=d("2026-12-01"))
    assert (fixed["revision"], fixed["corrects"], fixed["late"], fixed["zero"]) == (2, "ev-1", True, False)


# -- missed weeks and escalation ---------------------------------------------------------------------------
def test_every_missed_week_is_flagged_once_in_order_and_repeated_misses_climb():
    first, through = Week.parse("2026-W46"), Week.parse("2026-W49")
    decided = reports.missed_weeks(reports.History(), "县林业局", first, through, "week_end", RUNGS, CAL)
    assert [(t.rsplit(".", 2)[-2], x["week"], x.get("step")) for t, x in decided] == [
        ("weekly_missed", "2026-W46", None), ("escalated", "2026-W46", "reminder"),
        ("weekly_missed", "2026-W47", None), ("escalated", "2026-W47", "supervision_letter"),
        ("weekly_missed", "2026-W48", None), ("escalated", "2026-W48", "bulletin_criticism"),
        ("weekly_missed", "2026-W49", None)]
    assert decided[4][1] == {"unit": "县林业局", "week": "2026-W48", "due": "2026-11-27", "flagged_on": "2026-11-30"}
    assert all(validate_data(t, x) == {} for t, x in decided)
    # Decided again on the stream as it now is: nothing more.
    history = reports.fold(stored(*decided))
    assert reports.missed_weeks(history, "县林业局", first, through, "week_end", RUNGS, CAL) == []


def test_a_week_filed_in_time_ends_the_run_of_misses():
    filed = reports.filing(reports.History(), "县林业局", Week.parse("2026-W47"), body(week="2026-W47"),
                           due=d("2026-11-20"), today=d("2026-11-20"))
    history = reports.fold(stored((reports.FILED, filed)))
    decided = reports.missed_weeks(history, "县林业局", Week.parse("2026-W46"), Week.parse("2026-W48"), "week_end",
                                   RUNGS, CAL)
    assert [(x["week"], x.get("step")) for _, x in decided] == [
        ("2026-W46", None), ("2026-W46", "reminder"), ("2026-W48", None), ("2026-W48", "reminder")]


def test_a_threshold_lowered_during_a_run_issues_the_step_it_now_earned_once():
    first = Week.parse("2026-W46")
    decided = reports.missed_weeks(reports.History(), "县林业局", first, Week.parse("2026-W47"), "week_end",
                                   {**RUNGS, "supervision_letter": 3, "bulletin_criticism": 4}, CAL)
    history = reports.fold(stored(*decided))
    again = reports.missed_weeks(history, "县林业局", first, Week.parse("2026-W48"), "week_end", RUNGS, CAL)
    assert [x.get("step") for _, x in again] == [None, "supervision_letter", "bulletin_criticism"]
    assert again[1][1]["consecutive_missed"] == 3 and again[1][1]["threshold"] == 2


def test_overview_status():
    assert reports.status(None, True) == "outstanding"
    assert reports.status(None, False) == "not_required"
    assert reports.status({"status": "missing"}, True) == "missing"


def test_the_catalogue_refuses_thresholds_that_do_not_climb():
    config = {"start_week": "2026-W48", "due_rule": "week_end", "spot_check_ratio": 0.2,
              "escalation": {**RUNGS, "bulletin_criticism": 1}}
    assert "escalation" in validate_data(reports.CONFIG_SET, config)
    assert validate_data(reports.CONFIG_SET, {**config, "escalation": RUNGS}) == {}
    assert validate_data(reports.CONFIG_SET, {**reports.DEFAULT_CONFIG, "start_week": "2026-W48"}) == {}


# -- spot checks ---------------------------------------------------------------------------------------
UNITS = [f"单位{i:02d}" for i in range(40)]


def test_the_spot_check_draw_is_reproducible_from_its_event_alone():
    data = reports.spot_check("2026-11", "nonce-1", reversed(UNITS), 0.25)
    assert data == reports.spot_check("2026-11", "nonce-1", UNITS, 0.25)
    assert validate_data(reports.SPOT_CHECK_DRAWN, data) == {}
    # Anyone recomputes it from the recorded month, nonce, candidates and ratio.
    assert data["seed"] == reports.spot_check_seed(data["month"], data["nonce"], data["candidates"])
    for entry in data["draws"]:
        assert entry["draw"] == draw(f"{data['seed']}:{entry['unit']}")
        assert entry["selected"] == (entry["draw"] < data["ratio"])
    assert data["selected"] == [e["unit"] for e in data["draws"] if e["selected"]]
    assert 0 < len(data["selected"]) < len(UNITS)
    assert data["weeks"] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]


def test_the_seed_binds_the_month_the_nonce_and_the_whole_candidate_list():
    base = reports.spot_check("2026-11", "n", UNITS, 0.5)
    assert reports.spot_check("2026-11", "m", UNITS, 0.5)["seed"] != base["seed"]
    assert reports.spot_check("2026-12", "n", UNITS, 0.5)["seed"] != base["seed"]
    assert reports.spot_check("2026-11", "n", UNITS[:-1], 0.5)["seed"] != base["seed"]


def test_ratio_zero_draws_nobody_and_one_draws_everybody():
    assert reports.spot_check("2026-11", "n", UNITS, 0.0)["selected"] == []
    assert reports.spot_check("2026-11", "n", UNITS, 1.0)["selected"] == sorted(UNITS)
    assert reports.spot_check("2026-11", "n", [], 0.5)["draws"] == []


def test_the_draw_day_follows_the_month_and_its_last_reports():
    assert reports.draw_day("2026-11", "week_end", CAL) == d("2026-12-01")
    assert reports.draw_day("2026-09", "week_end", CAL) == d("2026-10-08")     # after National Day
    assert reports.draw_day("2026-10", "next_week", CAL) == d("2026-11-03")    # W44 due Mon 2 Nov


def test_a_finding_is_recorded_once_and_only_for_a_unit_drawn():
    drawn = reports.spot_check("2026-11", "n", ["甲", "乙"], 1.0)
    months = reports.drawn_months([(reports.SPOT_CHECK_DRAWN, drawn)])
    found = reports.spot_check_result(months, "2026-11", "甲", "confirmed_nothing", None)
    assert validate_data(reports.SPOT_CHECK_RECORDED, found) == {}
    with pytest.raises(Invalid):
        reports.spot_check_result(months, "2026-10", "甲", "confirmed_nothing", None)
    with pytest.raises(Invalid):
        reports.spot_check_result(months, "2026-11", "丙", "confirmed_nothing", None)
    months = reports.drawn_months([(reports.SPOT_CHECK_DRAWN, drawn), (reports.SPOT_CHECK_RECORDED, found)])
    with pytest.raises(Refused):
        reports.spot_check_result(months, "2026-11", "甲", "problems_found", "补查发现问题")
