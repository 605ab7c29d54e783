"""China's official working-day calendar. Every expected date below was printed from chinese_calendar 1.11
(`get_holiday_detail`, `is_workday`) and cross-checked against the State Council's published schedules."""
from datetime import date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from zfcommon.workdays import SHANGHAI, CalendarGap, ScheduleError, WorkCalendar, YearSchedule, local_date

D = date.fromisoformat
CAL = WorkCalendar()


def days(first: str, last: str) -> list[date]:
    return [D(first) + timedelta(i) for i in range((D(last) - D(first)).days + 1)]


# Spring Festival 2025: 2025-01-28 (Tue) … 2025-02-04 (Tue) off, 8 days;
# make-up working days Sunday 2025-01-26 and Saturday 2025-02-08.
def test_spring_festival_2025_days_off_and_make_up_sunday_and_saturday():
    assert not any(CAL.is_working_day(d) for d in days("2025-01-28", "2025-02-04"))
    assert CAL.is_working_day(D("2025-01-26")) and CAL.is_working_day(D("2025-02-08"))
    assert not CAL.is_working_day(D("2025-01-25"))   # the Saturday before stays a rest day


def test_friday_task_before_spring_festival_2025_is_due_on_the_make_up_sunday():
    assert CAL.add_working_days(D("2025-01-24"), 1) == D("2025-01-26")


def test_task_on_last_day_before_spring_festival_2025_is_due_after_the_holiday():
    assert CAL.add_working_days(D("2025-01-27"), 1) == D("2025-02-05")
    assert CAL.next_working_day(D("2025-02-07")) == D("2025-02-08")   # make-up Saturday


# National Day 2025 (with Mid-Autumn on 2025-10-06): 2025-10-01 … 2025-10-08 off;
# make-up working days Sunday 2025-09-28 and Saturday 2025-10-11.
def test_national_day_2025_days_off_and_make_up_days():
    assert not any(CAL.is_working_day(d) for d in days("2025-10-01", "2025-10-08"))
    assert CAL.is_working_day(D("2025-09-28")) and CAL.is_working_day(D("2025-10-11"))
    assert CAL.next_working_day(D("2025-09-30")) == D("2025-10-09")


def test_fifteen_working_day_deadline_across_national_day_2025():
    # From Fri 2025-09-26: 9-28, 9-29, 9-30, 10-9, 10-10, 10-11, 10-13..17 (5), 10-20..23 (4) = 15.
    assert CAL.add_working_days(D("2025-09-26"), 15) == D("2025-10-23")


def test_working_days_between_across_national_day_2025():
    assert CAL.working_days_between(D("2025-09-26"), D("2025-10-23")) == 15
    assert CAL.working_days_between(D("2025-09-30"), D("2025-10-09")) == 1
    assert CAL.working_days_between(D("2025-10-01"), D("2025-10-08")) == 0


def test_working_days_between_is_zero_when_end_is_not_after_start():
    assert CAL.working_days_between(D("2025-10-23"), D("2025-09-26")) == 0
    assert CAL.working_days_between(D("2025-10-23"), D("2025-10-23")) == 0


def test_working_days_between_over_two_years_matches_the_library_day_by_day():
    start, end = D("2024-12-31"), D("2026-12-31")
    expected = sum(chinese_calendar.is_workday(d) for d in days("2025-01-01", "2026-12-31"))
    assert CAL.working_days_between(start, end) == expected == 496


# Spring Festival 2026 per chinese_calendar 1.11 (and 国办发明电〔2025〕7号):
# 2026-02-15 (Sun) … 2026-02-23 (Mon) off, 9 days;
# make-up working days Saturday 2026-02-14 and Saturday 2026-02-28.
def test_spring_festival_2026():
    assert not any(CAL.is_working_day(d) for d in days("2026-02-15", "2026-02-23"))
    assert CAL.is_working_day(D("2026-02-14")) and CAL.is_working_day(D("2026-02-28"))
    assert CAL.add_working_days(D("2026-02-13"), 2) == D("2026-02-24")


# Mid-Autumn 2026: 2026-09-25 (Fri) … 09-27 off. National Day 2026: 2026-10-01 … 2026-10-07 off;
# make-up working days Sunday 2026-09-20 and Saturday 2026-10-10.
def test_mid_autumn_and_national_day_2026():
    off = days("2026-09-25", "2026-09-27") + days("2026-10-01", "2026-10-07")
    assert not any(CAL.is_working_day(d) for d in off)
    assert CAL.is_working_day(D("2026-09-20")) and CAL.is_working_day(D("2026-10-10"))
    assert CAL.next_working_day(D("2026-09-24")) == D("2026-09-28")
    assert CAL.add_working_days(D("2026-09-30"), 3) == D("2026-10-10")


def test_zero_working_days_is_the_start_itself_and_negative_is_refused():
    assert CAL.add_working_days(D("2025-10-01"), 0) == D("2025-10-01")
    with pytest.raises(ValueError):
        CAL.add_working_days(D("2025-10-01"), -1)


def test_library_years_are_covered_and_2027_is_not():
    assert {2004, 2025, 2026} <= CAL.covered_years() and 2027 not in CAL.covered_years()
    assert CAL.covers(D("2026-12-31")) and not CAL.covers(D("2027-01-01"))


