"""The Flask base's flattening of webargs validation messages into field names."""
from zfcommon.web import _flatten_webargs


def test_errors_nested_by_location_are_flattened_to_fields():
    messages = {"json": {"channel": ["Must be one of: hotline."]}, "query": {"limit": ["Too big."]}}
    assert _flatten_webargs(messages) == {"channel": ["Must be one of: hotline."], "limit": ["Too big."]}


def test_location_level_error_is_kept_under_the_location():
    assert _flatten_webargs({"json": ["Invalid input type."]}) == {"json": ["Invalid input type."]}


def test_nothing_to_flatten_gives_nothing():
    assert _flatten_webargs({}) == {}
