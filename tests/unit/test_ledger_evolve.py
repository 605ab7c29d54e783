"""The ledger's projection: how every case event changes a case, and rebuilding a case from its events.

`Story` builds a case's events through zfcommon.events.new_event, so each is checked against the
catalogue; the ledger's integration tests build theirs with it too.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from zfcommon import caseview
from zfcommon.caseview import case_type, evolve, replay
from zfcommon.events import Event, new_event
from zfcommon.events.catalogue import CASE_TOPIC, CATALOGUE

START = datetime(2024, 5, 6, 1, 30, tzinfo=timezone.utc)     # Monday 09:30 in China
SEALED = {"kid": "case:c", "nonce": "bm9uY2U=", "ciphertext": "c2VhbGVk"}
DATA: dict[str, dict[str, Any]] = {
    "received": {"channel": "hotline", "category": "推诿扯皮", "description": "不动产登记窗口推诿,不一次性告知材料",
                 "subject_unit": "县自然资源局", "priority": "normal", "location": None, "anonymous": True,
                 "complainant": None},
    "assigned": {"lead_unit": "县住建局", "cooperating_units": ["县财政局"], "handling_mode": "deadline",
                 "deadline": "2024-05-20", "sign_for_due": "2024-05-08", "note": None,
                 "deadline_basis": {"rule": "limit", "from_date": "2024-05-06", "working_days": 10}},
    "accepted": {"unit": "县住建局", "on_time": True},
    "returned": {"unit": "县住建局", "reason": "不属于本单位职责"},
    "progress_noted": {"unit": "县财政局", "note": "已约谈窗口负责人"},
    "extension_requested": {"unit": "县住建局", "reason": "需跨部门协调", "requested_deadline": "2024-06-10"},
    "extension_approved": {"previous_deadline": "2024-05-20", "new_deadline": "2024-06-10", "comment": None},
    "extension_denied": {"reason": "理由不充分"},
    "rectification_reported": {"unit": "县住建局", "text": "已整改到位", "attachments": []},
    "dismissal_reported": {"unit": "县住建局", "text": "经核查反映不属实", "attachments": []},
    "closed": {"comment": None, "on_time": True},
    "rework_ordered": {"reason": "整改不彻底", "new_deadline": "2024-06-14", "rework_count": 1},
    "dismissal_accepted": {"comment": None, "recheck": {"ratio": 0.2, "seed": "s", "draw": 0.1, "selected": True}},
    "recheck_chosen": {"reason": "回访不满意，决定复查", "chosen_by": "office:王主任"},
    "recheck_upheld": {"findings": "复查属实查否"},
    "recheck_overturned": {"findings": "复查发现问题属实", "new_deadline": "2024-06-28", "accountability_id": "acc-1"},
    "return_visit_recorded": {"satisfaction": "satisfied", "comment": None},
    "rehandling_ordered": {"reason": "群众不满意", "new_deadline": "2024-06-21"},
    "merged": {"into_case_id": "case-0", "reason": None},
    "duplicate_absorbed": {"duplicate_case_id": "case-9"},
    "summary_corrected": {"summary": "反映不动产登记窗口推诿"},
    "numbered": {"case_number": "ZF-2024-000009"},
}
DATA["reassigned"] = {**DATA["assigned"], "lead_unit": "县交通运输局", "cooperating_units": [],
                      "reason": "职责调整", "previous_lead_unit": "县住建局"}


class Story:
    """One case's events in stream order, one hour apart unless `at` says otherwise."""

    def __init__(self, case_id: str = "case-1", at: datetime = START, **received: Any):
        self.case_id = case_id
        self.events: list[Event] = []
        self.add("received", at=at, **received)

    def add(self, name: str, *, at: datetime | None = None, actor: str = "office:li", **data: Any) -> "Story":
        at = at or self.events[-1].time + timedelta(hours=1)
        self.events.append(new_event(service="intake", type=case_type(name), subject=self.case_id,
                                     data={**DATA[name], **data}, streamversion=len(self.events) + 1,
                                     correlationid="corr-1", actor=actor, time=at))
        return self

    def then(self, *names: str) -> "Story":
        for name in names:
            self.add(name)
        return self

    @property
    def last(self) -> Event:
        return self.events[-1]

    def row(self) -> dict[str, Any]:
        return replay(self.events)


def story(*names: str, **received: Any) -> Story:
    return Story(**received).then(*names)


def test_every_case_event_in_the_catalogue_has_a_rule():
    assert {t for t, e in CATALOGUE.items() if e.topic == CASE_TOPIC} == set(caseview.CASE_TYPES)