def test_2027_is_a_calendar_gap_that_names_the_year_and_asks_for_the_schedule():
    with pytest.raises(CalendarGap) as gap:
        CAL.is_working_day(D("2027-03-01"))
    assert gap.value.years == [2027] and gap.value.dates == [D("2027-03-01")]
    assert "2027" in str(gap.value) and "节假日安排" in str(gap.value)


def test_fifteen_working_day_deadline_from_december_2026_needs_2027():
    # Only 9 working days remain in 2026 after Sun 2026-12-20.
    with pytest.raises(CalendarGap) as gap:
        CAL.add_working_days(D("2026-12-20"), 15)
    assert gap.value.years == [2027] and gap.value.dates == [D("2027-01-01")]
    assert CAL.add_working_days(D("2026-12-20"), 9) == D("2026-12-31")


def test_overdue_count_into_uncovered_years_names_every_missing_year():
    with pytest.raises(CalendarGap) as gap:
        CAL.working_days_between(D("2026-12-01"), D("2028-01-05"))
    assert gap.value.years == [2027, 2028]


# A made-up 2027 schedule (the real one is not published yet): 1-1 (Fri) … 1-3 off, Saturday 1-9 worked.
MADE_UP_2027 = YearSchedule(2027, frozenset(days("2027-01-01", "2027-01-03")), frozenset({D("2027-01-09")}))


def test_entered_2027_schedule_is_used_with_its_make_up_saturday():
    cal = WorkCalendar([MADE_UP_2027])
    assert 2027 in cal.covered_years() and cal.covers(D("2027-06-01"))
    assert not cal.is_working_day(D("2027-01-01"))
    assert cal.is_working_day(D("2027-01-09"))
    assert cal.next_working_day(D("2026-12-31")) == D("2027-01-04")
    # 2026-12-21..31: 9 working days, then 1-4..1-8 (5) and the make-up Saturday 1-9.
    assert cal.add_working_days(D("2026-12-20"), 15) == D("2027-01-09")
    assert cal.working_days_between(D("2026-12-20"), D("2027-01-09")) == 15


def test_entered_year_overrides_the_library():
    # Pretend the office entered a 2025 with no holidays at all: the entry wins.
    cal = WorkCalendar([YearSchedule(2025, frozenset(), frozenset())])
    assert cal.is_working_day(D("2025-10-01"))
    assert not cal.is_working_day(D("2025-09-28"))


def test_weekends_fallback_counts_monday_to_friday_in_uncovered_years_only():
    cal = WorkCalendar(fallback="weekends")
    assert cal.is_working_day(D("2027-01-01"))                # Friday: no holiday data, counted
    assert not cal.is_working_day(D("2027-01-02"))            # Saturday
    assert not cal.covers(D("2027-01-01")) and 2027 not in cal.covered_years()
    assert not cal.is_working_day(D("2026-10-01"))            # the library still decides 2026
    assert cal.add_working_days(D("2026-12-31"), 6) == D("2027-01-08")


def test_unknown_fallback_is_refused():
    with pytest.raises(ValueError, match="fallback"):
        WorkCalendar(fallback="guess")


def test_two_schedules_for_one_year_are_refused():
    with pytest.raises(ValueError, match="2027"):
        WorkCalendar([MADE_UP_2027, MADE_UP_2027])


@pytest.mark.parametrize("holidays, workdays, message, fields", [
    ({D("2028-01-01")}, set(), "不在 2027 年", ("holidays",)),
    (set(), {D("2026-12-26")}, "不在 2027 年", ("workdays",)),
    ({D("2027-01-09")}, {D("2027-01-09")}, "既是假日又是调休工作日", ("holidays", "workdays")),
    (set(), {D("2027-01-11")}, "只会是周六或周日", ("workdays",)),          # a Monday
    ({datetime(2027, 1, 1)}, set(), "不是日期", ("holidays",)),
], ids=["holiday-other-year", "workday-other-year", "in-both-sets", "weekday-make-up-day", "datetime"])
def test_invalid_year_schedule_is_refused_naming_the_field_at_fault(holidays, workdays, message, fields):
    with pytest.raises(ScheduleError, match=message) as refused:
        YearSchedule(2027, frozenset(holidays), frozenset(workdays))
    assert refused.value.fields == fields and isinstance(refused.value, ValueError)


def test_year_schedule_round_trips_through_a_dict_with_sorted_iso_dates():
    data = MADE_UP_2027.to_dict()
    assert data == {"year": 2027, "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"],
                    "workdays": ["2027-01-09"]}
    assert YearSchedule.from_dict(data) == MADE_UP_2027


@pytest.mark.parametrize("data", [
    {"year": 2027, "holidays": ["2027-13-01"], "workdays": []},
    {"year": 2027, "holidays": []},
    {"year": "2027", "holidays": [], "workdays": []},
    {"year": 2027, "holidays": [], "workdays": ["2027-01-11"]},
], ids=["bad-date", "missing-field", "year-not-int", "weekday-make-up-day"])
def test_year_schedule_from_dict_validates(data):
    with pytest.raises(ValueError):
        YearSchedule.from_dict(data)


def test_local_date_is_the_beijing_calendar_date_around_midnight():
    assert local_date(datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)) == D("2026-11-23")
    assert local_date(datetime(2026, 11, 22, 15, 59, tzinfo=timezone.utc)) == D("2026-11-22")
    assert local_date(datetime(2026, 11, 23, 0, 0, tzinfo=SHANGHAI)) == D("2026-11-23")


def test_local_date_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2026, 11, 22, 17, 0))
