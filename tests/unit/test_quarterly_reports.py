"""Quarterly work reports (季度工作情况报送, seed 001), pure: which quarter a unit reports from, the due
date (the 5th working day after the quarter, across 2026's Qingming and National Day holidays), the
flag day, what a filing records and how it is corrected, and the quarters missed after an outage."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from notify.domain import quarterly
from notify.domain.reports import Invalid, Refused, Week
from zfcommon import periods
from zfcommon.events.catalogue import validate_data
from zfcommon.workdays import CalendarGap, WorkCalendar

CAL = WorkCalendar()
UNIT = "县住建局"


def d(text: str) -> date:
    return date.fromisoformat(text)


def stored(*decided, start: int = 1):
    return [SimpleNamespace(id=f"ev-{start + i}", type=t, data=data, streamversion=start + i)
            for i, (t, data) in enumerate(decided)]


@pytest.mark.parametrize("quarter, due, flag", [
    ("2026-Q1", "2026-04-08", "2026-04-09"),     # 清明 4–6 April off
    ("2026-Q2", "2026-07-07", "2026-07-08"),
    ("2026-Q3", "2026-10-13", "2026-10-14"),     # National Day 1–7 October off, make-up Saturday 10 October
])
def test_a_quarter_is_due_the_fifth_working_day_after_it_and_flagged_the_next(quarter, due, flag):
    assert quarterly.due_date(quarter, CAL) == d(due)
    assert CAL.next_working_day(quarterly.due_date(quarter, CAL)) == d(flag)


def test_a_quarter_whose_due_date_falls_in_a_year_the_calendar_lacks_is_not_judged():
    with pytest.raises(CalendarGap):
        quarterly.due_date("2026-Q4", CAL)      # due in January 2027: chinese-calendar ends with 2026
    through, gap = quarterly.flaggable_through(d("2027-01-20"), CAL)
    assert through == "2026-Q3" and isinstance(gap, CalendarGap)


def test_the_latest_quarter_flaggable_is_the_last_one_whose_flag_day_has_come():
    assert quarterly.flaggable_through(d("2026-10-13"), CAL) == ("2026-Q2", None)
    assert quarterly.flaggable_through(d("2026-10-14"), CAL) == ("2026-Q3", None)
    assert quarterly.flaggable_through(d("2026-12-07"), CAL) == ("2026-Q3", None)


def test_a_unit_reports_from_the_quarter_its_first_reporting_week_counts_in():
    assert quarterly.first_quarter(Week.parse("2026-W37")) == "2026-Q3"
    assert quarterly.first_quarter(Week.parse("2026-W14")) == "2026-Q2"    # Monday 30 March, Thursday 2 April
    assert quarterly.required(Week.parse("2026-W37"), "2026-Q3")
    assert not quarterly.required(Week.parse("2026-W37"), "2026-Q2")
    assert not quarterly.required(None, "2026-Q3")
    assert list(quarterly.quarters("2026-Q3", "2027-Q1")) == ["2026-Q3", "2026-Q4", "2027-Q1"]


BODY = {"quarter": "2026-Q3", "summary": "本季度开展作风问题专项整治，办结交办线索3件。",
        "progress": [{"case_id": "c-1", "note": "已整改"}], "self_found": [{"description": "窗口公示不全"}],
        "next_steps": "下季度开展回头看", "note": None}


def test_a_filing_needs_a_begun_quarter_and_a_summary_and_names_each_case_once():
    assert quarterly.check_filing(BODY, d("2026-09-28")) == "2026-Q3"      # in the quarter's last days
    for body, field in (({**BODY, "quarter": "2026-Q4"}, "quarter"), ({**BODY, "quarter": "2026-Q5"}, "quarter"),
                        ({**BODY, "summary": "  "}, "summary"),
                        ({**BODY, "progress": BODY["progress"] * 2}, "progress")):
        with pytest.raises(Invalid) as refused:
            quarterly.check_filing(body, d("2026-09-28"))
        assert field in refused.value.errors


def test_a_late_filing_stays_late_when_corrected_and_a_stale_correction_is_refused():
    history = quarterly.fold([])
    first = quarterly.filing(history, UNIT, "2026-Q3", BODY, due=d("2026-10-13"), today=d("2026-10-15"))
    assert (first["late"], first["revision"], first["corrects"], first["due"]) == (True, 1, None, "2026-10-13")
    validate_data(quarterly.FILED, first)
    history = quarterly.fold(stored((quarterly.FILED, first)))
    with pytest.raises(Refused) as again:
        quarterly.filing(history, UNIT, "2026-Q3", BODY, due=d("2026-10-13"), today=d("2026-10-16"))
    assert again.value.code == "report.already_filed" and again.value.details == {"current": "ev-1"}
    fixed = quarterly.filing(history, UNIT, "2026-Q3", {**BODY, "corrects": "ev-1"}, due=d("2026-10-13"),
                             today=d("2026-10-16"))
    assert (fixed["late"], fixed["revision"], fixed["corrects"]) == (True, 2, "ev-1")
    with pytest.raises(Invalid):
        quarterly.filing(history, UNIT, "2026-Q2", {**BODY, "corrects": "ev-1"}, due=None, today=d("2026-10-16"))


def test_after_an_outage_each_quarter_without_a_report_is_flagged_once_in_order():
    filed = quarterly.filing(quarterly.fold([]), UNIT, "2026-Q2", {**BODY, "quarter": "2026-Q2"},
                             due=d("2026-07-07"), today=d("2026-07-01"))
    history = quarterly.fold(stored((quarterly.FILED, filed)))
    decided = quarterly.missed_quarters(history, UNIT, "2026-Q1", "2026-Q3", CAL)
    assert [(t, data["quarter"], data["flagged_on"]) for t, data in decided] == [
        (quarterly.MISSED, "2026-Q1", "2026-04-09"), (quarterly.MISSED, "2026-Q3", "2026-10-14")]
    for t, data in decided:
        validate_data(t, data)
    again = quarterly.fold(stored((quarterly.FILED, filed), *decided))
    assert quarterly.missed_quarters(again, UNIT, "2026-Q1", "2026-Q3", CAL) == []


def test_periods_are_named_as_people_write_them_and_quarters_counted_back():
    assert periods.quarter_label("2026-Q4") == "2026年第四季度" and periods.quarter_label("2026-Q5") == "2026-Q5"
    assert periods.week_label("2026-W05") == "2026年第5周" and periods.week_label("2026-W54") == "2026-W54"
    assert periods.quarters_back(d("2027-01-05"), 3) == ["2027-Q1", "2026-Q4", "2026-Q3"]
    assert periods.quarters_back(d("2026-12-31"), 1) == ["2026-Q4"]
