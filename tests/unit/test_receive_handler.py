"""receive_case and load_case against an in-memory unit of work."""
import uuid
from datetime import datetime, timezone

import pytest

from intake.domain.case import RECEIVED, InvalidCommand
from intake.service_layer.handlers import CaseNotFound, Context, load_case, receive_case
from zfcommon.events import parse_event, serialize_event

from .fakes import FakeUnitOfWork, complaint, received_event

CTX = Context(actor="channel:hotline-desk", correlation_id="corr-42",
              now=datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))


def _receive(cmd=None):
    uow = FakeUnitOfWork()
    case_id = receive_case(cmd or complaint(), uow, CTX).case_id
    [(stream_id, expected_version, [event])] = uow.events.appends
    assert stream_id == case_id
    return uow, case_id, expected_version, event


def test_receive_case_returns_a_new_case_id():
    _, case_id, _, _ = _receive()
    assert str(uuid.UUID(case_id)) == case_id


def test_each_lead_gets_its_own_case():
    uow = FakeUnitOfWork()
    first, second = receive_case(complaint(), uow, CTX), receive_case(complaint(), uow, CTX)
    assert first.case_id != second.case_id and first.case_number != second.case_number


def test_received_event_is_appended_expecting_an_empty_stream():
    _, _, expected_version, event = _receive()
    assert expected_version == 0
    assert event.streamversion == 1


def test_appended_event_is_a_valid_event_about_the_case():
    _, case_id, _, event = _receive()
    assert parse_event(serialize_event(event)) == event
    assert (event.type, event.subject, event.source) == (RECEIVED, case_id, "/zhengfeng/intake")


def test_appended_event_carries_the_actor_and_correlation_id_of_the_request():
    _, _, _, event = _receive()
    assert (event.actor, event.correlationid) == ("channel:hotline-desk", "corr-42")


def test_anonymous_lead_seals_nothing():
    uow, _, _, event = _receive()
    assert uow.contacts.sealed == []
    assert event.data["complainant"] is None and event.data["anonymous"] is True


def test_named_complainant_is_sealed_under_the_new_case():
    contact = {"name": "张三", "phone": "13800138000"}
    uow, case_id, _, event = _receive(complaint(complainant=contact))
    assert uow.contacts.sealed == [(case_id, contact)]
    assert event.data["complainant"]["kid"] == f"case:{case_id}"
    assert event.data["anonymous"] is False
    assert "13800138000" not in serialize_event(event).decode()


def test_load_case_of_an_unknown_stream_is_not_found():
    with pytest.raises(CaseNotFound) as missing:
        load_case(FakeUnitOfWork(), "no-such-case")
    assert missing.value.case_id == "no-such-case"


def test_load_case_replays_the_stored_events():
    uow = FakeUnitOfWork({"case-1": [received_event("case-1", channel="supervisor")]})
    case = load_case(uow, "case-1")
    assert (case.case_id, case.version, case.status) == ("case-1", 1, "received")
    assert case.facts["channel"] == "supervisor"


def test_received_case_loads_back_as_received():
    uow = FakeUnitOfWork()
    case_id = receive_case(complaint(), uow, CTX).case_id
    assert load_case(uow, case_id).status == "received"


def test_a_lead_is_received_under_the_next_number_of_the_receipts_year_in_china():
    # 2026-12-31T16:30Z is already 2027-01-01 in China.
    uow = FakeUnitOfWork()
    late = Context(actor="office:li", correlation_id="c", now=datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc))
    case = receive_case(complaint(), uow, late)
    [(_, _, [event])] = uow.events.appends
    assert event.data["case_number"] == case.case_number == "ZF-2027-000001"
    assert load_case(uow, case.case_id).case_number == "ZF-2027-000001"


def test_a_lead_refused_for_its_category_costs_no_number():
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidCommand):
        receive_case(complaint(category="不在分类里"), uow, CTX)
    assert uow.case_numbers.issued == [] and uow.events.appends == []
