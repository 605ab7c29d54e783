"""The ledger's read-side rules without a database: overdue, rates, directory rows, access, exports."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import openpyxl
import pytest
from marshmallow import ValidationError

from ledger.adapters.filters import Scope
from zfcommon.spreadsheets import csv_chunks, xlsx_file
from ledger.domain import directory, figures, overdue, rates
from ledger.entrypoints.access import scope_for
from ledger.entrypoints.columns import UNIT_STATS
from zfcommon.exports import disposition
from ledger.entrypoints.schemas import CaseQuery
from zfcommon.auth import Principal
from zfcommon.problem import Forbidden
from zfcommon.workdays import WorkCalendar, YearSchedule

from .test_ledger_evolve import Story, story

CALENDAR = WorkCalendar()


def case(*names: str) -> dict:
    return story(*names).row()      # deadline 2024-05-20, sign for by 2024-05-08


@pytest.mark.parametrize("names", [("assigned",), ("assigned", "accepted"),
                                   ("assigned", "accepted", "rectification_reported"),
                                   ("assigned", "accepted", "dismissal_reported")])
def test_a_running_case_is_overdue_the_day_after_its_deadline(names):
    assert not overdue.is_overdue(case(*names), date(2024, 5, 20))
    assert overdue.is_overdue(case(*names), date(2024, 5, 21))


@pytest.mark.parametrize("names", [(), ("assigned", "returned"), ("assigned", "accepted", "rectification_reported",
                                                                 "closed"), ("merged",),
                                   ("assigned", "accepted", "dismissal_reported", "dismissal_accepted")])
def test_a_case_whose_deadline_is_not_running_is_never_overdue(names):
    assert not overdue.is_overdue(case(*names), date(2030, 1, 1))


def test_only_an_unsigned_assignment_can_be_late_to_be_signed_for():
    assert overdue.is_sign_for_overdue(case("assigned"), date(2024, 5, 9))
    assert not overdue.is_sign_for_overdue(case("assigned"), date(2024, 5, 8))
    assert not overdue.is_sign_for_overdue(case("assigned", "accepted"), date(2024, 5, 9))


def test_working_days_overdue_count_make_up_working_days_and_skip_holidays():
    # From Fri 2024-05-10: Sat 05-11 was a make-up working day; Mon 06-10 was the Dragon Boat holiday.
    row = {**case("assigned"), "deadline": date(2024, 5, 10)}
    assert overdue.assess(row, date(2024, 5, 13), CALENDAR)["working_days_overdue"] == 2
    assert overdue.assess(row, date(2024, 6, 10), CALENDAR)["working_days_overdue"] == 21


def test_a_case_not_overdue_has_zero_working_days_overdue():
    assert overdue.assess(case("assigned", "accepted"), date(2024, 5, 20), CALENDAR) == {
        "overdue": False, "working_days_overdue": 0, "working_days_left": 0, "sign_for_overdue": False,
        "calendar_gap": None}


def test_working_days_left_count_up_to_the_deadline_skipping_holidays():
    # Deadline Mon 2024-05-20; from Thu 05-16: Fri 17 and Mon 20 are left (the weekend is not).
    assert overdue.assess(case("assigned", "accepted"), date(2024, 5, 16), CALENDAR)["working_days_left"] == 2
    # From Fri 2024-05-10 the make-up Saturday 05-11 counts: 11, 13-17, 20.
    assert overdue.assess(case("assigned"), date(2024, 5, 10), CALENDAR)["working_days_left"] == 7


@pytest.mark.parametrize("names", [(), ("assigned", "returned"), ("assigned", "accepted", "rectification_reported",
                                                                 "closed"), ("assigned", "accepted")])
def test_only_a_running_deadline_not_yet_passed_has_working_days_left(names):
    left = overdue.assess(case(*names), date(2024, 5, 21), CALENDAR)["working_days_left"]
    assert left is None


def test_working_days_in_a_year_the_calendar_lacks_are_named_not_guessed():
    row = {**case("assigned"), "deadline": date(2026, 12, 30)}
    facts = overdue.assess(row, date(2027, 1, 5), CALENDAR)
    assert facts["overdue"] is True and facts["working_days_overdue"] is None and "2027" in facts["calendar_gap"]


def test_a_rate_is_meaningful_from_the_minimum_base_on():
    assert rates.rate(3, 4) == {"numerator": 3, "denominator": 4, "value": 0.75, "meaningful": False}
    assert rates.rate(4, 5)["meaningful"] is True and rates.MIN_RATE_BASE == 5
    assert rates.rate(0, 0) == {"numerator": 0, "denominator": 0, "value": None, "meaningful": False}


def test_the_closure_rate_counts_overdue_open_cases_against_the_unit():
    sums = {**dict.fromkeys(figures.FIGURES, 0), "open": 3, "closed": 4, "closed_on_time": 3}
    assert rates.unit_figures("u", sums, {"overdue": 2})["closure_on_time_rate"] == rates.rate(3, 6)


def test_the_sign_for_rate_counts_assignments_past_their_sign_for_day():
    sums = {**dict.fromkeys(figures.FIGURES, 0), "signed": 4, "signed_on_time": 3}
    assert rates.unit_figures("u", sums, {"sign_for_pending": 2})["sign_for_on_time_rate"] == rates.rate(3, 6)


def test_a_category_removed_stays_on_record_as_inactive():
    entry = directory.directory_entry("cn.zhengfeng.directory.category_removed.v1", {"name": "a", "group": "g"})
    assert (entry.table, entry.key, entry.row) == ("categories", "name", {"name": "a", "group": "g", "active": False})


def test_an_entered_calendar_year_round_trips_to_the_calendars_schedule():
    data = {"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-02-06"]}
    entry = directory.directory_entry("cn.zhengfeng.directory.calendar_year_set.v1", data)
    assert entry.row == {"year": 2027, "holidays": [date(2027, 1, 1)], "workdays": [date(2027, 2, 6)]}
    assert YearSchedule.from_row(entry.row).to_dict() == data


@pytest.mark.parametrize("who, scope", [
    (Principal("office", "o"), Scope()), (Principal("auditor", "a"), Scope()),
    (Principal("unit", "u", unit="县住建局"), Scope(unit="县住建局", full_text=False)),
    (Principal("channel", "c", channel="hotline"), Scope(channel="hotline", full_text=False)),
    (Principal("channel", "point-a", channel="monitoring_point"),
     Scope(channel="monitoring_point", source="point-a", full_text=False)),
    (Principal("channel", "client-7", channel="petition", client_id="client-7", rate_per_minute=60),
     Scope(channel="petition", submitter="channel:client-7", full_text=False))],
    ids=["office", "auditor", "unit", "hotline platform", "monitoring point", "petition system"])
def test_each_reader_role_gets_its_scope(who, scope):
    assert scope_for(who) == scope


def test_the_public_is_refused():
    with pytest.raises(Forbidden):
        scope_for(Principal("public", "p"))


def test_statuses_may_be_repeated_or_comma_separated():
    assert CaseQuery().load({"status": ["received, closed", "merged"]})["status"] == ["received", "closed", "merged"]
    with pytest.raises(ValidationError, match="status"):
        CaseQuery().load({"status": ["received", "shredded"]})


def test_csv_starts_with_a_bom_and_guards_formulas():
    text = b"".join(csv_chunks(["a", "b"], [["=1+1", 2], ["-3", "ok"]], rows_per_chunk=1)).decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [["a", "b"], ["'=1+1", "2"], ["'-3", "ok"]]


def test_xlsx_keeps_numbers_as_numbers_and_formulas_as_text():
    book = openpyxl.load_workbook(xlsx_file("表", ["甲", "乙"], [10, 20], [[1, "=2"]]))
    assert [list(r) for r in book["表"].iter_rows(values_only=True)] == [["甲", "乙"], [1, "=2"]]


def test_a_chinese_file_name_is_sent_as_rfc_5987_with_an_ascii_fallback():
    assert disposition("台账.csv", "ledger.csv") == \
        "attachment; filename=\"ledger.csv\"; filename*=UTF-8''%E5%8F%B0%E8%B4%A6.csv"


def test_the_stats_export_writes_a_rate_with_its_base_and_flag():
    show = {c.header: c.value for c in UNIT_STATS}["满意率"]
    assert show({"satisfaction_rate": rates.rate(9, 10)}) == "90.0%（9/10）"
    assert show({"satisfaction_rate": rates.rate(1, 3)}) == "33.3%（1/3，样本不足）"
    assert show({"satisfaction_rate": rates.rate(0, 0)}) == "—"



def test_a_case_counts_for_its_lead_unit_in_the_month_it_was_received_in_china():
    late_evening = Story(at=datetime(2024, 5, 31, 15, 30, tzinfo=timezone.utc)).then("assigned").row()  # 23:30
    past_midnight = Story(at=datetime(2024, 5, 31, 16, 30, tzinfo=timezone.utc)).then("assigned").row()  # Jun 1
    assert figures.figures(late_evening)[0] == ("县住建局", "hotline", date(2024, 5, 1))
    assert figures.figures(past_midnight)[0] == ("县住建局", "hotline", date(2024, 6, 1))


def test_a_case_without_a_lead_unit_counts_for_nobody():
    assert figures.figures(case()) is None and figures.changes(None, case()) == {}


def test_a_reassignment_moves_the_figures_between_units():
    before, after = case("assigned", "accepted"), case("assigned", "accepted", "reassigned")
    moved = figures.changes(before, after)
    assert moved[("县住建局", "hotline", date(2024, 5, 1))] == {**dict.fromkeys(figures.FIGURES, 0), "open": -1,
                                                              "signed": -1, "signed_on_time": -1, "received": -1}
    assert moved[("县交通运输局", "hotline", date(2024, 5, 1))] == {**dict.fromkeys(figures.FIGURES, 0), "open": 1,
                                                                "received": 1}


def test_an_event_that_changes_no_figure_changes_no_row():
    assert figures.changes(case("assigned", "accepted"), case("assigned", "accepted", "progress_noted")) == {}


def test_closing_turns_an_open_case_into_a_closed_one():
    delta = figures.changes(case("assigned", "accepted", "rectification_reported"),
                            case("assigned", "accepted", "rectification_reported", "closed"))
    assert list(delta.values()) == [{**dict.fromkeys(figures.FIGURES, 0), "open": -1, "closed": 1,
                                     "closed_on_time": 1}]
