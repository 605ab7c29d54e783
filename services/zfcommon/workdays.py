"""China's official working-day calendar (工作日, including make-up working weekends 调休).

Pure: no I/O, no clock, no environment. Callers pass today's date as `local_date(now)`.
`chinese_calendar` knows a fixed range of years; any other year must be entered by the office as a
`YearSchedule` (the State Council publishes it each winter) or explicitly configured to fall back to
Monday–Friday. Otherwise a `CalendarGap` names the dates and years that cannot be counted: a deadline
is never guessed silently.
"""
from __future__ import annotations

import bisect
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

import chinese_calendar

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
FALLBACKS = (None, "weekends")
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
# The same bounds the library checks before raising NotImplementedError, read from its data rather
# than hard-coded, so upgrading chinese-calendar extends the calendar without a code change.
LIBRARY_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def local_date(dt: datetime) -> date:
    """The calendar date in China at instant `dt`. Naive datetimes are refused: their day is ambiguous."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()}: give a timezone-aware datetime")
    return dt.astimezone(SHANGHAI).date()


class CalendarGap(Exception):
    """A date in a year with no official schedule and no configured fallback."""

    def __init__(self, dates: Iterable[date], years: Iterable[int]):
        self.dates, self.years = sorted(set(dates)), sorted(set(years))
        names = "、".join(map(str, self.years))
        super().__init__(
            f"工作日历缺少 {names} 年的官方安排（计算 {'、'.join(d.isoformat() for d in self.dates)} 时需要）："
            f"请录入国务院办公厅公布的 {names} 年节假日安排")


class ScheduleError(ValueError):
    """A year schedule that cannot be the official one; `fields` names the fields at fault."""

    def __init__(self, message: str, *fields: str):
        super().__init__(message)
        self.fields = fields


@dataclass(frozen=True)
class YearSchedule:
    """An office-entered year: `holidays` are all official days off of each holiday period (weekdays and
    weekends alike), `workdays` the make-up working weekend days."""
    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self):
        # Accept any iterable but store frozensets, so the schedule is hashable and immutable.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        for field in ("holidays", "workdays"):
            for d in sorted(getattr(self, field)):
                if type(d) is not date:
                    raise ScheduleError(f"{field}：{d!r} 不是日期", field)
                if d.year != self.year:
                    raise ScheduleError(f"{field}：{d.isoformat()} 不在 {self.year} 年", field)
        if both := sorted(self.holidays & self.workdays):
            raise ScheduleError(f"同一天既是假日又是调休工作日：{'、'.join(d.isoformat() for d in both)}",
                                "holidays", "workdays")
        if weekdays := sorted(d for d in self.workdays if d.weekday() < 5):
            raise ScheduleError("workdays：调休上班日只会是周六或周日，以下日期不是："
                                + "、".join(f"{d.isoformat()}（{WEEKDAYS[d.weekday()]}）" for d in weekdays),
                                "workdays")

    def to_dict(self) -> dict:
        return {"year": self.year, "holidays": sorted(d.isoformat() for d in self.holidays),
                "workdays": sorted(d.isoformat() for d in self.workdays)}

    def as_row(self) -> dict:
        """The schedule as a projection keeps it (calendar_years: year, holidays, workdays)."""
        return {"year": self.year, "holidays": sorted(self.holidays), "workdays": sorted(self.workdays)}

    @classmethod
    def from_row(cls, row) -> YearSchedule:
        return cls(row["year"], frozenset(row["holidays"]), frozenset(row["workdays"]))

    @classmethod
    def from_dict(cls, data: dict) -> YearSchedule:
        try:
            if type(data["year"]) is not int:
                raise TypeError(f"year {data['year']!r} is not an integer")
            holidays, workdays = (frozenset(map(date.fromisoformat, data[k])) for k in ("holidays", "workdays"))
            return cls(data["year"], holidays, workdays)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid year schedule {data!r}: {exc!r}") from exc


class WorkCalendar:
    def __init__(self, schedules: Iterable[YearSchedule] = (), fallback: str | None = None):
        if fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {FALLBACKS}, not {fallback!r}")
        self.fallback = fallback
        schedules = list(schedules)
        self._schedules = {s.year: s for s in schedules}
        if len(self._schedules) < len(schedules):
            raise ValueError(f"two schedules entered for one year: {sorted(s.year for s in schedules)}")
        # year -> sorted tuple of its working days, built lazily once. Concurrent threads may both
        # build a year; the results are equal and the dict assignment is atomic, so no lock is needed.
        self._years: dict[int, tuple[date, ...]] = {}

    def covered_years(self) -> set[int]:
        """Years with official data (library or entered). Years counted by `fallback` are not included."""
        return set(LIBRARY_YEARS) | set(self._schedules)

    def covers(self, d: date) -> bool:
        return d.year in self._schedules or d.year in LIBRARY_YEARS

    def _working_days(self, year: int, needed_for: date) -> tuple[date, ...]:
        if (days := self._years.get(year)) is None:
            # An entered year overrides the library: the office's entry of the State Council's notice
            # is the authority if the two ever differ (a late correction, a library bug). The library's
            # data is read directly: its is_workday() rescans all its years on every call.
            if year in self._schedules:
                holidays, workdays = self._schedules[year].holidays, self._schedules[year].workdays
            elif year in LIBRARY_YEARS:
                holidays, workdays = chinese_calendar.holidays, chinese_calendar.workdays
            elif self.fallback == "weekends":
                holidays, workdays = (), ()
            else:
                raise CalendarGap([needed_for], [year])
            # The official rule: a make-up day is worked, otherwise Monday–Friday unless a holiday.
            length = date(year, 12, 31).timetuple().tm_yday
            all_days = (date(year, 1, 1) + timedelta(i) for i in range(length))
            days = tuple(d for d in all_days if d in workdays or (d.weekday() < 5 and d not in holidays))
            self._years[year] = days
        return days

    def is_working_day(self, d: date) -> bool:
        days = self._working_days(d.year, d)
        i = bisect.bisect_left(days, d)
        return i < len(days) and days[i] == d

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after `start` (assigned Friday, 1 working day: due next working day).
        n=0 returns `start` itself: zero working days have to pass, whatever kind of day `start` is."""
        if n < 0:
            raise ValueError(f"n must be >= 0, not {n}")
        if n == 0:
            return start
        # Start from the day after `start`, so a Dec 31 start never needs its own year's data.
        first = start + timedelta(1)
        year = first.year
        while True:
            days = self._working_days(year, max(first, date(year, 1, 1)))
            i = bisect.bisect_right(days, start)
            if i + n <= len(days):
                return days[i + n - 1]
            n -= len(days) - i
            year += 1

    def next_working_day(self, d: date) -> date:
        return self.add_working_days(d, 1)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end (e.g. working days overdue from deadline to today)."""
        if end <= start:
            return 0
        first = start + timedelta(1)
        total, gaps = 0, []
        for year in range(first.year, end.year + 1):
            try:
                days = self._working_days(year, max(first, date(year, 1, 1)))
            except CalendarGap as gap:
                gaps.append(gap)  # keep going, so one error names every uncovered year in the span
                continue
            total += bisect.bisect_right(days, end) - bisect.bisect_right(days, start)
        if gaps:
            raise CalendarGap([d for g in gaps for d in g.dates], [y for g in gaps for y in g.years])
        return total
