"""A supervision letter's number (文号) where people read it: notify's scheduler numbers the letter as it
issues it, the ledger projects the step, and the console's case page names the letter by its number in
the escalation history, for the office and for the lead unit; the unit reads the letter itself under 我的通知,
though no e-mail or SMS channel is configured. No page shows anything of the complainant."""
from __future__ import annotations

import re

import pytest

from ..support import bearer, carry, complaint, scheduler_pass
from .console_world import console_world

pytestmark = pytest.mark.integration
UNIT = "县自然资源局"


@pytest.fixture(scope="module")
def world(pg, tmp_path_factory):
    with console_world(pg, tmp_path_factory.mktemp("clock") / "now", day="2026-11-02", notify=True) as w:
        w.account("jia", "office")
        w.account("yi", "unit", unit=UNIT)
        yield w


def escalate_now(world) -> None:
    """notify takes in intake's events, decides a pass and queues the step's notices, and the ledger takes
    in both services' events."""
    carry(world.urls, into=("notify",), notices=True)
    scheduler_pass(world.urls["notify"], world.clock)
    carry(world.urls, into=("notify",), sources=("intake", "notify"), notices=True)
    carry(world.urls, into=("ledger",), sources=("intake", "notify"))


def text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_case_page_names_the_supervision_letter_by_its_number(world):
    world.api("POST", "/v1/directory/units", {"name": UNIT, "kind": "government_department",
                                              "supervising_channel": "县监察局"}, status=200)
    case_id = world.api("POST", "/v1/cases", complaint(), status=201)["case_id"]
    world.api("POST", f"/v1/cases/{case_id}/assign", {"lead_unit": UNIT, "handling_mode": "deadline"}, status=200)
    world.api("POST", f"/v1/cases/{case_id}/accept", {}, headers=bearer("unit", unit=UNIT), status=200)
    world.day("2026-11-30")                                # deadline 11-23: 5 working days overdue
    escalate_now(world)

    for login in ("jia", "yi"):
        page = world.client(login).get(f"/cases/{case_id}")
        assert page.status_code == 200
        shown = text(page.get_data(as_text=True))
        assert "督办函（正风办督〔2026〕1号）" in shown, login
        assert "到期提醒" in shown and "13807391234" not in shown and "李某" not in shown

    letter = text(world.client("yi").get("/my/notices").get_data(as_text=True))
    assert "【督办函 正风办督〔2026〕1号】" in letter and "督 办 函 正风办督〔2026〕1号 县自然资源局：" in letter
    assert "已超过办结时限5个工作日仍未办结" in letter and "【交办通知】" in letter
    assert "邮件未发送" in letter or "短信渠道未配置" in letter
    assert "escalation_" not in letter and "13807391234" not in letter and "李某" not in letter


def test_the_register_lists_the_years_letters_by_number_and_a_unit_only_its_own(world):
    """Runs after the case page's test: the letter it issued is 正风办督〔2026〕1号."""
    world.account("bing", "auditor")
    for login in ("jia", "bing"):
        page = world.client(login).get("/letters")
        assert page.status_code == 200, login
        shown = text(page.get_data(as_text=True))
        assert "督办函登记（2026年）" in shown and "正风办督〔2026〕1号" in shown and "超整改期限" in shown
        assert "13807391234" not in shown and "李某" not in shown
    assert "本年度尚未发出督办函" in text(world.client("jia").get("/letters?year=2025").get_data(as_text=True))
    wrong = world.client("jia").get("/letters?year=abc")
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.get_data(as_text=True)
    own = world.client("yi").get("/letters")                       # a unit officer: the letters their unit got
    assert own.status_code == 200 and "正风办督〔2026〕1号" in text(own.get_data(as_text=True))
    assert 'name="unit"' not in own.get_data(as_text=True)

    # Each letter opens as the unit got it, laid out to print.
    register = world.client("jia").get("/letters").get_data(as_text=True)
    printed = re.search(r'href="(/letters/\d+)">查看打印</a>', register).group(1)
    letter = world.client("bing").get(printed)
    shown = text(letter.get_data(as_text=True))
    assert letter.status_code == 200 and "督办函 正风办督〔2026〕1号 县自然资源局：" in shown
    assert '<h1 class="letter-title">督办函</h1><p class="letter-number">正风办督〔2026〕1号</p>' in \
        letter.get_data(as_text=True)
    assert "13807391234" not in shown and "李某" not in shown
    assert world.client("yi").get(printed).status_code == 200        # their own letter, to print and file
    world.account("ding", "unit", unit="县教育局")
    assert "正风办督〔2026〕1号" not in text(world.client("ding").get("/letters").get_data(as_text=True))
    assert world.client("ding").get(printed).status_code in (403, 404)  # another unit's: not theirs to read
    other = min(n["id"] for n in world.apps["notify"].test_client().get(
        "/v1/notices", headers=bearer("office")).json if n["kind"] == "case_assigned")
    assert world.client("jia").get(f"/letters/{other}").status_code == 404         # a notice, not a letter

    notify = world.apps["notify"].test_client()
    [letter] = notify.get("/v1/letters", headers=bearer("unit", unit=UNIT)).json["items"]
    assert (letter["number"], letter["sequence"], letter["unit"], letter["ladder"]) == \
        ("正风办督〔2026〕1号", 1, UNIT, "deadline")
    assert letter["case_number"] == "ZF-2026-000001" and letter["issued_on"] == "2026-11-30"
    assert notify.get("/v1/letters", headers=bearer("unit", unit="县教育局")).json["items"] == []
    assert notify.get("/v1/letters", query_string={"unit": UNIT},
                      headers=bearer("unit", unit="县教育局")).status_code == 403
    bad = notify.get("/v1/letters", query_string={"year": "1999"}, headers=bearer("office"))
    assert bad.status_code == 422 and "year" in bad.json["errors"]


