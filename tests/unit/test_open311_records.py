"""Open311 service requests as the public reads them (intake.domain.open311_records) and the XML/JSON
writer (intake.entrypoints.open311_format)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from intake.domain.open311 import Open311Error, service_code
from intake.domain.open311_records import WINDOW, index_row, query, record
from intake.entrypoints.open311_format import render, to_xml
from zfcommon import caseview
from zfcommon.workdays import SHANGHAI

from .fakes import LEAD_UNIT, RECEIVED_AT, case_event, received_event

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


def view_after(*changes):
    return caseview.replay([received_event("case-1", location={"address": "二楼", "lat": 26.9, "lon": 111.2},
                                           origin={"system": "open311", "ref": "case-1", "parent": "client-a",
                                                   "extra": {"address_id": "A-1", "media_url": "https://m/1"}}),
                            *changes])


class Change:
    def __init__(self, name, version, data, at=RECEIVED_AT + timedelta(days=1)):
        self.type, self.subject, self.streamversion, self.data, self.time = case_event(name), "case-1", version, data, at


ASSIGNED = Change("assigned", 2, {"lead_unit": LEAD_UNIT, "cooperating_units": [], "handling_mode": "deadline",
                                  "deadline": "2024-05-27", "sign_for_due": "2024-05-07"})


def test_a_new_case_is_open_with_its_place_and_the_open311_origin():
    row = index_row(view_after())
    assert (row["status"], row["case_status"], row["lead_unit"], row["deadline"]) == ("open", "received", None, None)
    assert (row["address"], row["lat"], row["lon"]) == ("二楼", 26.9, 111.2)
    assert (row["address_id"], row["media_url"]) == ("A-1", "https://m/1")
    assert row["service_code"] == service_code("作风问题") and row["version"] == 1


def test_origin_extras_of_other_systems_are_not_read_as_open311_fields():
    view = caseview.replay([received_event("case-1", origin={"system": "hotline", "ref": "12345-1",
                                                             "extra": {"media_url": "internal"}})])
    assert index_row(view)["media_url"] is None


@pytest.mark.parametrize("name, status, case_status", [
    ("closed", "closed", "closed"), ("merged", "closed", "merged"), ("dismissal_accepted", "closed", "dismissed"),
    ("returned", "open", "returned"), ("rework_ordered", "open", "in_progress")])
def test_closed_dismissed_and_merged_cases_are_closed_and_the_rest_open(name, status, case_status):
    data = {"closed": {"comment": None, "on_time": True}, "merged": {"into_case_id": "case-9", "reason": None},
            "dismissal_accepted": {"comment": None, "recheck": {"selected": False}},
            "returned": {"unit": LEAD_UNIT, "reason": "不属本单位"},
            "rework_ordered": {"reason": "整改不彻底", "new_deadline": "2024-06-10", "rework_count": 1}}[name]
    row = index_row(view_after(ASSIGNED, Change(name, 3, data)))
    assert (row["status"], row["case_status"]) == (status, case_status)


def test_the_record_has_every_spec_field_and_no_description():
    rec = record(index_row(view_after(ASSIGNED)))
    assert rec["agency_responsible"] == LEAD_UNIT and rec["status_notes"] == f"已交办{LEAD_UNIT},待签收"
    assert rec["requested_datetime"] == "2024-05-06T17:30:00+08:00"
    assert rec["updated_datetime"] == "2024-05-07T17:30:00+08:00"
    assert rec["expected_datetime"] == "2024-05-27T23:59:59+08:00"
    assert rec["description"] is None and rec["zipcode"] is None and rec["long"] == 111.2


@pytest.mark.parametrize("address, public", [("邵阳县宝庆中路88号3栋2单元501室", "邵阳县宝庆中路"),
                                             ("阳光小区5栋2单元501室", "阳光小区"), ("县政务服务中心二楼", "县政务服务中心二楼"),
                                             ("3栋501室", None)])
def test_the_public_reads_where_it_happened_to_street_level_only(address, public):
    view = caseview.replay([received_event("case-1", location={"address": address, "lat": 26.98912, "lon": 111.27436})])
    rec = record(index_row(view))
    assert (rec["address"], rec["lat"], rec["long"]) == (public, 26.989, 111.274)


def test_a_merged_case_points_to_the_case_it_joined():
    rec = record(index_row(view_after(Change("merged", 2, {"into_case_id": "case-9", "reason": None}))))
    assert "case-9" in rec["status_notes"] and rec["status"] == "closed"


def q(**params):
    return query({k: [v] for k, v in params.items()}, NOW)


def test_the_default_window_is_the_last_90_days_with_both_statuses():
    found = q()
    assert (found.start, found.end, found.statuses, found.codes) == (NOW - WINDOW, NOW, ("open", "closed"), ())


def test_one_date_opens_a_90_day_window_from_or_to_it():
    assert q(start_date="2026-01-01T00:00:00Z").end == datetime(2026, 4, 1, tzinfo=timezone.utc)
    assert q(end_date="2026-04-01T00:00:00Z").start == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_a_bare_end_date_includes_its_whole_day():
    found = q(start_date="2026-03-01", end_date="2026-03-31")
    assert found.start == datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert found.end == datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)


def test_both_bounds_hold_whole_seconds_as_records_show_them():
    # A record's requested_datetime is written to the second; the case was received some microseconds
    # into it. Given back as end_date (or start_date), that record must be in the answer.
    found = q(start_date="2026-03-01T09:00:00.250+08:00", end_date="2026-03-31T09:00:00+08:00")
    assert found.since == datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)
    assert found.until == datetime(2026, 3, 31, 9, 0, 1, tzinfo=SHANGHAI)      # exclusive


def test_ids_override_every_other_parameter_and_lists_may_repeat_or_use_commas():
    found = query({"service_request_id": ["a,b", "c", "a"], "status": ["bogus"], "start_date": ["x"]}, NOW)
    assert found.ids == ("a", "b", "c")
    assert query({"status": ["open", "closed,open"], "service_code": ["zf-1,zf-2"]}, NOW).statuses == ("open", "closed")


@pytest.mark.parametrize("params, param", [
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:01Z"}, "end_date"),
    ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "end_date"),
    ({"start_date": "2026-02-01T00:00:00"}, "start_date"),
    ({"end_date": "tomorrow"}, "end_date"),
    ({"status": "open,pending"}, "status"),
])
def test_bad_queries_are_400_naming_the_parameter(params, param):
    with pytest.raises(Open311Error) as caught:
        q(**params)
    assert caught.value.status == 400 and caught.value.errors[0][0] == param


def test_exactly_90_days_is_allowed():
    found = q(start_date="2026-01-01T00:00:00Z", end_date="2026-04-01T00:00:00Z")
    assert found.end - found.start == WINDOW


def test_xml_and_json_say_the_same_in_the_spark_convention():
    doc = [{"service_request_id": "c-1", "status": "open", "lat": 26.5, "description": None,
            "attributes": [{"variable": True, "values": [{"key": "k", "name": "名"}]}]}]
    root = ET.fromstring(to_xml("service_requests", doc))
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
    request = root[0]
    assert request.find("lat").text == "26.5" and request.find("description").text is None
    assert request.find("attributes/attribute/variable").text == "true"
    assert request.find("attributes/attribute/values/value/name").text == "名"
    assert json.loads(render("json", "service_requests", doc).data) == doc


def test_xml_starts_with_its_declaration_and_drops_characters_xml_cannot_carry():
    body = to_xml("errors", [{"code": 404, "description": "service_code: a\x00b"}])
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<errors><error>')
    assert ET.fromstring(body).find("error/description").text == "service_code: a\ufffdb"
