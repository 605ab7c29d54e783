"""The dashboard warns the office before an assignment fails for want of a calendar year: when the
longest time limit, counted from today, reaches a year whose holidays nobody entered (and no fallback
was chosen), 今日工作 says which year and where to enter it. intake's own preview decides, so the
notice and an assignment agree; its refusal names the missing years (`missing_years`)."""
from __future__ import annotations

import re

import pytest

from .console_world import console_world

pytestmark = pytest.mark.integration
LIMITS = {"immediate": {"normal": 3, "urgent": 2, "critical": 1}, "deadline": {"normal": 15, "urgent": 10, "critical": 5},
          "long_term": {"normal": 60, "urgent": 45, "critical": 30}}


@pytest.fixture(scope="module")
def world(pg, tmp_path_factory):
    with console_world(pg, tmp_path_factory.mktemp("clock") / "now", day="2026-12-07") as w:
        w.account("jia", "office")
        yield w


def notice(world) -> str | None:
    page = world.client("jia").get("/dashboard").get_data(as_text=True)
    found = re.search(r'<div class="notice" role="status" id="calendar-gap"><p>(.*?)</p></div>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else None


def test_in_december_without_next_years_holidays_the_dashboard_names_the_year_and_the_limit(world):
    world.day("2026-12-07")
    said = notice(world)
    assert said is not None
    assert "工作日历缺少 2027 年的节假日安排" in said and "长期整改·一般" in said and "60 个工作日" in said
    assert "名录与时限" in said
    # the refusal an assignment would get names the year for any client, not only in its wording
    answer = world.api("GET", "/v1/directory/deadline?handling_mode=long_term&priority=normal", status=422)
    assert (answer["code"], answer["missing_years"]) == ("calendar.year_missing", [2027])


def test_early_in_the_year_the_longest_limit_fits_and_nothing_is_said(world):
    world.day("2026-03-02")
    assert notice(world) is None


def test_once_the_office_counts_unknown_years_as_weekdays_the_notice_goes(world):
    world.day("2026-12-07")
    world.api("PUT", "/v1/directory/limits", {"limits": LIMITS, "sign_for_days": 1, "recheck_ratio": 0.1,
                                              "calendar_fallback": "weekends"}, status=200)
    assert notice(world) is None
