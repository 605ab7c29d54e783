"""The request-validation layer (zfcommon.inputs): what a client sends is refused with a 4xx problem
naming the field, never passed on to fail deeper down."""
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import Flask
from marshmallow import Schema, fields

from zfcommon import inputs
from zfcommon.problem import BadRequest, Unprocessable, UnsupportedMediaType


@pytest.mark.parametrize("text, code_point", [("a\x00b", "U+0000"), ("\x1b[31m", "U+001B"), ("x\x7f", "U+007F"),
                                              ("\x85", "U+0085"), ("a\ud800", "U+D800"), ("\udfff", "U+DFFF")])
def test_control_characters_and_lone_surrogates_are_named(text, code_point):
    assert code_point in inputs.bad_character(text)


@pytest.mark.parametrize("text", ["县自然资源局", "第一行\n第二行\r\n\t缩进", "emoji 😀", ""])
def test_ordinary_text_with_line_breaks_and_tabs_passes(text):
    assert inputs.bad_character(text) is None


def test_a_header_may_carry_utf8_bytes_read_as_latin1_but_no_c0_control():
    assert inputs.bad_character("é".encode().decode("latin-1"), inputs.FORBIDDEN_IN_HEADER) is None
    assert inputs.bad_character("key\x00", inputs.FORBIDDEN_IN_HEADER)


def test_json_with_a_nul_or_a_lone_surrogate_names_the_field_where_it_is():
    with pytest.raises(Unprocessable) as refused:
        inputs.decode_json(b'{"description": "a\\u0000b", "location": {"address": "\\ud800"}, "ok": "fine"}')
    body = refused.value.body()
    assert body["code"] == "input.forbidden_character"
    assert set(body["errors"]) == {"description", "location"} and set(body["errors"]["location"]) == {"address"}


def test_a_bad_key_is_named_too_with_its_bad_character_replaced():
    with pytest.raises(Unprocessable) as refused:
        inputs.decode_json(b'{"a\\u0000": 1}')
    assert list(refused.value.body()["errors"]) == ["a\ufffd"]


def test_a_duplicate_key_is_refused_naming_it():
    with pytest.raises(Unprocessable) as refused:
        inputs.decode_json(b'{"channel": "hotline", "nested": {"x": 1}, "channel": "petition"}')
    body = refused.value.body()
    assert body["code"] == "json.duplicate_key" and list(body["errors"]) == ["channel"]


@pytest.mark.parametrize("depth", [inputs.MAX_DEPTH + 1, 5000])
def test_deep_nesting_is_refused_not_a_recursion_error(depth):
    with pytest.raises(Unprocessable) as refused:
        inputs.decode_json(b"[" * depth + b"]" * depth)
    assert refused.value.body()["code"] == "json.too_deep"


def test_nesting_up_to_the_limit_is_fine():
    assert inputs.decode_json(b"[" * inputs.MAX_DEPTH + b"]" * inputs.MAX_DEPTH)


@pytest.mark.parametrize("raw", [b'{"a": ', b"\xff\xfe", b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}',
                                 b'{"a": ' + b"9" * 5000 + b"}"])
def test_what_is_not_json_is_a_400_in_chinese(raw):
    with pytest.raises(BadRequest) as refused:
        inputs.decode_json(raw)
    body = refused.value.body()
    assert body["code"] == "json.malformed" and "JSON" in body["detail"] and body["errors"] == {"json": ["不是有效的 JSON"]}


def test_loaded_integers_beyond_bigint_and_years_before_1000_are_named():
    errors = inputs.out_of_range({"offset": 2 ** 63, "limit": 2 ** 63 - 1, "ok": True,
                                  "nested": [{"since": date(999, 12, 31)}, {"since": date(1000, 1, 1)}],
                                  "at": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))})
    assert set(errors) == {"offset", "nested", "at"} and set(errors["nested"]) == {0}


