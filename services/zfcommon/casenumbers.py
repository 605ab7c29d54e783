"""Case numbers (案件编号, ZF-2026-000123: the office's prefix, the year of receipt, the year's serial) as
people say them when they search: the whole number, its serial alone (123, 000123) or its year and
serial (2026-123). Pure: what the ledger's search looks up."""
from __future__ import annotations

import re
from datetime import date

_SAID = re.compile(r"(?:(?P<year>\d{4})\s*[-－]\s*)?(?P<serial>\d{1,6})")
FIRST_YEAR = 2000


def _said(typed: str) -> tuple[int | None, int] | None:
    """(year or None, serial) when `typed` is a serial, with or without its year; else None."""
    found = _SAID.fullmatch(typed.strip())
    return None if found is None else (int(found["year"]) if found["year"] else None, int(found["serial"]))


def meant(typed: str, prefix: str, today: date) -> list[str]:
    """The case numbers a search for `typed` may mean: `typed` as written (a whole number, any case), and
    for a serial that serial in each year (this year first) or in the year typed with it."""
    whole = typed.strip().upper()
    serial = _said(typed)
    if serial is None:
        return [whole]
    year, n = serial
    years = [year] if year is not None else range(today.year, FIRST_YEAR - 1, -1)
    return [whole, *(f"{prefix}-{y}-{n:06d}" for y in years)]
