"""CSV and XLSX exports of the case list, the overdue list and the unit statistics, read back."""
from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest

from ..unit.test_ledger_evolve import Story
from .test_ledger_projection import client, client_on, office, project  # noqa: F401  (fixtures)
from .test_ledger_reports import running

pytestmark = pytest.mark.integration
CASE_HEADERS = ["案件编号", "状态", "来源渠道", "问题类别", "问题描述", "被反映单位", "牵头单位", "配合单位", "处置方式",
                "整改时限", "签收时限", "受理时间", "交办时间", "签收时间", "销号时间", "是否超期", "超期工作日", "签收超期",
                "延期次数", "重办次数", "满意度", "案件ID"]


def read_csv(resp) -> list[list[str]]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def read_xlsx(resp) -> openpyxl.worksheet.worksheet.Worksheet:
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    return openpyxl.load_workbook(io.BytesIO(resp.data)).active


@pytest.fixture
def ledger(urls):
    project(urls["ledger"], running("c1", "2024-05-20", case_number="ZF-2024-000001"),
            Story("c2", description="=HYPERLINK(\"http://evil\")").then("assigned", "accepted"),
            Story("c3", channel="petition").add("assigned", handling_mode="immediate", deadline="2024-06-20"))


def test_the_case_csv_has_chinese_headers_and_labels(client, office, ledger):
    rows = read_csv(client.get("/v1/cases/export.csv", query_string={"status": "in_progress"}, headers=office))
    assert rows[0] == CASE_HEADERS
    c1 = dict(zip(CASE_HEADERS, rows[2]))
    assert {k: c1[k] for k in ("案件编号", "案件ID", "状态", "来源渠道", "牵头单位", "配合单位", "处置方式", "整改时限",
                               "受理时间", "是否超期", "超期工作日")} == {
        "案件编号": "ZF-2024-000001", "案件ID": "c1", "状态": "整改中", "来源渠道": "12345热线", "牵头单位": "县住建局", "配合单位": "县财政局",
        "处置方式": "限期整改", "整改时限": "2024-05-20", "受理时间": "2024-05-06 09:30", "是否超期": "是", "超期工作日": "10"}


def test_a_description_that_looks_like_a_formula_stays_text(client, office, ledger):
    rows = read_csv(client.get("/v1/cases/export.csv", headers=office))
    assert dict(zip(CASE_HEADERS, rows[2]))["问题描述"] == "'=HYPERLINK(\"http://evil\")"
    sheet = read_xlsx(client.get("/v1/cases/export.xlsx", headers=office))
    cell = sheet.cell(row=3, column=5)
    assert (cell.value, cell.data_type) == ("=HYPERLINK(\"http://evil\")", "s")


def test_the_export_holds_every_matching_case_not_one_page(urls, client, office):
    project(urls["ledger"], *[Story(f"b{i:03}") for i in range(230)])
    rows = read_csv(client.get("/v1/cases/export.csv", headers=office))
    assert len(rows) == 231 and rows[1][-1] == "b229" and rows[-1][-1] == "b000"


def test_the_case_xlsx_has_a_bold_header_set_widths_and_the_same_rows_as_the_csv(client, office, ledger):
    sheet = read_xlsx(client.get("/v1/cases/export.xlsx", headers=office))
    as_text = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    csv_rows = read_csv(client.get("/v1/cases/export.csv", headers=office))
    csv_rows[2][4] = csv_rows[2][4].removeprefix("'")     # the CSV's formula guard is the only difference
    assert as_text == csv_rows
    assert all(cell.font.bold for cell in sheet[1]) and not sheet.cell(row=2, column=1).font.bold
    assert sheet.column_dimensions["E"].width == 60 and sheet.freeze_panes == "A2"


@pytest.mark.parametrize("path, name", [("/v1/cases/export.csv", "台账"), ("/v1/overdue/export.xlsx", "超期案件"),
                                        ("/v1/units/stats/export.csv", "单位统计")])
def test_the_download_is_named_in_chinese_with_an_ascii_fallback(client, office, ledger, path, name):
    disposition = client.get(path, headers=office).headers["Content-Disposition"]
    ext = path.rsplit(".", 1)[1]
    assert disposition.startswith('attachment; filename="ledger-')
    assert f"filename*=UTF-8''{quote(f'{name}-20240603.{ext}')}" in disposition


def test_the_overdue_export_lists_overdue_cases_in_the_lists_order(client, office, ledger):
    rows = read_csv(client.get("/v1/overdue/export.csv", headers=office))
    assert rows[0][:7] == ["案件编号", "状态", "牵头单位", "配合单位", "处置方式", "整改时限", "超期工作日"]
    assert rows[0][-1] == "案件ID"
    assert [(r[0], r[-1], r[6], r[8]) for r in rows[1:]] == [
        ("ZF-2024-000001", "c1", "10", "否"), ("", "c2", "10", "否"), ("", "c3", "0", "是")]
    sheet = read_xlsx(client.get("/v1/overdue/export.xlsx", headers=office))
    assert [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["c1", "c2", "c3"]


def test_the_stats_export_shows_each_rate_with_its_base(client, office, ledger):
    rows = read_csv(client.get("/v1/units/stats/export.csv", headers=office))
    assert rows == [["单位", "在办", "超期", "已销号", "按时签收率", "按时办结率", "重办次数", "延期次数", "满意率",
                     "任务超期", "回头看反弹"],
                    ["县住建局", "3", "2", "0", "66.7%（2/3，样本不足）", "0.0%（0/2，样本不足）", "0", "0", "—", "0", "0"]]
    sheet = read_xlsx(client.get("/v1/units/stats/export.xlsx", headers=office))
    assert [list(r) for r in sheet.iter_rows(values_only=True)][1][:4] == ["县住建局", 3, 2, 0]


def test_an_export_takes_the_lists_filters_and_refuses_bad_ones(client, office, ledger):
    rows = read_csv(client.get("/v1/cases/export.csv", query_string={"channel": "petition"}, headers=office))
    assert [r[-1] for r in rows[1:]] == ["c3"]
    resp = client.get("/v1/cases/export.xlsx", query_string={"limit": 10}, headers=office)
    assert resp.status_code == 422 and list(resp.json["errors"]) == ["limit"]


def test_an_xlsx_with_more_rows_than_a_sheet_holds_is_refused_not_cut(urls, client, office, monkeypatch):
    from zfcommon import exports
    project(urls["ledger"], *[Story(f"r{i:03}") for i in range(6)])
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 5)      # Excel's 1,048,575, scaled down
    before = set(Path(tempfile.gettempdir()).glob("openpyxl.*"))
    resp = client.get("/v1/cases/export.xlsx", headers=office)
    assert set(Path(tempfile.gettempdir()).glob("openpyxl.*")) <= before      # the half-built sheet is gone
    assert resp.status_code == 422 and resp.json["code"] == "export.too_many_rows" and resp.json["limit"] == 5
    assert "CSV" in resp.json["detail"]
    assert len(read_csv(client.get("/v1/cases/export.csv", headers=office))) == 7     # CSV has no such limit
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 6)
    assert read_xlsx(client.get("/v1/cases/export.xlsx", headers=office)).max_row == 7
