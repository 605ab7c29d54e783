"""The CloudEvents envelope: what new_event builds, and everything parse_event refuses."""
import json
import uuid
from datetime import datetime, timezone

import pytest

from audit.domain.chain import canonical_bytes
from zfcommon.events import InvalidEvent, load_stored, new_event, parse_event, serialize_event
from zfcommon.events.catalogue import CASE_TOPIC

from .fakes import MISSING, RECEIVED_AT, envelope, received_data, received_event


def test_new_event_is_a_cloudevent_from_intake():
    body = json.loads(serialize_event(received_event("case-7", version=3)))
    assert body["specversion"] == "1.0"
    assert body["source"] == "/zhengfeng/intake"
    assert body["datacontenttype"] == "application/json"
    assert body["subject"] == body["partitionkey"] == "case-7"
    assert (body["streamversion"], body["correlationid"], body["actor"]) == (3, "corr-1", "office:li")
    assert uuid.UUID(body["id"])


def test_new_events_get_distinct_ids():
    assert received_event().id != received_event().id


def test_new_event_without_a_time_is_stamped_now_in_utc():
    before = datetime.now(timezone.utc)
    event = new_event(service="intake", type="cn.zhengfeng.case.received.v1", subject="case-1",
                      data=received_data(), streamversion=1, correlationid="c", actor="office:li")
    assert before <= event.time <= datetime.now(timezone.utc)


def test_new_event_with_invalid_data_is_refused_before_anything_is_written():
    with pytest.raises(InvalidEvent) as refused:
        received_event(priority="whenever")
    assert "priority" in refused.value.errors["data"]


def test_event_travels_on_its_types_topic():
    assert received_event().topic == CASE_TOPIC


@pytest.mark.parametrize("form", [bytes, lambda b: b.decode("utf-8"), json.loads])
def test_parse_round_trips_serialize(form):
    event = received_event(location={"address": "人民路1号", "lat": 30.5, "lon": 114.3})
    assert parse_event(form(serialize_event(event))) == event


def test_serialized_chinese_stays_readable():
    assert "作风问题".encode("utf-8") in serialize_event(received_event())


def test_valid_extensions_survive_the_round_trip():
    event = parse_event(envelope(traceparent="00-abc-def-01"))
    assert event.extensions == {"traceparent": "00-abc-def-01"}
    assert json.loads(serialize_event(event))["traceparent"] == "00-abc-def-01"


def test_extension_name_of_twenty_characters_is_accepted():
    assert parse_event(envelope(**{"a" * 20: "x"})).extensions == {"a" * 20: "x"}


@pytest.mark.parametrize("overrides, field", [
    ({"id": MISSING}, "id"),
    ({"id": ""}, "id"),
    ({"time": MISSING}, "time"),
    ({"time": "2024-05-06T09:30:00"}, "time"),
    ({"type": "cn.zhengfeng.case.teleported.v1"}, "type"),
    ({"type": "case.received"}, "type"),
    ({"specversion": "0.3"}, "specversion"),
    ({"source": "/elsewhere"}, "source"),
    ({"streamversion": 0}, "streamversion"),
    ({"streamversion": "1"}, "streamversion"),
    ({"data": MISSING}, "data"),
    ({"TraceParent": "x"}, "TraceParent"),
    ({"a" * 21: "x"}, "a" * 21),
    ({"trace_parent": "x"}, "trace_parent"),
], ids=lambda v: str(v)[:40])
def test_parse_refuses_a_bad_envelope_naming_the_attribute(overrides, field):
    with pytest.raises(InvalidEvent) as refused:
        parse_event(envelope(**overrides))
    assert field in refused.value.errors


