"""Months (2026-11), quarters (2026-Q4) and ISO weeks (2026-W48) as the API and the events write them,
read fully, once, for every service: a text that matches the pattern but names no real period (year
0000, week 53 of a year that has 52) is refused where it comes in, with a Chinese message, instead of
failing later in date arithmetic or in a scheduler pass. Years run from 1000 to 9999: below that a
year is not four digits in every formatting of it, and nothing in the ledger is that old."""
from __future__ import annotations

import re
from datetime import date
from typing import Callable

from marshmallow import ValidationError, validate

MIN_YEAR, MAX_YEAR = 1000, 9999
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q(\d)$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def _year(text: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"年份须在 {MIN_YEAR} 到 {MAX_YEAR} 之间")
    return year


def month(text: str) -> tuple[int, int]:
    """(year, month) of "YYYY-MM"; ValueError with a Chinese message otherwise."""
    found = _MONTH.match(text or "")
    if not found or not 1 <= int(found[2]) <= 12:
        raise ValueError(f"“{text}”不是月份，须写作 YYYY-MM，如 2026-11")
    return _year(found[1]), int(found[2])


def quarter(text: str) -> tuple[int, int]:
    """(year, quarter) of "YYYY-Qn"."""
    found = _QUARTER.match(text or "")
    if not found or not 1 <= int(found[2]) <= 4:
        raise ValueError(f"“{text}”不是季度，须写作 YYYY-Qn，如 2026-Q4")
    return _year(found[1]), int(found[2])


def iso_week(text: str) -> tuple[int, int]:
    """(ISO year, week) of "YYYY-Www", the week existing in that year (some years have 53)."""
    found = _WEEK.match(text or "")
    if not found:
        raise ValueError(f"“{text}”不是 ISO 周，须写作 YYYY-Www，如 2026-W48")
    year, week = _year(found[1]), int(found[2])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} 年没有第 {week} 周") from None
    return year, week


def quarter_label(text: str) -> str:
    """'2026-Q4' as people write it: 2026年第四季度 (anything else as it is)."""
    try:
        year, number = quarter(text)
    except ValueError:
        return text
    return f"{year}年第{'一二三四'[number - 1]}季度"


def week_label(text: str) -> str:
    """'2026-W48' as people write it: 2026年第48周 (anything else as it is)."""
    try:
        year, number = iso_week(text)
    except ValueError:
        return text
    return f"{year}年第{number}周"


def quarters_back(day: date, count: int) -> list[str]:
    """The quarter `day` is in and the `count` - 1 before it, newest first ("2026-Q4", "2026-Q3", …)."""
    index = day.year * 4 + (day.month - 1) // 3
    return [f"{i // 4}-Q{i % 4 + 1}" for i in range(index, index - count, -1)]


def quarter_of(day: date) -> str:
    """The quarter `day` is in ("2026-Q4")."""
    return quarters_back(day, 1)[0]


class Period(validate.Validator):
    """A marshmallow validator reading a period with one of the functions above."""

    def __init__(self, parse: Callable[[str], tuple[int, int]]):
        self.parse = parse

    def __call__(self, value: str) -> str:
        try:
            self.parse(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return value


MONTH = Period(month)
QUARTER = Period(quarter)
WEEK = Period(iso_week)
