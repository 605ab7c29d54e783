"""The ledger's projection on the real PostgreSQL: real events through `apply`, one transaction per
batch as the consumer does. The fixtures here serve the other ledger integration tests too."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from typing import Iterable

import psycopg
import pytest

from ledger.adapters import repository
from ledger.entrypoints.http import create_app
from zfcommon import db
from zfcommon.events import Event, new_event
from zfcommon.events.catalogue import (ACCOUNTABILITY_TOPIC, CAMPAIGN_TOPIC, CASE_TOPIC, CATALOGUE, DIRECTORY_TOPIC,
                                       ESCALATION_TOPIC, PROJECT_TOPIC, TASK_TOPIC)

from ..conftest import settings_for
from ..support import bearer
from ..unit.test_ledger_evolve import SEALED, Story, story

pytestmark = pytest.mark.integration
TODAY = date(2024, 6, 3)    # a Monday; the default deadline 2024-05-20 is 10 working days behind it
AT = datetime(2024, 5, 6, 9, 0, tzinfo=timezone.utc)


def project(url: str, *items: Story | Event | Iterable[Event]) -> None:
    events = [e for item in items for e in (item.events if isinstance(item, Story) else
                                            [item] if isinstance(item, Event) else item)]
    with db.connect(url) as conn:
        for event in events:
            repository.apply(conn, event)


def stored(url: str, case_id: str) -> dict:
    with db.connect(url) as conn:
        return repository.get_case(conn, case_id)


def side_event(kind: str, subject: str, version: int, data: dict) -> Event:
    return new_event(service="intake", type=kind, subject=subject, data=data, streamversion=version,
                     correlationid="corr-1", actor="office:li", time=AT)


def directory(name: str, version: int, data: dict) -> Event:
    return side_event(f"cn.zhengfeng.directory.{name}.v1", "directory", version, data)


@pytest.fixture
def client_on(urls):
    """A test client of a ledger whose today is the given day."""
    apps = []

    def make(day: date):
        apps.append(create_app(settings_for("ledger", urls["ledger"]), today=lambda: day))
        return apps[-1].test_client()
    yield make
    for app in apps:
        app.extensions["zf_pool"].close()


@pytest.fixture
def client(client_on):
    return client_on(TODAY)


@pytest.fixture
def office():
    return bearer("office")


@pytest.mark.parametrize("names", [
    (), ("assigned",), ("assigned", "returned"), ("assigned", "reassigned"), ("assigned", "accepted"),
    ("assigned", "accepted", "progress_noted", "extension_requested", "extension_approved"),
    ("assigned", "accepted", "extension_requested", "extension_denied"),
    ("assigned", "accepted", "rectification_reported", "rework_ordered"),
    ("assigned", "accepted", "rectification_reported", "closed", "return_visit_recorded", "rehandling_ordered"),
    ("assigned", "accepted", "dismissal_reported", "dismissal_accepted", "recheck_upheld"),
    ("assigned", "accepted", "dismissal_reported", "dismissal_accepted", "recheck_overturned"),
    ("merged",), ("assigned", "duplicate_absorbed")], ids=lambda names: "-".join(names) or "received")
def test_the_stored_case_is_the_projection_of_its_events(urls, names):
    s = story(*names)
    project(urls["ledger"], s)
    assert stored(urls["ledger"], "case-1") == s.row()


def test_each_status_is_served_with_its_lifecycle_fields(urls, client, office):
    s = story("assigned", "accepted", "extension_requested", "extension_approved")
    project(urls["ledger"], s)
    case = client.get("/v1/cases/case-1", headers=office).json
    assert (case["status"], case["lead_unit"], case["cooperating_units"], case["deadline"], case["extension_count"]) == (
        "in_progress", "县住建局", ["县财政局"], "2024-06-10", 1)
    assert "complainant" not in case


def test_a_redelivered_or_older_event_has_no_second_effect(urls):
    s = story("assigned", "accepted", "extension_requested", "extension_approved")
    project(urls["ledger"], s)
    project(urls["ledger"], s.events[3], s.events[1], s.last)
    assert stored(urls["ledger"], "case-1") == s.row()
    with db.connect(urls["ledger"]) as conn:
        assert conn.execute("SELECT count(*) AS n FROM case_events").fetchone()["n"] == 5


def test_the_timeline_is_stored_without_the_complainant(urls, admin_url):
    project(urls["ledger"], story("assigned", anonymous=False, complainant=SEALED))
    with psycopg.connect(admin_url) as conn:
        dump = conn.execute("SELECT string_agg(data::text, '') FROM ledger.case_events").fetchone()[0]
    assert "c2VhbGVk" not in dump and "complainant" not in dump and "县住建局" in dump


def test_the_ledger_keeps_cases_accountability_directory_escalations_and_campaigns_and_passes_over_the_rest(urls):
    assert set(repository.APPLY) == {CASE_TOPIC, ACCOUNTABILITY_TOPIC, DIRECTORY_TOPIC, ESCALATION_TOPIC,
                                     CAMPAIGN_TOPIC, TASK_TOPIC, PROJECT_TOPIC}
    others = sorted({e.topic for e in CATALOGUE.values()} - set(repository.APPLY))
    assert others, "inspections, clients, reports and publications travel on topics the ledger keeps nothing of"
    # Applying is dispatched on the event's topic alone: one of theirs goes through and changes nothing.
    report = dataclasses.replace(story("assigned").events[0], type="cn.zhengfeng.report.weekly_filed.v1")
    project(urls["ledger"], report)      # consumed, not dead-lettered, and nothing kept
    assert stored(urls["ledger"], report.subject) is None


def test_accountability_records_are_kept_once_each(urls):
    record = side_event("cn.zhengfeng.accountability.recorded.v1", "acc-1", 1, {
        "measure": "admonishment", "target_kind": "unit", "target": "县住建局", "unit": "县住建局",
        "basis_cases": ["case-1", "case-2"], "decided_by": "office:wang", "reason": "超期未办结"})
    project(urls["ledger"], record, record)
    with db.connect(urls["ledger"]) as conn:
        rows = conn.execute("SELECT * FROM accountability").fetchall()
    assert [(r["id"], r["measure"], r["basis_cases"], r["time"]) for r in rows] == [
        ("acc-1", "admonishment", ["case-1", "case-2"], AT)]


def test_directory_changes_land_in_their_tables_and_an_older_change_never_wins(urls):
    unit = {"name": "县住建局", "kind": "government_department", "supervising_channel": "县监察局",
            "contacts": [{"name": "张三", "role": "科长", "phone": None, "email": None}], "active": True}
    limits = {"limits": {"deadline": {"normal": 15}}, "sign_for_days": 2, "recheck_ratio": 0.2,
              "calendar_fallback": None}
    category = {"name": "推诿扯皮", "group": "八个突出问题"}
    events = [directory("unit_registered", 1, unit), directory("category_added", 2, category),
              directory("limits_set", 3, limits), directory("unit_updated", 4, {**unit, "active": False}),
              directory("category_removed", 5, category)]
    project(urls["ledger"], events, events[0])
    with db.connect(urls["ledger"]) as conn:
        units = conn.execute("SELECT name, kind, contacts, active FROM units").fetchall()
        categories = conn.execute('SELECT name, "group", active FROM categories').fetchall()
        stored_limits = conn.execute("SELECT data FROM limits").fetchall()
    assert units == [{"name": "县住建局", "kind": "government_department", "contacts": unit["contacts"], "active": False}]
    assert categories == [{"name": "推诿扯皮", "group": "八个突出问题", "active": False}]
    assert stored_limits == [{"data": limits}]


def year_end_case() -> Story:
    return Story(at=datetime(2026, 12, 20, tzinfo=timezone.utc)).add(
        "assigned", deadline="2026-12-31", sign_for_due="2026-12-22").add("accepted")


def test_an_entered_calendar_year_counts_working_days_the_library_does_not_know(urls, client_on, office):
    # 2027 is beyond chinese-calendar 1.11: without the office's entry the days overdue cannot be counted.
    client = client_on(date(2027, 1, 6))
    project(urls["ledger"], year_end_case())
    gap = client.get("/v1/cases/case-1", headers=office).json
    assert gap["overdue"] is True and gap["working_days_overdue"] is None and "2027" in gap["calendar_gap"]
    project(urls["ledger"], directory("calendar_year_set", 1, {"year": 2027, "holidays": ["2027-01-01"],
                                                               "workdays": []}))
    counted = client.get("/v1/cases/case-1", headers=office).json
    assert (counted["working_days_overdue"], counted["calendar_gap"]) == (3, None)   # Jan 4, 5, 6


def test_the_offices_weekend_fallback_counts_a_year_nobody_entered(urls, client_on, office):
    project(urls["ledger"], year_end_case(), directory("limits_set", 1, {
        "limits": {}, "sign_for_days": 2, "recheck_ratio": 0.2, "calendar_fallback": "weekends"}))
    case = client_on(date(2027, 1, 6)).get("/v1/cases/case-1", headers=office).json
    assert (case["working_days_overdue"], case["calendar_gap"]) == (4, None)   # Mon-Fri: Jan 1 counts too


def test_a_calendar_year_the_calendar_would_refuse_is_not_applied(urls):
    saturday_off = directory("calendar_year_set", 1, {"year": 2027, "holidays": [], "workdays": ["2027-01-04"]})
    with pytest.raises(ValueError, match="只会是周六或周日"):
        project(urls["ledger"], saturday_off)
    with db.connect(urls["ledger"]) as conn:
        assert conn.execute("SELECT count(*) AS n FROM calendar_years").fetchone()["n"] == 0

