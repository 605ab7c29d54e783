"""A standing condition met at every scheduler pass is warned about once per process and key
(zfcommon.logs.warn_once), then kept at debug."""
from __future__ import annotations

import logging

from zfcommon import logs


def test_the_same_condition_is_warned_about_once_and_a_new_one_again(caplog, monkeypatch):
    monkeypatch.setattr(logs, "_SAID", set())
    log = logging.getLogger("zf.test.warn_once")
    with caplog.at_level(logging.DEBUG, logger="zf.test.warn_once"):
        for _ in range(3):
            logs.warn_once(log, "spot_check_calendar_gap", ("2026-12", "gap 2027"), month="2026-12")
        logs.warn_once(log, "spot_check_calendar_gap", ("2027-01", "gap 2027"), month="2027-01")
    levels = [(r.levelname, r.month) for r in caplog.records]
    assert levels == [("WARNING", "2026-12"), ("DEBUG", "2026-12"), ("DEBUG", "2026-12"), ("WARNING", "2027-01")]


def test_the_memory_of_what_was_said_stays_bounded(monkeypatch):
    monkeypatch.setattr(logs, "_SAID", set())
    monkeypatch.setattr(logs, "SAID_LIMIT", 3)
    log = logging.getLogger("zf.test.warn_once")
    for i in range(10):
        logs.warn_once(log, "escalation_calendar_gap", (f"case-{i}",))
    assert len(logs._SAID) <= 3