@pytest.mark.parametrize("overrides, field", [
    ({"id": MISSING}, "id"),
    ({"id": ""}, "id"),
    ({"time": "2024-05-06T09:30:00"}, "time"),
    ({"time": 20240506}, "time"),
    ({"type": "cn.zhengfeng.case.teleported.v1"}, "type"),
    ({"specversion": "0.3"}, "specversion"),
    ({"source": "/elsewhere"}, "source"),
    ({"streamversion": 0}, "streamversion"),
    ({"streamversion": True}, "streamversion"),
    ({"datacontenttype": "text/plain"}, "datacontenttype"),
    ({"data": []}, "data"),
    ({"actor": "a" * 201}, "actor"),
    ({"a" * 21: "x"}, "a" * 21),
], ids=lambda v: str(v)[:40])
def test_a_stored_event_with_a_bad_envelope_is_refused_as_parse_event_refuses_it(overrides, field):
    with pytest.raises(InvalidEvent) as refused:
        load_stored(json.dumps(envelope(**overrides)).encode())
    assert field in refused.value.errors


def test_a_stored_event_loads_as_parse_event_loads_it_from_canonical_bytes_or_not():
    event = received_event()
    for line in (canonical_bytes(event.to_dict()), serialize_event(event), json.dumps(envelope(traceparent="00-a-b-01"))):
        assert load_stored(line) == parse_event(line) and load_stored(line).to_dict() == parse_event(line).to_dict()
    shifted = envelope(time="2026-12-06T09:00:00.000001+08:00")
    assert load_stored(json.dumps(shifted)).time == parse_event(shifted).time
    assert load_stored(json.dumps(shifted)).to_dict()["time"] == "2026-12-06T09:00:00.000001+08:00"


def test_a_stored_events_data_are_not_checked_again_audit_checked_them_before_storing_them():
    odd = envelope(data=received_data(channel="wechat"))
    with pytest.raises(InvalidEvent):
        parse_event(odd)
    assert load_stored(json.dumps(odd)).data["channel"] == "wechat"


@pytest.mark.parametrize("data, field", [
    (received_data(channel="wechat"), "channel"),
    (received_data(description="举" * 4001), "description"),
    (received_data(mood="angry"), "mood"),
    ({k: v for k, v in received_data().items() if k != "anonymous"}, "anonymous"),
    (received_data(location={"lat": 91}), "location"),
    (received_data(complainant={"name": "张三"}), "complainant"),
], ids=["channel", "description", "unknown-field", "missing-field", "location", "unsealed-complainant"])
def test_parse_refuses_data_failing_the_type_schema(data, field):
    with pytest.raises(InvalidEvent) as refused:
        parse_event(envelope(data=data))
    assert field in refused.value.errors["data"]


def test_description_of_exactly_4000_characters_is_accepted():
    assert len(parse_event(envelope(data=received_data(description="举" * 4000))).data["description"]) == 4000


@pytest.mark.parametrize("raw", [b"\xff\xfe not json", b"{\"id\": ", "", b"\x80"])
def test_parse_refuses_bytes_that_are_not_json(raw):
    with pytest.raises(InvalidEvent) as refused:
        parse_event(raw)
    assert "_envelope" in refused.value.errors


@pytest.mark.parametrize("raw", [b"[]", b'[{"id": "x"}]', b'"event"', b"42"])
def test_parse_refuses_json_that_is_not_an_object(raw):
    with pytest.raises(InvalidEvent) as refused:
        parse_event(raw)
    assert refused.value.errors == {"_envelope": ["a structured CloudEvent is a JSON object"]}


@pytest.mark.parametrize("raw", [None, b"[" * 100_000], ids=["kafka-tombstone", "deeply-nested"])
def test_parse_refuses_any_undecodable_record_as_invalid(raw):
    with pytest.raises(InvalidEvent):
        parse_event(raw)


def test_invalid_event_message_lists_the_errors():
    with pytest.raises(InvalidEvent, match="specversion"):
        parse_event(envelope(specversion="2.0"))


def test_event_time_keeps_its_zone_through_the_round_trip():
    assert parse_event(serialize_event(received_event())).time == RECEIVED_AT
    assert parse_event(envelope(time="2024-05-06T17:30:00+08:00")).time == RECEIVED_AT