def test_the_register_exports_as_a_spreadsheet_to_file_and_a_unit_gets_only_its_own(world):
    """Runs after the case page's test. The same register as Excel and CSV, with Chinese headers and file
    names, from notify's API and through the console's 导出 links; nothing of the complainant."""
    import csv
    import io
    from urllib.parse import unquote

    import openpyxl

    page = world.client("jia").get("/letters?year=2026").get_data(as_text=True)
    links = re.findall(r'href="(/letters/export\.(?:xlsx|csv)[^"]*)"', page)
    assert [link.split("?")[0] for link in links] == ["/letters/export.xlsx", "/letters/export.csv"]
    assert all("year=2026" in link for link in links)
    for login in ("jia", "bing"):
        got = world.client(login).get(links[0].replace("&amp;", "&"))
        assert got.status_code == 200 and got.mimetype.endswith("spreadsheetml.sheet"), login
        assert "2026%E5%B9%B4%E7%9D%A3%E5%8A%9E%E5%87%BD%E7%99%BB%E8%AE%B0-" in got.headers["Content-Disposition"]
        sheet = openpyxl.load_workbook(io.BytesIO(got.data)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:7] == ("文号", "顺序号", "签发日期", "发文机关", "责任单位", "督办事项", "督办类别")
        assert rows[1][:7] == ("正风办督〔2026〕1号", 1, "2026-11-30", "正风办", UNIT, "案件 ZF-2026-000001",
                               "超整改期限")
        assert sheet.title == "2026年督办函登记" and len(rows) == 2
        assert not any("13807391234" in str(c) or "李某" in str(c) for row in rows for c in row)
    mine = world.client("yi").get(links[0])                          # the unit's own register, as a file
    assert mine.status_code == 200 and openpyxl.load_workbook(io.BytesIO(mine.data)).active.max_row == 2
    assert world.client("ding").get(links[0]).status_code == 200         # none of another unit's
    assert openpyxl.load_workbook(io.BytesIO(world.client("ding").get(links[0]).data)).active.max_row == 1

    notify = world.apps["notify"].test_client()
    got = notify.get("/v1/letters/export.csv", query_string={"year": 2026}, headers=bearer("unit", unit=UNIT))
    assert got.status_code == 200 and got.mimetype == "text/csv" and got.data.startswith("\ufeff".encode())
    assert unquote(got.headers["Content-Disposition"].split("''")[1]).startswith("2026年督办函登记-")
    rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == "正风办督〔2026〕1号" and rows[1][4] == UNIT
    other = notify.get("/v1/letters/export.csv", headers=bearer("unit", unit="县教育局"))
    assert other.status_code == 200 and len(list(csv.reader(io.StringIO(other.data.decode("utf-8-sig"))))) == 1
    assert notify.get("/v1/letters/export.csv", query_string={"unit": UNIT},
                      headers=bearer("unit", unit="县教育局")).status_code == 403
    bad = notify.get("/v1/letters/export.xlsx", query_string={"year": "二〇二六"}, headers=bearer("office"))
    assert bad.status_code == 422 and "year" in bad.json["errors"]
    assert notify.get("/v1/letters/export.pdf", headers=bearer("office")).status_code == 404
    assert notify.get("/v1/letters/export.csv").status_code == 401