def test_a_received_case_starts_with_its_public_fields_and_nothing_assigned():
    row = story().row()
    assert row["status"] == "received" and row["version"] == 1 and row["received_at"] == START
    assert {k: row[k] for k in ("channel", "category", "subject_unit", "anonymous")} == {
        "channel": "hotline", "category": "推诿扯皮", "subject_unit": "县自然资源局", "anonymous": True}
    assert row["lead_unit"] is None and row["deadline"] is None and row["cooperating_units"] == []
    assert row["extension_count"] == row["rework_count"] == row["reopen_count"] == row["visit_count"] == 0


def test_the_complainant_never_enters_the_row_or_the_timeline():
    s = story(anonymous=False, complainant=SEALED)
    assert "complainant" not in s.row() and "c2VhbGVk" not in repr(s.row())
    assert "complainant" not in caseview.timeline_entry(s.events[0])["data"]


def test_assignment_sets_the_lead_and_cooperating_units_mode_deadline_and_sign_for_due():
    s = story("assigned")
    assert {k: s.row()[k] for k in ("status", "lead_unit", "cooperating_units", "handling_mode", "deadline",
                                    "sign_for_due", "assigned_at")} == {
        "status": "assigned", "lead_unit": "县住建局", "cooperating_units": ["县财政局"], "handling_mode": "deadline",
        "deadline": date(2024, 5, 20), "sign_for_due": date(2024, 5, 8), "assigned_at": s.last.time}


def test_reassignment_names_the_new_lead_and_forgets_the_old_signature():
    row = story("assigned", "accepted", "reassigned").row()
    assert row["status"] == "assigned" and row["lead_unit"] == "县交通运输局" and row["cooperating_units"] == []
    assert row["accepted_at"] is None and row["sign_for_on_time"] is None


def test_signing_for_puts_the_case_in_progress_and_records_punctuality():
    s = story("assigned").add("accepted", on_time=False)
    assert {k: s.row()[k] for k in ("status", "accepted_at", "sign_for_on_time")} == {
        "status": "in_progress", "accepted_at": s.last.time, "sign_for_on_time": False}


def test_progress_notes_keep_the_status_and_record_when():
    s = story("assigned", "accepted", "progress_noted")
    assert s.row()["status"] == "in_progress" and s.row()["last_progress_at"] == s.last.time


def test_an_extension_request_is_pending_until_approved_which_moves_the_deadline():
    requested = story("assigned", "accepted", "extension_requested")
    assert requested.row()["extension_pending"] is True and requested.row()["deadline"] == date(2024, 5, 20)
    approved = requested.then("extension_approved").row()
    assert (approved["extension_pending"], approved["extension_count"], approved["deadline"]) == (
        False, 1, date(2024, 6, 10))


def test_a_denied_extension_keeps_the_deadline_and_counts_nothing():
    row = story("assigned", "accepted", "extension_requested", "extension_denied").row()
    assert (row["extension_pending"], row["extension_count"], row["deadline"]) == (False, 0, date(2024, 5, 20))


def test_closing_signs_the_case_off_with_its_punctuality():
    s = story("assigned", "accepted", "rectification_reported").add("closed", on_time=False)
    assert {k: s.row()[k] for k in ("status", "closed_at", "closed_on_time")} == {
        "status": "closed", "closed_at": s.last.time, "closed_on_time": False}


def test_rework_reopens_with_a_new_deadline_and_the_count_from_the_event():
    row = story("assigned", "accepted", "rectification_reported").add("rework_ordered", rework_count=2).row()
    assert (row["status"], row["deadline"], row["rework_count"]) == ("in_progress", date(2024, 6, 14), 2)


def test_an_accepted_dismissal_picked_for_recheck_waits_for_it():
    row = story("assigned", "accepted", "dismissal_reported", "dismissal_accepted").row()
    assert (row["status"], row["recheck_selected"], row["recheck_pending"]) == ("dismissed", True, True)
    assert row["recheck_basis"] == "draw"


def test_an_accepted_dismissal_not_picked_for_recheck_is_settled_unless_the_office_chooses_it():
    draw = {"ratio": 0.2, "seed": "s", "draw": 0.7, "selected": False}
    s = story("assigned", "accepted", "dismissal_reported").add("dismissal_accepted", recheck=draw)
    row = s.row()
    assert (row["status"], row["recheck_selected"], row["recheck_pending"], row["recheck_basis"]) == (
        "dismissed", False, False, None)
    row = s.add("recheck_chosen").row()
    assert (row["status"], row["recheck_selected"], row["recheck_pending"], row["recheck_basis"]) == (
        "dismissed", False, True, "chosen")
    assert caseview.timeline_entry(s.last)["data"] == DATA["recheck_chosen"]      # who chose it and why


