"""The quarterly work report (季度工作情况报送) in the console: a unit officer files the last quarter's
report on /my/quarterly (a refused form keeps what was typed and names the field), corrects it from
the filed text; the office and the auditor see the quarter unit by unit and read the report; a unit
that did not report is marked missing after the 5th working day. No page shows the complainant."""
from __future__ import annotations

import re

import pytest

from ..support import bearer, carry, complaint
from .console_world import console_world, text, token
from .test_weekly_reports import scheduler_pass

pytestmark = pytest.mark.integration
UNIT, OTHER, TOWN = "县自然资源局", "县林业局", "城关镇"
SECRET = ("13807391234", "李某")          # the complainant's, in complaint()


@pytest.fixture(scope="module")
def world(pg, tmp_path_factory):
    with console_world(pg, tmp_path_factory.mktemp("clock") / "now", day="2026-09-07", notify=True) as w:
        w.account("jia", "office")
        w.account("yi", "unit", unit=UNIT)
        w.account("bing", "auditor")
        yield w



def test_a_unit_files_its_quarter_and_the_office_reads_it(world):
    for name in (UNIT, OTHER):
        world.api("POST", "/v1/directory/units", {"name": name, "kind": "government_department",
                                                  "supervising_channel": "县监察局"}, status=200)
    world.api("POST", "/v1/directory/units", {"name": TOWN, "kind": "township", "supervising_channel": "县委办"},
              status=200)
    case_id = world.api("POST", "/v1/cases", complaint(), status=201)["case_id"]
    world.api("POST", f"/v1/cases/{case_id}/assign", {"lead_unit": UNIT, "handling_mode": "deadline"}, status=200)
    world.api("POST", f"/v1/cases/{case_id}/accept", {}, headers=bearer("unit", unit=UNIT), status=200)
    carry(world.urls, into=("notify", "ledger"))
    scheduler_pass(world.urls["notify"], world.clock)        # reporting begins with 2026-W37: from 2026-Q3
    world.day("2026-10-09")                                  # after the quarter, before its due date (13 October)

    unit = world.client("yi")
    home = text(unit.get("/my"))                              # what the unit owes, on its first page
    assert "2026年第三季度工作情况 尚未报送，报送时限 2026-10-13" in home and "2026年第41周周报告 尚未报送" in home
    page = unit.get("/my/quarterly")
    assert page.status_code == 200
    shown = text(page)
    assert "2026年第三季度工作情况" in shown and "报送" in shown
    assert not any(s in shown for s in SECRET)

    form = {"idem": "q-1", "quarter": "2026-Q3", "summary": "  ", "case_id": case_id,
            f"progress-{case_id}": "已约谈窗口负责人，限期整改", "next_steps": "开展回头看"}
    refused = unit.post("/my/quarterly", data={**form, "csrf_token": token(page.get_data(as_text=True))})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'id="f-summary"' in body and 'aria-invalid="true"' in body and "已约谈窗口负责人，限期整改" in body
    assert "请填写本季度工作情况" in text(refused)

    filed = unit.post("/my/quarterly", data={**form, "summary": "本季度开展作风问题专项整治。\n办结交办线索1件。",
                                             "csrf_token": token(body)})
    assert filed.status_code == 302
    again = unit.get(filed.headers["Location"])
    shown = text(again)
    assert "季度工作情况已报送" in shown and "再次提交将更正上一次报送" in shown and "已报送" in shown
    assert "本季度开展作风问题专项整治。\n办结交办线索1件。" in again.get_data(as_text=True)   # the form starts from it

    corrected = unit.post("/my/quarterly", data={
        "idem": "q-2", "quarter": "2026-Q3", "summary": "更正：办结交办线索2件。", "case_id": case_id,
        f"progress-{case_id}": "已整改完毕", "corrects": re.search(
            r'name="corrects" value="([^"]+)"', again.get_data(as_text=True)).group(1),
        "csrf_token": token(again.get_data(as_text=True))})
    assert corrected.status_code == 302
    assert "（第2次报送）" in text(unit.get("/my/quarterly"))
    assert "工作情况" not in text(unit.get("/my"))           # filed: no longer owed
    assert unit.get("/quarterly").status_code == 403          # the office's page
    assert unit.get("/quarterly/export.csv").status_code == 403

    world.day("2026-10-14")                                  # the working day after the due date
    scheduler_pass(world.urls["notify"], world.clock)
    for login in ("jia", "bing"):
        overview = world.client(login).get("/quarterly?quarter=2026-Q3")
        assert overview.status_code == 200, login
        shown = text(overview)
        assert "2026年第三季度" in shown and "报送时限 2026-10-13" in shown
        assert f"{OTHER} 县监察局 未报（已标记），2026-10-14标记未报" in shown
        assert "按归口汇总 归口 已报 迟报 未报 尚未报送 无需报送 县委办 0 0 1 0 0 县监察局 1 0 1 0 0" in shown
        link = re.search(r'href="(/quarterly/[^"]+/2026-Q3)">查看', overview.get_data(as_text=True)).group(1)
        report = world.client(login).get(link)
        shown = text(report)
        assert report.status_code == 200 and "更正：办结交办线索2件。" in shown and "第2次报送，已更正" in shown
        assert re.search(r"案件 ZF-2026-\d{6} ：已整改完毕", shown)               # the case by its number
        sheet = world.client(login).get("/quarterly/export.csv?quarter=2026-Q3")
        assert sheet.status_code == 200 and "更正：办结交办线索2件。" in sheet.get_data(as_text=True)
        assert not any(s in sheet.get_data(as_text=True) for s in SECRET)
        assert not any(s in shown for s in SECRET)
    assert "2026年第三季度" in text(world.client("jia").get("/quarterly"))          # the last quarter that ended
    wrong = world.client("jia").get("/quarterly?quarter=2026-Q9")
    assert wrong.status_code == 422 and "“2026-Q9”不是季度" in text(wrong) and 'aria-invalid="true"' in wrong.get_data(as_text=True)
    assert world.client("jia").get(f"/quarterly/{OTHER}/2026-Q2").status_code == 404


def test_an_older_quarter_opens_with_its_filed_text_and_a_quarter_that_is_none_is_refused_plainly(world):
    """Runs after the first test: 2026-Q3 is filed (corrected once)."""
    world.day("2027-03-01")                                   # Q3 is read by its quarter, not from a recent list
    unit = world.client("yi")
    older = unit.get("/my/quarterly?quarter=2026-Q3").get_data(as_text=True)
    assert "更正：办结交办线索2件。" in older and 'name="corrects"' in older
    odd = unit.get("/my/quarterly?quarter=2026-Q9")
    assert odd.status_code == 200 and 'name="corrects"' not in odd.get_data(as_text=True)
