"""The office's directory (units, category taxonomy, limits, entered calendar years), rebuilt from its
events; and the decisions that change it."""
from datetime import date

import pytest

from intake.domain import directory as dom
from intake.domain.case import InvalidCommand
from zfcommon.events.catalogue import validate_data
from zfcommon.workdays import CalendarGap, YearSchedule

from .fakes import SCHEDULE_2027

UNIT = {"name": "县教育局", "kind": "government_department", "supervising_channel": "县纪委监委"}
SEEDED = 8 + 12 + 5      # seed 003's eight problems, seed 002's twelve areas, five of the "four winds"


def replay(*batches):
    return dom.Directory.replay([(e.type, e.data) for events in batches for e in events])


def seeded(*batches):
    return replay(dom.seed_events(), *batches)


def play(directory, events):
    for e in events:
        directory.apply(e.type, e.data)
    return directory


def test_directory_without_history_has_the_seed_categories_and_default_limits():
    d = dom.Directory.replay([])
    assert len(d.categories) == SEEDED
    assert (d.categories["推诿扯皮"], d.categories["涉企检查扰企"], d.categories["公车私用"]) == (
        "八类突出问题", "不作为慢作为乱作为", "四风问题")
    assert d.limits["deadline"] == {"normal": 15, "urgent": 10, "critical": 5}
    assert (d.version, d.units, d.sign_for_days, d.recheck_ratio, d.calendar_fallback, d.years) == (
        0, {}, 1, 0.2, None, {})


def test_recorded_taxonomy_replaces_the_default_categories():
    d = replay([dom.NewEvent(dom.PREFIX + "category_added.v1", {"name": "违规收受礼品", "group": "四风问题"})])
    assert d.categories == {"违规收受礼品": "四风问题"}


def test_seed_events_replayed_give_the_default_directory():
    events = dom.seed_events()
    d = replay(events)
    assert d.categories == dom.Directory().categories
    assert (d.limits, d.sign_for_days, d.recheck_ratio, d.calendar_fallback) == (
        dom.Directory().limits, 1, 0.2, None)
    assert d.version == len(events) == SEEDED + 1


def test_seed_events_satisfy_the_catalogue():
    assert [validate_data(e.type, e.data) for e in dom.seed_events()] == [{}] * (SEEDED + 1)


def test_register_unit_twice_registers_then_updates():
    d = seeded()
    [first] = dom.register_unit(d, UNIT)
    assert (first.type, first.data) == (dom.PREFIX + "unit_registered.v1", {**UNIT, "contacts": [], "active": True})
    play(d, [first])
    [second] = dom.register_unit(d, {**UNIT, "active": False})
    assert second.type == dom.PREFIX + "unit_updated.v1"
    play(d, [second])
    assert d.units["县教育局"]["active"] is False
    assert [validate_data(e.type, e.data) for e in (first, second)] == [{}, {}]


def test_check_units_names_unknown_and_inactive_units_only():
    d = play(seeded(), dom.register_unit(seeded(), UNIT) +
             dom.register_unit(seeded(), {**UNIT, "name": "县粮食局", "active": False}))
    assert d.check_units("lead_unit", ["县教育局"]) == {}
    assert d.check_units("cooperating_units", ["县教育局", "县粮食局", "县不存在局"]) == {
        "cooperating_units": ["不是名录中的在用单位：县粮食局、县不存在局"]}


def test_add_category_records_it_and_refuses_an_existing_one():
    d = seeded()
    [event] = dom.add_category(d, "违规收受礼品", "四风问题")
    assert validate_data(event.type, event.data) == {}
    play(d, [event])
    assert d.categories["违规收受礼品"] == "四风问题"
    with pytest.raises(InvalidCommand) as invalid:
        dom.add_category(d, "违规收受礼品", "四风问题")
    assert list(invalid.value.errors) == ["name"]


def test_remove_category_records_its_group_and_refuses_an_unknown_one():
    d = seeded()
    [event] = dom.remove_category(d, "公车私用")
    assert event.data == {"name": "公车私用", "group": "四风问题"}
    play(d, [event])
    assert "公车私用" not in d.categories and len(d.categories) == SEEDED - 1
    with pytest.raises(InvalidCommand) as invalid:
        dom.remove_category(d, "公车私用")
    assert list(invalid.value.errors) == ["name"]


def test_limits_set_replaces_limits_sign_for_days_ratio_and_calendar_fallback():
    limits = {m: {p: n * 2 for p, n in per.items()} for m, per in dom.DEFAULT_LIMITS.items()}
    change = {"limits": limits, "sign_for_days": 2, "recheck_ratio": 0.5, "calendar_fallback": "weekends"}
    [event] = dom.set_limits(seeded(), change)
    assert validate_data(event.type, event.data) == {}
    d = seeded([event])
    assert (d.limits, d.sign_for_days, d.recheck_ratio, d.calendar_fallback) == (limits, 2, 0.5, "weekends")
    assert d.calendar().add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)   # Mon–Fri in 2027


def test_calendar_year_set_enters_a_year_the_calendar_did_not_know():
    before = seeded()
    with pytest.raises(CalendarGap):
        before.calendar().add_working_days(date(2026, 12, 31), 1)
    [event] = dom.set_calendar_year(before, SCHEDULE_2027)
    assert validate_data(event.type, event.data) == {}
    d = seeded([event])
    assert d.years == {2027: SCHEDULE_2027}
    assert 2027 in d.calendar().covered_years()
    assert d.calendar().add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)   # 01-01…03 off


def test_an_official_year_without_a_single_holiday_is_refused():
    with pytest.raises(InvalidCommand) as refused:
        dom.set_calendar_year(seeded(), YearSchedule(2027, frozenset(), frozenset()))
    assert list(refused.value.errors) == ["holidays"]
