"""zfcommon.db.json_rows: a poll's rows as one JSON array for jsonb_populate_recordset."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from zfcommon import db


def test_rows_become_one_array_with_times_in_iso_8601_and_chinese_kept_readable():
    at = datetime(2026, 12, 7, 8, 30, 1, 123456, tzinfo=timezone(timedelta(hours=8)))
    text = db.json_rows([{"case_id": "c1", "received_at": at, "due": date(2026, 12, 31), "units": ["城管局"],
                          "view": {"a": 1}, "note": None}])
    assert "城管局" in text
    assert json.loads(text) == [{"case_id": "c1", "received_at": "2026-12-07T08:30:01.123456+08:00",
                                 "due": "2026-12-31", "units": ["城管局"], "view": {"a": 1}, "note": None}]


def test_a_value_json_cannot_carry_is_refused_not_turned_into_text():
    with pytest.raises(TypeError):
        db.json_rows([{"x": object()}])
