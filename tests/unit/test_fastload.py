"""The fast path for event checks (zfcommon.events.fastload) says yes only where marshmallow does,
with the same loaded values: every catalogue schema and the envelope, on a valid sample of each and
on every way of spoiling it one value at a time."""
from __future__ import annotations

import itertools
import math
from datetime import datetime, timezone

import pytest
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from zfcommon.events import InvalidEvent, envelope, fastload, new_event, parse_event
from zfcommon.events.catalogue import CATALOGUE, fast_loader

# Strings that satisfy the catalogue's patterns, tried in turn for a Regexp field.
PATTERNED = ("ZF-2026-000123", "a" * 64, "2026-W48", "2026-11", "2026-Q4", "2026-11-23", "2026",
             "cn.zhengfeng.case.received.v1", "/zhengfeng/intake", "county-1", "SY12345-20261123-000317",
             "https://x.cn/a.pdf", "unit:县自然资源局", "office:tester", "task-1", "campaign-1")
# What a spoiled value is replaced with; DELETE takes the key out, UNKNOWN adds a key beside it.
DELETE, UNKNOWN = object(), object()
SPOILERS = (DELETE, UNKNOWN, None, "", "x" * 9000, "文本", 0, -1, 7, 2 ** 70, 1.5, math.nan, math.inf, True, False,
            "true", "1", "2026-13-45", "2026-11-23", "2026-11-23T09:00:00", "2026-11-23T09:00:00+08:00",
            [], ["x"], [None], {}, {"k": "v"}, {"k": None}, b"bytes")


def sample_value(field: fields.Field):
    if isinstance(field, fields.Nested):
        one = sample(field.schema)
        return [one] if field.schema.many else one
    if isinstance(field, fields.List):
        n = max([v.min or 0 for v in field.validators if isinstance(v, validate.Length)] + [1])
        return [sample_value(field.inner) for _ in range(n)]
    if isinstance(field, fields.Dict):
        if field.key_field is None and field.value_field is None:
            return {"k": "v"}
        return {sample_value(field.key_field) if field.key_field else "k":
                sample_value(field.value_field) if field.value_field else "v"}
    if isinstance(field, fields.Boolean):
        return True
    if isinstance(field, fields.AwareDateTime | fields.DateTime):
        return "2026-11-23T09:00:00+08:00"
    if isinstance(field, fields.Date):
        return "2026-11-23"
    if isinstance(field, fields.Integer | fields.Float):
        ranges = [v for v in field.validators if isinstance(v, validate.Range)]
        low = ranges[0].min if ranges and ranges[0].min is not None else 1
        return low if not isinstance(field, fields.Float) else float(low)
    if isinstance(field, fields.String):
        for v in field.validators:
            if isinstance(v, validate.OneOf):
                return list(v.choices)[0]
            if isinstance(v, validate.Equal):
                return v.comparable
        for candidate in ("文本", *PATTERNED):
            try:
                field.deserialize(candidate)
                return candidate
            except ValidationError:
                continue
        return "文本"
    return "x"


def sample(schema: Schema) -> dict:
    return {(f.data_key or name): sample_value(f) for name, f in schema.load_fields.items()}


def valid_sample(schema: Schema) -> dict | None:
    full = sample(schema)
    required = {k: v for k, v in full.items() if schema.load_fields.get(k) is None or schema.load_fields[k].required}
    for candidate in (full, required):
        try:
            schema.load(candidate)
            return candidate
        except ValidationError:
            continue
    return None


