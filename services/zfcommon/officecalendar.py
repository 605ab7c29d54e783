"""The office's working-day calendar as the directory events make it, for services that count working
days from a projection (ledger's overdue figures, notify's escalation ladders).

The directory stream (intake) holds the authority: `calendar_year_set` enters a year's official
schedule, `limits_set` carries the fallback for years nobody entered. A reader keeps two tables of
one layout (`calendar_years`, `limits`; ledger's migration 0002, notify's 0010) and reads the
calendar back with `calendar(conn)`.
"""
from __future__ import annotations

from functools import lru_cache

import psycopg
from psycopg.types.json import Jsonb

from .workdays import WorkCalendar, YearSchedule

YEAR_SET = "cn.zhengfeng.directory.calendar_year_set.v1"
LIMITS_SET = "cn.zhengfeng.directory.limits_set.v1"


@lru_cache(maxsize=8)
def _calendar(schedules: tuple[YearSchedule, ...], fallback: str | None) -> WorkCalendar:
    # One calendar per distinct set of entered years and fallback, kept across calls: it caches each
    # year's working days, and a newly entered year or a changed fallback makes a new key.
    return WorkCalendar(schedules, fallback=fallback)


def calendar(conn: psycopg.Connection) -> WorkCalendar:
    """The official calendar: chinese-calendar's years, the years the office entered, and the office's
    fallback for other years from its limits (none until it sets one: such years are then gaps)."""
    rows = conn.execute("SELECT year, holidays, workdays FROM calendar_years ORDER BY year").fetchall()
    limits = conn.execute("SELECT data->>'calendar_fallback' AS fallback FROM limits").fetchone()
    return _calendar(tuple(YearSchedule.from_row(r) for r in rows), limits and limits["fallback"])


def version(conn: psycopg.Connection) -> int:
    """The directory version the calendar reflects: it changes whenever the calendar may have."""
    return conn.execute("SELECT greatest((SELECT max(version) FROM calendar_years),"
                        " (SELECT max(version) FROM limits), 0) AS v").fetchone()["v"]


def apply(conn: psycopg.Connection, event) -> None:
    """Keep the two tables from directory events (other types are ignored). A replayed older event
    never overwrites a newer one: rows carry the directory stream's version."""
    if event.type == YEAR_SET:
        row = YearSchedule.from_dict(event.data).as_row()   # validated as the calendar will read it
        conn.execute("INSERT INTO calendar_years (year, holidays, workdays, version)"
                     " VALUES (%(year)s, %(holidays)s, %(workdays)s, %(version)s) ON CONFLICT (year) DO UPDATE"
                     " SET holidays = EXCLUDED.holidays, workdays = EXCLUDED.workdays, version = EXCLUDED.version"
                     " WHERE calendar_years.version < EXCLUDED.version", {**row, "version": event.streamversion})
    elif event.type == LIMITS_SET:
        conn.execute("INSERT INTO limits (singleton, data, version) VALUES (true, %s, %s) ON CONFLICT (singleton)"
                     " DO UPDATE SET data = EXCLUDED.data, version = EXCLUDED.version"
                     " WHERE limits.version < EXCLUDED.version", (Jsonb(event.data), event.streamversion))
