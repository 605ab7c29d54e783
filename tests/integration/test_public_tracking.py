"""The public "track my case" box on notify's public page: a receipt number shows the status in public
wording, the dates and, once closed, the unit's reply with personal data removed — nothing else — and
look-ups are rate limited per address."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from notify.adapters.repository import apply
from notify.entrypoints.http import create_app
from zfcommon import db, trackingcode

from ..conftest import settings_for
from ..unit.test_ledger_evolve import Story

pytestmark = pytest.mark.integration
HOTLINE = {"system": "hotline", "ref": "SY12345-20261123-000317", "parent": None, "extra": None}


@pytest.fixture
def public(urls):
    with db.connect(urls["notify"]) as conn:
        for story in (
            Story("c-open", at=datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc), origin=HOTLINE,
                  case_number="ZF-2026-000001",
                  description="本人李建国反映窗口推诿").then("assigned", "accepted"),
            Story("c-done", at=datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc), case_number="ZF-2026-000002").add("assigned").add("accepted").add(
                "rectification_reported", text="已整改。联系人王五，电话13807391234，已向群众反馈。").add("closed"),
        ):
            for event in story.events:
                apply(conn, event)
        conn.commit()
    app = create_app(settings_for("notify", urls["notify"]))
    yield app.test_client()
    app.extensions["zf_pool"].close()


def test_a_hotline_order_number_shows_the_status_and_dates_but_nothing_of_the_case(public):
    resp = public.get("/public/track", query_string={"receipt": "SY12345-20261123-000317",
                                                      "code": trackingcode.code_for("c-open")})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert "办理中" in page and "2026年11月23日" in page
    for hidden in ("李建国", "推诿", "县住建局", "县自然资源局", "办理结果"):
        assert hidden not in page


def test_a_number_tracks_only_with_its_tracking_code_and_says_nothing_of_whether_it_exists(public):
    """Case and order numbers run in sequence: a number alone must not open a case to whoever counts."""
    addresses = iter(range(1, 255))

    def look(receipt, **code):      # each from its own address: the limit is tested below
        return public.get("/public/track", query_string={"receipt": receipt, **code},
                          environ_base={"REMOTE_ADDR": f"198.51.100.{next(addresses)}"})
    code = trackingcode.code_for("c-done")
    spaced = f"{code[:4]} {code[4:]}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for receipt in ("ZF-2026-000002", "zf-2026-000002"):
        for typed in (code, spaced):
            ok = look(receipt, code=typed)
            assert ok.status_code == 200 and "已办结" in ok.get_data(as_text=True), (receipt, typed)
    without = [look(r, **extra)
               for r in ("ZF-2026-000002", "ZF-2026-999999", "SY12345-20261123-000317")
               for extra in ({}, {"code": ""}, {"code": "1234"})]
    assert {w.status_code for w in without} == {422}
    assert len({re.sub(r'value="[^"]*"', "", w.get_data(as_text=True)) for w in without[::3]}) == 1   # alike
    assert "请输入查询码" in without[0].get_data(as_text=True) and "已办结" not in without[0].get_data(as_text=True)
    wrong = f"{(int(code) + 1) % 10 ** 8:08d}"
    for receipt, typed in (("ZF-2026-000002", wrong), ("ZF-2026-999999", code),
                           ("SY12345-20261123-000317", code)):                  # another case's code
        miss = look(receipt, code=typed)
        assert miss.status_code == 404 and "未查到" in miss.get_data(as_text=True) and "已办结" not in \
            miss.get_data(as_text=True)


def test_the_tracking_code_is_the_same_everywhere_it_is_given_and_read():
    assert trackingcode.code_for("c-done") == trackingcode.code_for("c-done") != trackingcode.code_for("c-open")
    assert len(trackingcode.code_for("c-done")) == 8 and trackingcode.code_for("c-done").isdigit()
    assert trackingcode.typed("１２３４-５６７８") == "12345678" and trackingcode.typed("1234567") is None
    assert trackingcode.typed("١٢٣٤٥٦٧٨") is None                      # digits, but not the ones on a receipt


def test_a_closed_case_shows_the_units_reply_with_personal_data_removed(public):
    page = public.get("/public/track", query_string={"receipt": "c-done"}).get_data(as_text=True)
    assert "已办结" in page and "办理结果" in page and "已整改" in page
    assert "13807391234" not in page and "王五" not in page and "〔电话已隐去〕" in page


@pytest.mark.parametrize("receipt", ["no-such-case", "'; drop table watched_cases; --", "x"])
def test_an_unknown_or_malformed_receipt_finds_nothing(public, receipt):
    resp = public.get("/public/track", query_string={"receipt": receipt, "code": "12345678"})
    assert resp.status_code == 404 and "未查到" in resp.get_data(as_text=True)


def test_the_public_page_offers_the_box(public):
    page = public.get("/public/").get_data(as_text=True)
    assert 'action="/public/track"' in page and "受理回执号" in page


def test_look_ups_from_one_address_are_limited_to_ten_a_minute(public):
    answers = [public.get("/public/track", query_string={"receipt": f"guess-{i:04d}"},
                          environ_base={"REMOTE_ADDR": "203.0.113.7"}) for i in range(12)]
    assert [a.status_code for a in answers] == [422] * 10 + [429, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1 and "查询过于频繁" in answers[-1].get_data(as_text=True)
    other = public.get("/public/track", query_string={"receipt": "c-done"}, environ_base={"REMOTE_ADDR": "203.0.113.8"})
    assert other.status_code == 200
