"""The read-side projections: the ledger's case row and timeline, and notify's watch row."""
from dataclasses import replace
from datetime import timedelta

from zfcommon import caseview
from notify.domain import watch

from .fakes import RECEIVED_AT, received_event

SEALED = {"kid": "case:case-1", "nonce": "bm9uY2U=", "ciphertext": "c2VhbGVk"}


def later(version, type="cn.zhengfeng.case.assigned.v1"):
    """A later event on case-1 (the catalogue has only `received` yet, so built without validation)."""
    return replace(received_event(version=version), type=type, time=RECEIVED_AT + timedelta(hours=version))


def test_ledger_ignores_a_second_received_for_the_same_case():
    row = caseview.evolve(None, received_event())
    assert caseview.evolve(row, received_event()) is None


def test_ledger_later_event_for_an_unknown_case_changes_nothing():
    assert caseview.evolve(None, later(2)) is None


def test_timeline_entry_records_who_did_what_when():
    event = received_event()
    entry = caseview.timeline_entry(event)
    assert {k: v for k, v in entry.items() if k != "data"} == {
        "case_id": "case-1", "version": 1, "event_id": event.id, "type": event.type,
        "time": RECEIVED_AT, "actor": "office:li"}


def test_timeline_never_contains_the_sealed_complainant():
    entry = caseview.timeline_entry(received_event(anonymous=False, complainant=SEALED))
    assert "complainant" not in entry["data"]
    assert "c2VhbGVk" not in repr(entry)
    assert entry["data"]["anonymous"] is False


def test_watch_row_starts_received_with_what_notify_needs():
    row = watch.evolve(None, received_event(priority="critical"))
    assert {k: v for k, v in row.items() if k != "view"} == {
        "case_id": "case-1", "status": "received", "channel": "hotline", "subject_unit": "市住建局",
        "priority": "critical", "received_at": RECEIVED_AT, "version": 1, "lead_unit": None,
        "cooperating_units": [], "origin": None, "last_report": None}
    assert row["view"]["status"] == "received" and row["view"]["received_at"] == RECEIVED_AT.isoformat()


def test_watch_ignores_a_second_received():
    row = watch.evolve(None, received_event())
    assert watch.evolve(row, received_event()) is None


ERASED = "cn.zhengfeng.case.complainant_erased.v1"     # a change that needs no data of its own here


def test_watch_newer_event_moves_the_version():
    row = watch.evolve(None, received_event())
    after = watch.evolve(row, later(2, ERASED))
    assert {k: v for k, v in after.items() if k != "view"} == {**{k: v for k, v in row.items() if k != "view"},
                                                               "version": 2}


def test_watch_ignores_an_event_not_newer_than_its_row():
    row = watch.evolve(watch.evolve(None, received_event()), later(3, ERASED))
    assert watch.evolve(row, later(3, ERASED)) is None
    assert watch.evolve(row, later(2, ERASED)) is None


def test_watch_later_event_for_an_unknown_case_changes_nothing():
    assert watch.evolve(None, later(2)) is None


def test_watch_view_is_the_plain_fold_whichever_entries_an_event_changed():
    """watch.evolve converts only the entries an event changed; the result is the whole fold made plain."""
    assigned = {"lead_unit": "县住建局", "cooperating_units": ["县城管局"], "handling_mode": "direct",
                "deadline": "2026-12-20", "sign_for_due": "2026-12-08"}
    events = [received_event(), replace(later(2), data=assigned),
              replace(later(3, "cn.zhengfeng.case.reassigned.v1"), data={**assigned, "lead_unit": "县城管局"}),
              later(4, ERASED)]
    row = None
    for event in events:
        row = watch.evolve(row, event) or row
    folded = caseview.replay([caseview.Recorded(type=e.type, subject=e.subject, time=e.time, streamversion=e.streamversion,
                                                actor=e.actor, data=e.data) for e in events])
    assert row["view"] == {k: watch._plain(v) for k, v in folded.items()}
