"""How a parallel rebuild routes the trail's lines (zfcommon.rebuild): read off the canonical bytes,
never fooled by what the event's data holds, and the services' routes."""
from audit.domain.chain import canonical_bytes
from ledger.entrypoints.rebuild import ROUTE as LEDGER
from notify.entrypoints.rebuild import ROUTE as NOTIFY
from zfcommon.rebuild import _type_and_subject

CASE = "cn.zhengfeng.case.received.v1"
UNIT = "cn.zhengfeng.directory.unit_registered.v1"
STEP = "cn.zhengfeng.escalation.step_issued.v1"


def stored(type_: str, subject: str, data: dict, **extensions) -> bytes:
    return canonical_bytes({"specversion": "1.0", "id": "e-1", "source": "/zhengfeng/intake", "type": type_,
                            "subject": subject, "time": "2026-12-06T09:00:00.000000+08:00",
                            "datacontenttype": "application/json", "streamversion": 1, "correlationid": "c",
                            "actor": "office:x", "partitionkey": subject, "data": data, **extensions})


def test_the_envelopes_type_and_subject_are_read_off_the_line_whatever_the_data_holds():
    data = {"subject": "not-this", "type": "nor.this", "nested": {"type": "x", "subject": "y"}, "text": ',"type":"z'}
    assert _type_and_subject(stored(CASE, "case-1", data, traceparent="00-ab-cd-01")) == (CASE, "case-1")


def test_a_value_with_an_escape_is_decoded_and_a_line_that_is_no_event_is_left_to_the_parse():
    assert _type_and_subject(stored(CASE, 'case-"1"\\', {})) == (CASE, 'case-"1"\\')
    assert _type_and_subject(stored(CASE, "案件\u0001", {})) == (CASE, "案件\u0001")
    assert _type_and_subject(b'{"type": "spaced", "subject": "out"}') == ("spaced", "out")
    assert _type_and_subject(b"not json") == ("", "")


def test_cases_are_spread_by_case_and_the_rest_kept_in_order_by_the_ledger_or_made_barriers_by_notify():
    assert LEDGER(CASE, "case-1") == NOTIFY(CASE, "case-1") == "case-1"
    assert LEDGER(STEP, "case-1") == "" and NOTIFY(STEP, "case-1") == "case-1"     # beside its case's events
    assert LEDGER(UNIT, "unit-1") == "" and NOTIFY(UNIT, "unit-1") is None
    assert NOTIFY("cn.zhengfeng.report.weekly_filed.v1", "report-县水利局-2026-W49") is None
    assert LEDGER("cn.zhengfeng.nothing.v1", "x") == "" and NOTIFY("cn.zhengfeng.nothing.v1", "x") is None
