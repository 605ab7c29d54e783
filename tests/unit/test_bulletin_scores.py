"""The monthly bulletin's scores, ranking and minimum case count; its marks; the publication lifecycle;
the quarterly disclosure's due dates (notify/domain: bulletin, marks, publication, disclosure)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from notify.domain import bulletin, disclosure, document, marks, publication
from notify.domain.bulletin import DEFAULT_RULES, Marks
from notify.service_layer.bulletins import disclosure_overview
from zfcommon.events.catalogue import DEDUCTIONS, TypicalCase, validate_data
from zfcommon.workdays import WorkCalendar


def rate(n: int, d: int) -> dict:
    return bulletin.rate(n, d, 5)


def stats(unit: str, received: int = 5, **figures) -> dict:
    row = {"unit": unit, "received": received, "open": 0, "closed": received, "overdue": 0, "unsatisfied": 0,
           "rework_count": 0, "extension_count": 0, "dismissed": 0, "recheck_upheld": 0, "recheck_overturned": 0,
           "sign_for_on_time_rate": rate(received, received), "closure_on_time_rate": rate(received, received),
           "satisfaction_rate": rate(0, 0)}
    return {**row, **figures}


def rules(**points) -> dict:
    return {"base": 100, "min_cases": 3, "deductions": {**dict.fromkeys(DEDUCTIONS, 0), **points}}


def test_every_deduction_counts_a_figure():
    assert set(bulletin.COUNTS) == set(DEDUCTIONS) == set(DEFAULT_RULES["deductions"])


def test_the_score_is_the_base_less_points_per_occurrence():
    figures = bulletin.unit_figures(stats("u", overdue=2, rework_count=1, sign_for_on_time_rate=rate(3, 5)),
                                    Marks(weekly_missed=1, criticisms=1))
    lines, score = bulletin.score(figures, DEFAULT_RULES)
    assert {(line["rule"], line["count"], line["total"]) for line in lines} == {
        ("overdue", 2, 4.0), ("late_sign_for", 2, 2.0), ("rework", 1, 1.0), ("weekly_missed", 1, 2.0),
        ("criticism", 1, 5.0)}
    assert score == 86.0


def test_fractional_points_add_up_exactly_and_a_score_never_goes_below_zero():
    assert bulletin.score(bulletin.unit_figures(stats("u", overdue=3), Marks()), rules(overdue=0.1))[1] == 99.7
    assert bulletin.score(bulletin.unit_figures(stats("u", overdue=60), Marks()), rules(overdue=2))[1] == 0.0


def test_late_sign_fors_are_the_misses_of_the_ledgers_sign_for_rate():
    assert bulletin.unit_figures(stats("u", sign_for_on_time_rate=rate(4, 7)), Marks())["late_sign_for"] == 3


def test_a_unit_with_only_marks_is_listed_with_zero_cases():
    data = bulletin.assemble(period={"month": "2026-05"}, judged_on=date(2026, 6, 3), stats=[], min_base=5,
                             marks={"县教育局": Marks(weekly_missed=2)}, rules=DEFAULT_RULES, typical_cases=[],
                             note=None)
    (row,) = data["units"]
    assert (row["unit"], row["received"], row["weekly_missed"], row["score"], row["ranked"]) == (
        "县教育局", 0, 2, 96.0, False)


def test_equal_scores_share_a_rank_and_the_next_rank_skips():
    rows = [{"unit": u, "score": s, "received": 5} for u, s in (("丙", 90), ("甲", 95), ("乙", 90), ("丁", 80))]
    assert [(r["unit"], r["rank"]) for r in bulletin.rank(rows, 3)] == [
        ("甲", 1), ("丙", 2), ("乙", 2), ("丁", 4)]     # a tie goes by name (code point order: 丙 < 乙)


def test_units_below_the_minimum_case_count_are_listed_after_the_ranked_but_not_ranked():
    rows = [{"unit": "甲", "score": 100, "received": 2}, {"unit": "乙", "score": 70, "received": 3}]
    assert [(r["unit"], r["ranked"], r["rank"]) for r in bulletin.rank(rows, 3)] == [
        ("乙", True, 1), ("甲", False, None)]
    assert all(r["ranked"] for r in bulletin.rank(rows, 0))


def test_the_assembled_bulletin_is_a_valid_drafted_event_with_totals_over_all_units():
    criticism = {"unit": "乙", "source": "escalation", "kind": "bulletin_criticism", "day": "2026-05-20",
                 "case_ids": ["c1"], "working_days_overdue": 12}
    marked = {"乙": Marks(criticisms=1, entries=[criticism])}
    data = bulletin.assemble(
        period={"month": "2026-05"}, judged_on=date(2026, 6, 3), min_base=5, rules=DEFAULT_RULES, note="请对照整改",
        stats=[stats("甲", 6, overdue=1, closure_on_time_rate=rate(5, 6)),
               stats("乙", 2, closure_on_time_rate=rate(0, 2))],
        marks=marked, case_numbers={"c1": "ZF-2026-000123"},
        typical_cases=[{"case_id": "c1", "case_number": "ZF-2026-000123", "category": "推诿扯皮", "unit": "乙",
                        "unit_role": "lead_unit", "channel": "hotline", "status": "closed", "text": "窗口推诿"}])
    assert validate_data("cn.zhengfeng.bulletin.drafted.v1", data) == {}
    assert (data["totals"]["received"], data["totals"]["closure_on_time_rate"]) == (8, rate(5, 8))
    assert [(u["unit"], u["rank"], u["score"]) for u in data["units"]] == [("甲", 1, 98.0), ("乙", None, 95.0)]
    assert data["criticism"] == [{**criticism, "case_numbers": ["ZF-2026-000123"]}]
    assert bulletin.case_ids(marked) == {"c1"}
    interim = {**{k: v for k, v in data.items() if k != "month"}, "from": "2026-11-02", "to": "2026-11-15"}
    assert validate_data("cn.zhengfeng.interim.drafted.v1", interim) == {}
    assert validate_data("cn.zhengfeng.interim.drafted.v1", data) != {}       # a month is not a period


def test_a_typical_case_names_the_unit_responsible_never_unassigned_as_a_unit():
    case = {"case_id": "3f9a2c41-0000-4000-8000-000000000001", "category": "推诿扯皮", "lead_unit": None,
            "subject_unit": "县自然资源局", "channel": "hotline", "status": "received", "description": "窗口推诿"}
    shown = bulletin.typical_case(case, None)
    assert (shown["unit"], shown["unit_role"], shown["case_number"]) == ("县自然资源局", "subject_unit", None)
    assigned = bulletin.typical_case({**case, "lead_unit": "县住建局", "case_number": "ZF-2026-000123"}, None)
    assert (assigned["unit"], assigned["unit_role"], assigned["case_number"]) == ("县住建局", "lead_unit",
                                                                                  "ZF-2026-000123")


def test_a_case_is_named_by_its_human_number_else_by_the_start_of_its_id():
    assert document.case_label("3f9a2c41-0000-4000-8000-000000000001", "ZF-2026-000123") == "ZF-2026-000123"
    assert document.case_label("3f9a2c41-0000-4000-8000-000000000001", None) == "3f9a2c41"


@pytest.mark.parametrize("pattern, number", [
    ("{office}通〔{year}〕{seq}号", "正风办通〔2026〕7号"),            # GB/T 9704: no padding, no 第
    ("邵正风发〔{year}〕{seq}号", "邵正风发〔2026〕7号"),
])
def test_a_document_number_follows_the_offices_pattern(pattern, number):
    office = document.Office("邵阳县正风肃纪办公室", "正风办", {"bulletin": document.check_pattern(pattern)})
    assert office.issue("bulletin", date(2026, 12, 3), 7) == {
        "number": number, "year": 2026, "sequence": 7, "issuer": "邵阳县正风肃纪办公室", "issued_on": "2026-12-03"}


@pytest.mark.parametrize("pattern", ["正风办通〔{year}〕号", "通〔{year}〕{seq}号{unit}", "通〔{year}〕{seq号", "{0}{year}{seq}"])
def test_a_pattern_without_year_and_sequence_or_with_other_fields_is_refused(pattern):
    with pytest.raises(document.BadPattern):
        document.check_pattern(pattern)


def test_the_office_takes_each_kinds_pattern_from_its_setting_and_a_bad_one_is_named():
    from types import SimpleNamespace

    from zfcommon.settings import ConfigError
    settings = SimpleNamespace(office_name="", notice_office="邵正风办", bulletin_number="{office}通〔{year}〕{seq}号",
                               interim_number="{office}阶段通〔{year}〕{seq}号", letter_number="{office}督〔{year}〕{seq}号",
                               appraisal_number="{office}评〔{year}〕{seq}号")
    office = document.office_from(settings)
    assert office.issue("letter", date(2026, 11, 30), 12)["number"] == "邵正风办督〔2026〕12号"
    assert office.issue("appraisal", date(2027, 1, 8), 1)["number"] == "邵正风办评〔2027〕1号"
    assert office.name == "邵正风办"
    with pytest.raises(ConfigError, match="ZF_LETTER_NUMBER"):
        document.office_from(SimpleNamespace(**{**vars(settings), "letter_number": "督〔{year}〕号"}))


def test_personal_data_in_a_typical_cases_text_is_masked():
    case = {"case_id": "c1", "category": "吃拿卡要", "lead_unit": "县市场监管局", "channel": "hotline",
            "status": "closed", "description": "张某(13807391234, 430102199001011234, zhang@example.cn)反映索要红包",
            "complainant": "never read"}
    shown = bulletin.typical_case(case, None)
    assert "13807391234" not in shown["text"] and "430102199001011234" not in shown["text"]
    assert "zhang@example.cn" not in shown["text"] and shown["text"].endswith("反映索要红包")
    assert "complainant" not in shown
    assert "84561234" not in bulletin.typical_case(case, "办事窗口索要红包，拨打0731-84561234核实")["text"]


def test_a_typical_case_carries_its_number_for_the_bulletin_to_show():
    case = {"case_id": "c1", "case_number": "ZF-2026-000123", "category": "吃拿卡要", "lead_unit": "县市场监管局",
            "channel": "hotline", "status": "closed", "description": "窗口索要红包"}
    shown = bulletin.typical_case(case, None)
    assert shown["case_number"] == "ZF-2026-000123"
    assert TypicalCase().validate(shown) == {}          # as the drafted event stores it


ISSUED = {"ladder": "deadline", "step": "bulletin_criticism", "round": 1, "unit": "县住建局", "due": "2026-04-30",
          "working_days_overdue": 15, "handling_mode": "deadline", "threshold": 15, "crossed_on": "2026-05-22"}


def test_a_bulletin_criticism_counts_in_the_month_its_threshold_was_crossed():
    found = marks.mark(marks.STEP_ISSUED, "case-1", ISSUED, datetime(2026, 6, 2, tzinfo=timezone.utc))
    assert (found["kind"], found["unit"], found["month"]) == ("criticism", "县住建局", date(2026, 5, 1))
    assert found["entry"]["case_ids"] == ["case-1"]
    letter = {**ISSUED, "step": "supervision_letter"}
    assert marks.mark(marks.STEP_ISSUED, "case-1", letter, datetime.now(timezone.utc)) is None


def test_an_accountability_record_counts_in_its_month_in_china_and_never_names_the_person():
    data = {"measure": "admonishment", "target_kind": "person", "target": "王某", "unit": "县住建局",
            "basis_cases": ["c2", "c1"], "decided_by": "县纪委", "reason": "超期不办"}
    found = marks.mark(marks.ACCOUNTABILITY, "acc-1", data, datetime(2026, 5, 31, 16, 30, tzinfo=timezone.utc))
    assert found["month"] == date(2026, 6, 1) and found["entry"]["case_ids"] == ["c1", "c2"]
    assert "王某" not in str(found)


def test_a_missed_weekly_report_counts_in_the_month_of_its_weeks_thursday():
    data = {"unit": "县教育局", "week": "2026-W22", "flagged_on": "2026-06-01"}    # Mon 25 May – Sun 31 May
    found = marks.mark(marks.WEEKLY_MISSED, "weekly-县教育局", data, datetime.now(timezone.utc))
    assert (found["day"], found["month"]) == (date(2026, 5, 28), date(2026, 5, 1))
    assert marks.week_thursday("2026-W27", date(2026, 7, 6)) == date(2026, 7, 2)   # Mon 29 Jun, Thu 2 Jul


def fold(kind: str, *steps: tuple[str, dict]) -> dict | None:
    row = None
    for version, (name, data) in enumerate(steps, 1):
        row = publication.evolve(row, kind, "2026-05", f"cn.zhengfeng.{kind}.{name}.v1", data, version=version,
                                 time=NOW, actor="office:li") or row
    return row


DRAFT = ("drafted", {"month": "2026-05"})
NOW = datetime(2026, 6, 2, 2, tzinfo=timezone.utc)


def test_a_bulletin_is_published_only_after_approval():
    with pytest.raises(publication.Refused) as refused:
        publication.check("bulletin", "2026-05", fold("bulletin", DRAFT)["state"], "publish")
    assert refused.value.state == "drafted" and refused.value.allowed == ["redraft", "review"]
    approved = fold("bulletin", DRAFT, ("reviewed", {"revision": 1, "decision": "approved", "comments": None}))
    publication.check("bulletin", "2026-05", approved["state"], "publish")


def test_sending_a_draft_back_needs_a_redraft_which_needs_a_new_review():
    back = fold("bulletin", DRAFT, ("reviewed", {"revision": 1, "decision": "changes_requested", "comments": "补充"}))
    assert back["state"] == "changes_requested" and publication.ALLOWED["bulletin"]["changes_requested"] == ("redraft",)
    again = fold("bulletin", DRAFT, ("reviewed", {"revision": 1, "decision": "changes_requested", "comments": "补充"}),
                 DRAFT)
    assert (again["state"], again["revision"], len(again["reviews"])) == ("drafted", 3, 1)


def test_a_published_bulletin_allows_nothing_more():
    with pytest.raises(publication.Refused, match="当前为“已发布”"):
        publication.check("bulletin", "2026-05", "published", "redraft")


def test_an_event_not_newer_than_the_row_changes_nothing():
    row = fold("bulletin", DRAFT)
    assert publication.evolve(row, "bulletin", "2026-05", "cn.zhengfeng.bulletin.drafted.v1", {}, version=1,
                              time=NOW, actor="a") is None


def test_an_interim_report_is_named_by_its_period_and_reviewed_like_a_bulletin():
    key = publication.interim_key(date(2026, 11, 2), date(2026, 11, 15))
    assert key == "2026-11-02_2026-11-15" and publication.interim_period(key) == (date(2026, 11, 2), date(2026, 11, 15))
    assert publication.title("interim", key) == "2026年11月2日至11月15日作风建设工作阶段性通报"
    assert publication.title("interim", "2026-12-21_2027-01-08") == "2026年12月21日至2027年1月8日作风建设工作阶段性通报"
    assert publication.ALLOWED["interim"] == publication.ALLOWED["bulletin"]
    assert publication.period_fields("interim", key) == {"from": "2026-11-02", "to": "2026-11-15"}


def test_publishing_records_the_document_number_and_issuer():
    approved = fold("bulletin", DRAFT, ("reviewed", {"revision": 1, "decision": "approved", "comments": None}))
    doc = {"number": "正风办通〔2026〕1号", "year": 2026, "sequence": 1, "issuer": "正风办", "issued_on": "2026-06-02"}
    published = publication.evolve(approved, "bulletin", "2026-05", "cn.zhengfeng.bulletin.published.v1",
                                   {"digest": "d", "document": doc}, version=3, time=NOW, actor="office:li")
    assert (published["state"], published["document"]) == ("published", doc)


def test_the_digest_is_over_the_canonical_json():
    assert publication.digest({"b": 1, "a": "通报"}) == publication.digest({"a": "通报", "b": 1})


@pytest.mark.parametrize("quarter, due", [
    ("2026-Q1", date(2026, 4, 8)),     # Qingming: 4–6 April off
    ("2026-Q3", date(2026, 10, 13)),   # National Day: 1–7 October off, Saturday 10 October worked
    ("2025-Q4", date(2026, 1, 8)),     # New Year's Day off
])
def test_a_disclosure_is_due_on_the_fifth_working_day_after_the_quarter(quarter, due):
    assert disclosure.due(quarter, WorkCalendar()) == due


def test_the_overview_flags_an_unpublished_quarter_past_its_due_date():
    rows = [{"key": "2026-Q1", "state": "published", "due": "2026-04-08",
             "published_at": datetime(2026, 4, 9, 2, tzinfo=timezone.utc)}]
    items = disclosure_overview(rows, date(2026, 7, 8), WorkCalendar())
    assert [(i["quarter"], i["state"], i["on_time"], i["overdue"]) for i in items] == [
        ("2026-Q2", "not_drafted", None, True), ("2026-Q1", "published", False, False)]
    assert disclosure_overview([], date(2026, 7, 7), WorkCalendar())[0]["overdue"] is False