def test_out_of_range_fields_are_named_as_the_request_named_them():
    """A field loaded under another name (`data_key`: the interim report's from/to are start/end once
    loaded) is named as it was sent, through nested schemas and lists of them; a plain dict's keys stay."""
    from marshmallow import Schema, fields

    class Inner(Schema):
        when = fields.Date(data_key="at")

    class Outer(Schema):
        start = fields.Date(data_key="from")
        items = fields.List(fields.Nested(Inner))
        one = fields.Nested(Inner, data_key="single")
        meta = fields.Dict()
        plain = fields.Integer()

    loaded = Outer().load({"from": "0999-01-01", "items": [{"at": "2026-01-01"}, {"at": "0005-01-01"}],
                           "single": {"at": "0002-01-01"}, "meta": {"x": 10 ** 30}, "plain": 2 ** 63})
    errors = inputs.out_of_range(loaded, Outer())
    assert set(errors) == {"from", "items", "single", "meta", "plain"}
    assert set(errors["items"]) == {1} and set(errors["items"][1]) == {"at"}
    assert set(errors["single"]) == {"at"} and set(errors["meta"]) == {"x"}
    assert set(inputs.out_of_range(loaded)) == {"start", "items", "one", "meta", "plain"}    # without the schema


def test_an_offset_no_time_zone_has_is_named():
    assert "at" in inputs.out_of_range({"at": datetime(2026, 1, 1, tzinfo=timezone(-timedelta(hours=20, minutes=26)))})
    assert inputs.out_of_range({"at": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=14)))}) == {}


def test_a_time_that_cannot_be_expressed_in_utc_is_named():
    late = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-14)))
    assert "at" in inputs.out_of_range({"at": late})


def test_errors_nested_by_location_are_flattened_to_fields():
    messages = {"json": {"channel": ["Must be one of: hotline."]}, "query": {"limit": ["Too big."]}}
    assert inputs.flatten_locations(messages) == {"channel": ["Must be one of: hotline."], "limit": ["Too big."]}


def test_location_level_error_is_kept_under_the_location():
    assert inputs.flatten_locations({"json": ["Invalid input type."]}) == {"json": ["Invalid input type."]}


def test_an_argument_schema_is_built_once_per_process_and_keeps_nothing_of_one_request_for_the_next():
    from flask import Flask
    from marshmallow import Schema, fields

    built = []

    class Note(Schema):
        text = fields.String(required=True)
        tags = fields.List(fields.String())

        def __init__(self, *args, **kwargs):
            built.append(self)
            super().__init__(*args, **kwargs)

    parser, app = inputs.RequestParser(), Flask("inputs-test")
    with app.test_request_context(json={"text": "一", "tags": ["甲"]}):
        assert parser.parse(Note, location="json") == {"text": "一", "tags": ["甲"]}
    with app.test_request_context(json={"tags": "乙"}), pytest.raises(Unprocessable) as refused:
        parser.parse(Note, location="json")
    assert set(refused.value.extensions["errors"]) == {"text", "tags"}
    with app.test_request_context(json={"text": "二"}):
        assert parser.parse(Note, location="json") == {"text": "二"}
    assert len(built) == 1


# -- JSON bodies through the compiled schema (RequestParser._vouched_body) ------------------------
class _Body(Schema):
    class Meta:
        unknown = "raise"
    name = fields.String(required=True)
    count = fields.Integer(load_default=1)


def _parse(body: bytes, content_type: str = "application/json", **kwargs):
    app = Flask(__name__)
    with app.test_request_context("/", method="POST", data=body, content_type=content_type):
        return inputs.RequestParser().parse(_Body, location="json", **kwargs)


def test_a_valid_body_is_loaded_by_the_compiled_schema_as_marshmallow_would(monkeypatch):
    calls = []
    monkeypatch.setattr(_Body, "load", lambda self, *a, **k: calls.append(a) or {})
    monkeypatch.setattr(inputs.fastload, "CROSS_CHECK", False)     # it calls load to compare
    assert _parse(b'{"name": "x"}') == {"name": "x", "count": 1}
    assert calls == []


@pytest.mark.parametrize("body, field", [(b'{"name": 5}', "name"), (b'{"count": 2}', "name"),
                                         (b'{"name": "x", "extra": 1}', "extra")])
def test_a_body_the_compiled_schema_cannot_vouch_for_gets_marshmallows_errors(body, field):
    with pytest.raises(Unprocessable) as refused:
        _parse(body)
    assert field in refused.value.body()["errors"]


def test_a_string_of_digits_is_left_to_marshmallow_which_takes_it():
    assert _parse(b'{"name": "x", "count": "7"}') == {"name": "x", "count": 7}


def test_a_body_sent_as_another_type_is_still_a_415():
    with pytest.raises(UnsupportedMediaType):
        _parse(b'{"name": "x"}', content_type="text/plain")
