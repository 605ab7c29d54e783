"""The 查询码 from the counter to the public page: the office receives a lead on the console and is given
the case number and its tracking code to tell the complainant; the office's case page shows the code again
(a unit's does not); with number and code the complainant tracks the case on notify's public page, and with
the number alone nothing is shown."""
from __future__ import annotations

import re

import pytest

from ..conftest import tracking_code
from ..support import bearer, carry
from .console_world import token
from .test_console_letters import UNIT, world  # noqa: F401  (the fixture: an office and a unit, notify too)

pytestmark = pytest.mark.integration


def text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_office_gives_the_code_at_the_counter_and_the_complainant_tracks_with_it(world):
    world.api("POST", "/v1/directory/units", {"name": UNIT, "kind": "government_department",
                                              "supervising_channel": "县监察局"}, status=200)
    office = world.client("jia")
    form = office.get("/cases/new").get_data(as_text=True)
    done = office.post("/cases/new", data={
        "csrf_token": token(form), "idem": re.search(r'name="idem" value="([^"]+)"', form).group(1),
        "channel": "petition", "category": "推诿扯皮", "subject_unit": UNIT, "priority": "normal",
        "description": "不动产登记窗口推诿，不一次性告知所需材料", "name": "李某", "phone": "13807391234"},
        follow_redirects=True)
    shown = text(done.get_data(as_text=True))
    number, code = re.search(r"线索已受理登记：案件编号 (ZF-2026-\d{6})，查询码 (\d{8})", shown).groups()
    case_id = re.search(r"<code>([0-9a-f-]{36})</code>", done.get_data(as_text=True)).group(1)
    assert code == tracking_code(case_id)                         # keyed: ZF_TRACKING_KEY
    assert f"查询码 {code}" in shown                                  # and on the office's case page

    world.api("POST", f"/v1/cases/{case_id}/assign", {"lead_unit": UNIT, "handling_mode": "deadline"}, status=200)
    carry(world.urls, into=("ledger", "notify"))
    unit_page = world.client("yi").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "查询码" not in unit_page and code not in unit_page

    public = world.apps["notify"].test_client()
    for receipt in (number, case_id):
        tracked = public.get("/public/track", query_string={"receipt": receipt, "code": code})
        page = tracked.get_data(as_text=True)
        assert tracked.status_code == 200 and "办理中" in page and "不符" not in page
        assert "李某" not in page and UNIT not in page
    wrong = public.get("/public/track", query_string={"receipt": number, "code": f"{(int(code) + 1) % 10 ** 8:08d}"})
    assert "查询码与这个回执号不符" in wrong.get_data(as_text=True)
    # The office reads the code again (intake's case); nobody else gets it there.
    intake = world.apps["intake"].test_client()
    assert intake.get(f"/v1/cases/{case_id}", headers=bearer("office")).json["tracking_code"] == code
    for role, extra in (("auditor", {}), ("unit", {"unit": UNIT})):
        assert "tracking_code" not in intake.get(f"/v1/cases/{case_id}", headers=bearer(role, **extra)).json


def test_the_office_prints_a_receipt_with_the_number_and_code_and_nothing_of_the_complaint(world):
    """Runs after the test above. 受理回执: what a complainant at the counter takes home."""
    office = world.client("jia")
    listed = world.apps["ledger"].test_client().get("/v1/cases", headers=bearer("office")).json["items"]
    case = next(c for c in listed if c["channel"] == "petition")
    page = office.get(f"/cases/{case['case_id']}")
    assert f'href="/cases/{case["case_id"]}/receipt"' in page.get_data(as_text=True)
    got = office.get(f"/cases/{case['case_id']}/receipt")
    shown = text(got.get_data(as_text=True))
    assert got.status_code == 200 and "受理回执" in shown and "正风办（盖章）" in shown
    assert f"案件编号 {case['case_number']}" in shown and f"查询码 {tracking_code(case['case_id'])}" in shown
    assert "来源渠道 信访" in shown and "公开信息网页的“查询办理进度”栏目" in shown      # no public address set
    for private in ("李某", "13807391234", "不动产登记窗口", UNIT):
        assert private not in shown, private
    assert world.client("yi").get(f"/cases/{case['case_id']}/receipt").status_code == 403


def test_a_case_number_in_the_header_search_opens_its_case(world):
    """Runs after the tests above (their case is ZF-2026-000001 or later). The office types a number as
    people say it and lands on the case; anything that finds several, or text, lists them."""
    office = world.client("jia")
    listed = world.apps["ledger"].test_client().get("/v1/cases", headers=bearer("office")).json["items"]
    case = next(c for c in listed if c["channel"] == "petition")
    serial = str(int(case["case_number"].rsplit("-", 1)[1]))
    assert 'role="search"' in office.get("/dashboard").get_data(as_text=True)
    for typed in (case["case_number"], serial, f"2026-{serial}"):
        got = office.get("/cases", query_string={"q": typed})
        assert got.status_code == 302 and got.headers["Location"].endswith(f"/cases/{case['case_id']}"), typed
    words = office.get("/cases", query_string={"q": "不动产登记窗口"})
    assert words.status_code == 200 and case["case_number"] in words.get_data(as_text=True)
    assert office.get("/cases", query_string={"q": "2025-" + serial}).status_code == 200      # no such case
    assert 'role="search"' not in world.client("yi").get("/my").get_data(as_text=True)      # a unit has no ledger


def test_a_serial_that_names_cases_of_several_years_lists_them_first(world):
    """Runs after the tests above, whose case is ZF-2026-000001."""
    world.day("2025-12-30")
    earlier = world.api("POST", "/v1/cases", {"channel": "petition", "category": "推诿扯皮", "subject_unit": UNIT,
                                              "description": "去年的问题线索"}, status=201)
    world.day("2026-11-02")
    carry(world.urls)
    assert earlier["case_number"] == "ZF-2025-000001"
    page = world.client("jia").get("/cases", query_string={"q": "1"})
    shown = text(page.get_data(as_text=True))
    assert page.status_code == 200 and "案件编号相符： ZF-2026-000001 、 ZF-2025-000001" in shown
    got = world.client("jia").get("/cases", query_string={"q": "2025-1"})
    assert got.status_code == 302 and got.headers["Location"].endswith(f"/cases/{earlier['case_id']}")
