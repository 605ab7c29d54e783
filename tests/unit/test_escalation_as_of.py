"""The escalation ladders of a case as they stood at a moment (zfcommon.escalationview.as_of), folded from
its history rows the way the projection keeps them: each ladder's latest round; a stop ends that round."""
from datetime import date, datetime, timedelta, timezone

from zfcommon.escalationview import as_of

T0 = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)


def entry(version: int, kind: str, step: str, *, ladder: str = "deadline", round_: int = 1, days: int = 0,
          reason: str | None = None) -> dict:
    return {"case_id": "c1", "version": version, "kind": kind, "ladder": ladder, "round": round_, "step": step,
            "reason": reason, "unit": "县住建局", "due": date(2026, 11, 20), "working_days_overdue": version,
            "handling_mode": "deadline", "time": T0 + timedelta(days=days)}


HISTORY = [entry(1, "step", "reminder", days=0), entry(2, "step", "supervision_letter", days=5),
           entry(3, "stop", "supervision_letter", days=8, reason="rectification_reported"),
           entry(4, "step", "reminder", ladder="sign_for", days=9)]


def test_before_anything_was_issued_there_is_no_ladder():
    assert as_of(HISTORY, T0 - timedelta(seconds=1)) == ([], [])


def test_the_ladder_stands_at_the_last_step_issued_by_then():
    ladders, history = as_of(HISTORY, T0 + timedelta(days=6))
    assert [(r["ladder"], r["state"], r["step"]) for r in ladders] == [("deadline", "running", "supervision_letter")]
    assert [h["version"] for h in history] == [1, 2]


def test_a_stop_ends_its_round_and_other_ladders_are_kept_apart():
    ladders, _ = as_of(HISTORY, T0 + timedelta(days=10))
    assert [(r["ladder"], r["state"], r["stop_reason"]) for r in ladders] == [
        ("deadline", "stopped", "rectification_reported"), ("sign_for", "running", None)]


def test_a_stop_of_an_earlier_round_leaves_the_new_round_running():
    history = [entry(1, "step", "reminder"), entry(2, "step", "reminder", round_=2, days=1),
               entry(3, "stop", "reminder", round_=1, days=2, reason="extended")]
    ladders, _ = as_of(history, T0 + timedelta(days=3))
    assert [(r["round"], r["state"]) for r in ladders] == [(2, "running")]
