"""The public "track my case" box on notify's public page: a receipt number shows the status in public
wording, the dates and, once closed, the unit's reply with personal data removed — nothing else — and
look-ups are rate limited per address."""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from notify.adapters.repository import apply
from notify.entrypoints.http import create_app
from zfcommon import db, trackingcode
from zfcommon.settings import ConfigError

from ..conftest import TRACKING_KEY, settings_for, tracking_code
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
    resp = public.get("/public/track", query_string={"receipt": "SY12345-20261123-000317"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert "办理中" in page and "2026年11月23日" in page
    for hidden in ("李建国", "推诿", "县住建局", "县自然资源局", "办理结果"):
        assert hidden not in page


def look(public, receipt, **code):
    """Each look-up from its own address: the limit is tested on its own."""
    look.n = getattr(look, "n", 0) + 1
    return public.get("/public/track", query_string={"receipt": receipt, **code},
                      environ_base={"REMOTE_ADDR": f"198.51.{look.n // 250}.{look.n % 250 + 1}"})


def test_a_closed_cases_reply_takes_its_tracking_code_whatever_the_receipt(public):
    """Status and dates are public (Open311 lists every case's id, number, status and dates); the unit's
    reply is the complainant's: case ids and numbers are known to others, so it takes the 查询码."""
    code = tracking_code("c-done")
    spaced = f"{code[:4]} {code[4:]}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for receipt in ("c-done", "ZF-2026-000002", "zf-2026-000002"):
        alone = look(public, receipt).get_data(as_text=True)
        assert "已办结" in alone and "已整改" not in alone and "输入受理回执上的查询码" in alone, receipt
        for typed in (code, spaced):
            opened = look(public, receipt, code=typed)
            page = opened.get_data(as_text=True)
            assert opened.status_code == 200 and "办理结果" in page and "已整改" in page, (receipt, typed)
            assert "13807391234" not in page and "王五" not in page and "〔电话已隐去〕" in page
    for typed in (f"{(int(code) + 1) % 10 ** 8:08d}", tracking_code("c-open"), "1234", "abc"):
        wrong = look(public, "ZF-2026-000002", code=typed).get_data(as_text=True)
        assert "已整改" not in wrong and "查询码与这个回执号不符" in wrong and "已办结" in wrong, typed
    still_open = look(public, "ZF-2026-000001", code=tracking_code("c-open")).get_data(as_text=True)
    assert "办理中" in still_open and "办理结果" not in still_open and "不符" not in still_open


def test_codes_tried_on_one_case_from_many_addresses_are_limited_per_hour(public):
    """Ten look-ups a minute per address would let many addresses guess one case's 查询码 together: the
    codes tried on a case are counted whatever the address, and past the limit none is checked."""
    code = tracking_code("c-done")
    tries = [look(public, "ZF-2026-000002", code=f"{n:08d}") for n in range(30)]
    assert {t.status_code for t in tries} == {200}
    locked = look(public, "ZF-2026-000002", code=code)                  # even the right one, for the hour
    page = locked.get_data(as_text=True)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 60
    assert "尝试次数过多" in page and "已办结" in page and "已整改" not in page
    assert look(public, "ZF-2026-000002").status_code == 200                 # the status by itself: still there


def test_the_tracking_code_is_keyed_and_read_as_people_type_it():
    assert tracking_code("c-done") == tracking_code("c-done") != tracking_code("c-open")
    assert len(tracking_code("c-done")) == 8 and tracking_code("c-done").isdigit()
    other = trackingcode.TrackingKey(base64.b64encode(b"another-key-of-thirty-two-bytes!").decode())
    assert other.code_for("c-done") != tracking_code("c-done")          # not computable from the id alone
    assert trackingcode.TrackingKey("").code_for("c-done") is None and not trackingcode.TrackingKey("")
    # rotating: the new key gives codes, the old one still opens the codes complainants hold
    rotating = trackingcode.TrackingKey(f"{base64.b64encode(b'another-key-of-thirty-two-bytes!').decode()}, "
                                        f"{TRACKING_KEY}")
    assert rotating.code_for("c-done") == other.code_for("c-done")
    assert rotating.matches("c-done", tracking_code("c-done")) and rotating.matches("c-done", other.code_for("c-done"))
    assert not rotating.matches("c-done", tracking_code("c-open"))
    for bad in ("change-me-base64-of-32-random-bytes", base64.b64encode(b"short").decode(), f"{TRACKING_KEY},x"):
        with pytest.raises(ConfigError):
            trackingcode.TrackingKey(bad)
    assert trackingcode.typed("１２３４-５６７８") == "12345678" and trackingcode.typed("1234567") is None
    assert trackingcode.typed("١٢٣٤٥٦٧٨") is None                      # digits, but not the ones on a receipt


@pytest.mark.parametrize("receipt", ["no-such-case", "'; drop table watched_cases; --", "x"])
def test_an_unknown_or_malformed_receipt_finds_nothing(public, receipt):
    resp = public.get("/public/track", query_string={"receipt": receipt})
    assert resp.status_code == 404 and "未查到" in resp.get_data(as_text=True)


def test_the_public_page_offers_the_box(public):
    page = public.get("/public/").get_data(as_text=True)
    assert 'action="/public/track"' in page and "受理回执号" in page


def test_look_ups_from_one_address_are_limited_to_ten_a_minute(public):
    answers = [public.get("/public/track", query_string={"receipt": f"guess-{i:04d}"},
                          environ_base={"REMOTE_ADDR": "203.0.113.7"}) for i in range(12)]
    assert [a.status_code for a in answers] == [404] * 10 + [429, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1 and "查询过于频繁" in answers[-1].get_data(as_text=True)
    other = public.get("/public/track", query_string={"receipt": "c-done"}, environ_base={"REMOTE_ADDR": "203.0.113.8"})
    assert other.status_code == 200