def test_a_received_case_carries_its_number_and_an_earlier_one_gets_it_without_counting_as_a_change():
    assert story(case_number="ZF-2026-000123").row()["case_number"] == "ZF-2026-000123"
    s = story("assigned")
    assert s.row()["case_number"] is None                      # received before case numbers
    before = s.row()
    row = s.add("numbered", at=before["updated_at"] + timedelta(days=300)).row()
    assert row["case_number"] == "ZF-2024-000009" and row["version"] == 3
    assert row["updated_at"] == before["updated_at"]


def test_an_upheld_recheck_keeps_the_case_dismissed():
    row = story("assigned", "accepted", "dismissal_reported", "dismissal_accepted", "recheck_upheld").row()
    assert (row["status"], row["recheck_pending"], row["recheck_outcome"]) == ("dismissed", False, "upheld")


def test_an_overturned_recheck_reopens_the_case_with_a_new_deadline():
    row = story("assigned", "accepted", "dismissal_reported", "dismissal_accepted", "recheck_overturned").row()
    assert (row["status"], row["deadline"], row["recheck_pending"], row["recheck_outcome"], row["reopen_count"]) == (
        "in_progress", date(2024, 6, 28), False, "overturned", 1)


def test_a_return_visit_keeps_the_status_and_the_latest_satisfaction():
    row = story("assigned", "accepted", "rectification_reported", "closed", "return_visit_recorded") \
        .add("return_visit_recorded", satisfaction="unsatisfied").row()
    assert (row["status"], row["satisfaction"], row["visit_count"]) == ("closed", "unsatisfied", 2)


def test_rehandling_reopens_a_closed_case_and_it_is_no_longer_closed():
    row = story("assigned", "accepted", "rectification_reported", "closed", "return_visit_recorded",
                "rehandling_ordered").row()
    assert (row["status"], row["deadline"], row["reopen_count"], row["closed_at"], row["closed_on_time"]) == (
        "in_progress", date(2024, 6, 21), 1, None, None)


@pytest.mark.parametrize("name, status", [("returned", "returned"), ("rectification_reported", "rectification_reported"),
                                          ("dismissal_reported", "dismissal_reported")])
def test_a_unit_report_sets_the_status_it_names(name, status):
    assert story("assigned", "accepted", name).row()["status"] == status


def test_a_merged_case_points_at_the_case_it_joined():
    row = story("merged").row()
    assert (row["status"], row["merged_into"]) == ("merged", "case-0")


def test_an_absorbing_case_lists_each_duplicate_once_and_keeps_its_status():
    row = story("assigned", "duplicate_absorbed").add("duplicate_absorbed", duplicate_case_id="case-8") \
        .add("duplicate_absorbed").row()
    assert (row["status"], row["duplicates"]) == ("assigned", ["case-9", "case-8"])


def test_every_event_moves_version_and_updated_at():
    s = story("assigned", "progress_noted")
    assert (s.row()["version"], s.row()["updated_at"]) == (3, s.last.time)


def test_an_event_not_newer_than_the_row_changes_nothing():
    s = story("assigned", "accepted")
    assert evolve(s.row(), s.events[1]) is None and evolve(s.row(), s.last) is None


def test_a_second_received_changes_nothing():
    s = story()
    assert evolve(s.row(), s.events[0]) is None


def test_an_event_for_a_case_never_received_changes_nothing():
    assert evolve(None, story("assigned").last) is None


def test_an_event_type_without_a_rule_is_refused():
    unknown = caseview.Recorded(type=case_type("teleported"), subject="case-1", time=START, streamversion=2,
                                  actor="office:li", data={})
    with pytest.raises(caseview.UnknownChange, match="teleported"):
        evolve(story().row(), unknown)


def test_replay_folds_events_in_stream_order_whatever_order_they_come_in():
    s = story("assigned", "accepted", "rectification_reported")
    assert replay(list(reversed(s.events))) == s.row()
    assert s.row()["status"] == "rectification_reported"


def test_replay_of_stored_timeline_entries_gives_the_live_row():
    s = story("assigned", "accepted", "extension_requested", "extension_approved", "rectification_reported", "closed")
    stored = [caseview.Recorded(type=e["type"], subject="case-1", time=e["time"], streamversion=e["version"],
                                  actor=e["actor"], data=e["data"]) for e in map(caseview.timeline_entry, s.events)]
    assert replay(stored) == s.row()


def test_replay_without_a_received_event_is_nothing():
    assert replay(story("assigned").events[1:]) is None


def test_a_summary_correction_changes_only_what_outsiders_read():
    before, after = story("assigned").row(), story("assigned", "summary_corrected").row()
    assert {k for k in after if after[k] != before[k]} == {"summary", "updated_at", "version"}
    assert after["summary"] == "反映不动产登记窗口推诿" and after["description"] == before["description"]


def test_the_view_keeps_who_recorded_the_receipt():
    assert Story("c").row()["received_by"] == "office:li"