def paths(doc, at=()):
    """Every path to a value in the document, containers included (of a list, its first item: the
    others are of the same field)."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield (*at, key)
            yield from paths(value, (*at, key))
    elif isinstance(doc, list) and doc:
        yield (*at, 0)
        yield from paths(doc[0], (*at, 0))


def spoiled(doc, path, replacement):
    """A copy of `doc` with the value at `path` replaced (only the containers on the path are copied)."""
    if not path:
        if replacement is UNKNOWN:
            return {**doc, "zz_unknown": 1} if isinstance(doc, dict) else None
        return replacement
    head, rest = path[0], path[1:]
    inner = spoiled(doc[head], rest, replacement)
    if inner is None and replacement is UNKNOWN:
        return None
    out = dict(doc) if isinstance(doc, dict) else list(doc)
    if inner is DELETE:
        del out[head]
    else:
        out[head] = inner
    return out


def agree(loader, schema, data) -> bool:
    """The fast path's answer, held against marshmallow's; returns whether the fast path vouched."""
    try:
        out = loader(data)
    except fastload.Unsure:
        return False
    try:
        expected = schema.load(data)
    except ValidationError as exc:
        pytest.fail(f"fast path accepted what marshmallow refuses ({exc.normalized_messages()}): {data!r}")
    assert out == expected
    return True


SAMPLED = {t: valid_sample(e.schema) for t, e in CATALOGUE.items()}


def test_every_catalogue_schema_compiles_so_no_event_type_falls_back_to_marshmallow_for_its_valid_events():
    assert [t for t in CATALOGUE if fast_loader(t) is None] == []


def test_a_valid_sample_of_nearly_every_event_type_is_vouched_for_with_marshmallows_own_result():
    assert sum(s is not None for s in SAMPLED.values()) >= 0.9 * len(CATALOGUE)
    for event_type, data in SAMPLED.items():
        if data is not None:
            assert agree(fast_loader(event_type), CATALOGUE[event_type].schema, data), event_type


@pytest.mark.parametrize("event_type", [t for t, s in SAMPLED.items() if s is not None])
def test_no_spoiled_value_anywhere_in_an_event_passes_the_fast_path_unless_marshmallow_takes_it(event_type):
    schema, data, loader = CATALOGUE[event_type].schema, SAMPLED[event_type], fast_loader(event_type)
    refused = 0
    for path, replacement in itertools.product(list(paths(data)), SPOILERS):
        doc = spoiled(data, path, replacement)
        if doc is not None and not agree(loader, schema, doc):
            refused += 1
    assert refused > 0


def received(**overrides) -> dict:
    data = {"case_number": "ZF-2026-000123", "channel": "hotline", "category": "推诿扯皮",
            "description": "窗口推诿", "summary": "窗口推诿", "subject_unit": "县自然资源局", "priority": "normal",
            "location": None, "anonymous": True, "complainant": None}
    event = new_event(service="intake", type="cn.zhengfeng.case.received.v1", subject="case-1", data=data,
                      streamversion=1, correlationid="corr", actor="office:tester",
                      time=datetime(2026, 11, 23, 1, tzinfo=timezone.utc))
    return {**event.to_dict(), **overrides}


def test_the_envelope_is_loaded_as_marshmallow_loads_it_and_each_spoiled_attribute_is_left_to_it():
    loader = fastload.compile_schema(envelope._ENVELOPE)
    good = received(zfextra="kept")
    assert agree(loader, envelope._ENVELOPE, good)
    for path, replacement in itertools.product([(k,) for k in good if k != "data"], SPOILERS):
        doc = spoiled(good, path, replacement)
        if doc is not None:
            agree(loader, envelope._ENVELOPE, doc)


@pytest.mark.parametrize("change, field", [({"type": "cn.zhengfeng.case.teleported.v1"}, "type"),
                                          ({"time": "2026-11-23T09:00:00"}, "time"),
                                          ({"streamversion": True}, "streamversion"),
                                          ({"streamversion": "1"}, "streamversion"),
                                          ({"specversion": "0.3"}, "specversion")])
def test_a_refused_envelope_still_gets_marshmallows_errors_by_field(change, field):
    with pytest.raises(InvalidEvent) as refused:
        parse_event(received(**change))
    assert field in refused.value.errors


def test_refused_event_data_still_gets_marshmallows_errors_by_field():
    with pytest.raises(InvalidEvent) as refused:
        parse_event(received(data={**received()["data"], "priority": "whenever", "surprise": 1}))
    assert set(refused.value.errors["data"]) == {"priority", "surprise"}


def test_what_the_fast_path_does_not_know_is_left_to_marshmallow():
    class Coerced(Schema):
        when = fields.Date()

        @validates("when")
        def _not_sunday(self, value, **_):
            if value.weekday() == 6:
                raise ValidationError("sunday")

    class Hooked(Schema):
        n = fields.Integer()

        @validates_schema(pass_collection=True)
        def _whole(self, data, **_):
            pass
    loader = fastload.compile_schema(Coerced())
    assert agree(loader, Coerced(), {"when": "2026-11-23"})
    assert not agree(loader, Coerced(), {"when": "2026-11-22"})       # the schema's own validator ran
    assert fastload.compile_schema(Hooked()) is None
    assert fastload.compile_field(fields.Decimal()) is None
    assert fastload.compile_field(fields.Tuple((fields.String(),))) is None


def test_the_cross_check_used_by_the_suite_catches_a_fast_path_that_says_yes_too_often():
    class Small(Schema):
        n = fields.Integer(validate=validate.Range(max=3))
    with pytest.raises(fastload.Disagreement):
        fastload._cross_check(Small(), {"n": 9}, {"n": 9})
