"""The ledger's keyset paging cursor."""
import base64

import pytest

from ledger.adapters.repository import decode_cursor, encode_cursor

from .fakes import RECEIVED_AT


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def test_cursor_round_trips_received_at_and_case_id():
    assert decode_cursor(encode_cursor({"received_at": RECEIVED_AT, "case_id": "case-1"})) == (RECEIVED_AT, "case-1")


def test_cursor_is_safe_in_a_query_string():
    cursor = encode_cursor({"received_at": RECEIVED_AT, "case_id": "案件/1+2?"})
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


@pytest.mark.parametrize("cursor", ["!!!", "", "abc", _b64(b"not json"), _b64(b"null"), _b64(b'{"a": 1}'),
                                    _b64(b'["yesterday", "case-1"]'), _b64(b'[1, 2, 3]'), _b64(b'[20240506, "c"]'),
                                    _b64(b"\xff\xfe")])
def test_garbage_is_not_a_cursor(cursor):
    with pytest.raises(ValueError, match="not a cursor from this API"):
        decode_cursor(cursor)


def test_deeply_nested_json_is_not_a_cursor():
    with pytest.raises(ValueError):
        decode_cursor(_b64(b"[" * 5000))
