"""The time services act on. Production uses the system clock. Scenario tests and demos may point
ZF_CLOCK_FILE at a file holding an RFC 3339 instant, so a month of casework plays out in minutes;
every process of the system then reads the same simulated "now"."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path


class Clock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FileClock(Clock):
    def __init__(self, path: str):
        self.path = Path(path)
        self._cache: tuple[float, datetime] | None = None

    def now(self) -> datetime:
        mtime = os.stat(self.path).st_mtime
        if self._cache is None or self._cache[0] != mtime:
            at = datetime.fromisoformat(self.path.read_text().strip())
            if at.tzinfo is None:
                raise ValueError(f"{self.path} must hold an instant with a time zone")
            self._cache = (mtime, at.astimezone(timezone.utc))
        return self._cache[1]


def clock_for(clock_file: str) -> Clock:
    return FileClock(clock_file) if clock_file else Clock()
