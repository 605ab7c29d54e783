"""Ledger import (台账导入): reading CSV/XLSX safely (zfcommon.sheets) and checking and mapping each
row (domain.ledger_import), on the office's real sample file. Pure: no database."""
from __future__ import annotations

import codecs
import io
import itertools
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from zfcommon import sheets as spreadsheets
from intake.domain import directory as directory_domain
from intake.domain import ledger_import as li
from intake.domain import lifecycle
from zfcommon.events.catalogue import validate_data

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "ledger_sample.csv"
TODAY = date(2026, 11, 23)
UNITS = ("县自然资源局", "县政务服务中心", "县市场监管局", "某镇人民政府", "县人社局", "县住建局", "县交通运输局",
         "县公安局", "县教育局", "县卫健委", "县医保局")
HEADER = list(li.COLUMNS)


def sample_bytes() -> bytes:
    if not SAMPLE.exists():
        pytest.fail(f"the ledger sample is missing: expected {SAMPLE} (shared/ beside the repository)")
    return SAMPLE.read_bytes()


def office(units=UNITS) -> lifecycle.Context:
    directory = directory_domain.Directory()
    for name in units:
        for event in directory_domain.register_unit(directory, {"name": name, "kind": "other",
                                                                "supervising_channel": "县纪委监委"}):
            directory.apply(event.type, event.data)
    return lifecycle.Context(today=TODAY, directory=directory, actor=lifecycle.Actor("office", None, "office:王"))


def row(**cells) -> list:
    base = {"序号": "1", "问题来源": "12345热线", "被反映单位": "县自然资源局", "问题描述": "窗口推诿",
            "问题类别": "推诿扯皮", "牵头单位": "县自然资源局", "配合单位": "", "整改措施": "约谈",
            "整改时限": "2026-12-15", "整改状态": "整改中", "责任人": "王某", "备注": "", "原编号": ""}
    base.update(cells)
    return [base[h] for h in HEADER]


def planned(rows: list[list], known=None, ctx=None) -> list[li.RowPlan]:
    table = li.find_table([(1, HEADER)] + [(i + 2, r) for i, r in enumerate(rows)])
    ids = itertools.count(1)
    return li.plan(table, ctx or office(), known or {}, lambda: f"case-{next(ids)}", "f" * 64, "imp-1")


def one(**cells) -> li.RowPlan:
    return planned([row(**cells)])[0]


def workbook(rows: list[list], title: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the sample ------------------------------------------------------------------------------------

def test_the_sample_ledger_reports_exactly_its_bad_date_and_missing_unit_rows():
    sheet = spreadsheets.read(sample_bytes(), "csv")[0]
    plans = li.plan(li.find_table(sheet.rows), office(), {}, lambda: "c", "f" * 64, None)
    by_serial = {p.serial: p for p in plans}
    assert [p.status for p in plans] == ["ok"] * 5 + ["error"] * 2
    # 序号 6 and 7 are Excel rows 7 and 8: the header is row 1.
    assert (by_serial["6"].row, by_serial["7"].row) == (7, 8)
    assert by_serial["6"].errors == {"整改时限": ["日历上没有这一天：2026-13-45"]}
    assert set(by_serial["7"].errors) == {"被反映单位", "牵头单位"}
    assert li.counts(plans) == {"rows": 7, "ok": 5, "error": 2, "duplicate": 0}


def test_each_ledger_status_takes_the_case_as_far_as_the_lifecycle_allows():
    sheet = spreadsheets.read(sample_bytes(), "csv")[0]
    plans = li.plan(li.find_table(sheet.rows), office(), {}, lambda: "c", "f" * 64, None)
    outcome = {p.serial: (p.summary["status"], p.summary["events"]) for p in plans if p.status == "ok"}
    assert outcome["3"] == ("assigned", ["received", "assigned"])                                    # 未整改
    assert outcome["1"] == ("in_progress", ["received", "assigned", "accepted"])                      # 整改中
    assert outcome["2"] == ("rectification_reported",
                            ["received", "assigned", "accepted", "rectification_reported"])          # 已整改
    assert outcome["5"] == ("closed", ["received", "assigned", "accepted", "rectification_reported",
                                       "closed"])                                                    # 已销号


def test_the_planned_events_are_valid_catalogue_events_with_the_import_origin():
    p = one(整改状态="已销号", 配合单位="县政务服务中心、县公安局", 备注="暗访组第3组")
    assert p.status == "ok"
    for event in p.events:
        assert validate_data(event.type, event.data) == {}, event.type
    received, assigned = p.events[0].data, p.events[1].data
    assert received["channel"] == "hotline" and received["anonymous"] is True
    assert received["origin"]["system"] == "import" and received["origin"]["ref"] == p.key
    assert received["origin"]["parent"] == "imp-1"
    assert received["origin"]["extra"]["remarks"] == "暗访组第3组" and received["origin"]["extra"]["row"] == 2
    assert assigned["deadline"] == "2026-12-15" and assigned["deadline_basis"]["rule"] == "recorded"
    assert assigned["cooperating_units"] == ["县政务服务中心", "县公安局"]
    assert p.events[3].data["text"] == "约谈"


# --- header ----------------------------------------------------------------------------------------

def test_a_title_row_above_the_header_is_skipped_and_row_numbers_stay_excel_rows():
    table = li.find_table([(1, ["2026年作风问题整改台账"]), (3, HEADER), (4, row())])
    assert table.header_row == 3 and [r[0] for r in table.rows] == [4]


def test_headers_are_read_as_offices_write_them():
    header = [" 序号", "问题来源*", "被反映\n单位"] + HEADER[3:]
    assert li.find_table([(1, header), (2, row())]).rows[0][1]["被反映单位"] == "县自然资源局"


@pytest.mark.parametrize("written", ["原编号", "编号", "案件编号", "原案件编号"])
def test_the_earlier_ledgers_own_number_is_kept_with_the_case_which_still_gets_a_new_one(written):
    header = [written if h == "原编号" else h for h in HEADER]
    table = li.find_table([(1, header), (2, row(原编号="2025-073"))])
    [p] = li.plan(table, office(), {}, lambda: "case-1", "f" * 64, "imp-1")
    received = p.events[0].data
    assert received["origin"]["extra"]["earlier_number"] == "2025-073"
    assert received["origin"]["ref"] == p.key                  # the row key still identifies the row
    assert "case_number" not in received                       # given when the import writes it, not planned


def test_missing_unknown_and_repeated_headers_are_named():
    with pytest.raises(li.HeaderProblem) as caught:
        li.find_table([(1, ["问题来源", "被反映单位", "问题描述", "问题描述", "处理结果"])])
    assert caught.value.missing == ["问题类别", "牵头单位", "整改时限", "整改状态"]
    assert caught.value.unknown == ["处理结果"] and caught.value.duplicated == ["问题描述"]


def test_template_rows_numbered_but_empty_are_not_rows():
    table = li.find_table([(1, HEADER), (2, row()), (3, ["2"] + [""] * 11), (4, ["3"])])
    assert [r[0] for r in table.rows] == [2]


# --- cells -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["2026-12-01", "2026/12/1", "2026.12.01", "2026年12月1日", "2026年12月1",
                                     "２０２６－１２－０１", "20261201", "2026-12-01 00:00:00",
                                     date(2026, 12, 1), datetime(2026, 12, 1, 8, 30)])
def test_deadlines_in_the_forms_offices_write(written):
    assert li.parse_date(written) == date(2026, 12, 1)


@pytest.mark.parametrize("written", ["2026-13-45", "2026-02-30", "12/01/2026", "年底前", "46357"])
def test_anything_else_is_not_guessed(written):
    with pytest.raises(ValueError):
        li.parse_date(written)


def test_every_source_the_brief_names_maps_to_a_channel():
    expected = {"12345热线": "hotline", "明察暗访": "inspection", "群众来信": "petition", "信访": "petition",
                "媒体曝光": "media", "举报": "tipoff", "监督员": "supervisor", "效能监测点": "monitoring_point",
                "自查自纠": "self_inspection"}
    for source, channel in expected.items():
        assert one(问题来源=source).summary["channel"] == channel


def test_an_unknown_source_status_or_category_names_the_value():
    p = one(问题来源="传真", 整改状态="已完成了", 问题类别="迟到早退")
    assert p.status == "error"
    assert "传真" in p.errors["问题来源"][0] and "已完成了" in p.errors["整改状态"][0]
    assert "迟到早退" in p.errors["问题类别"][0]


def test_units_must_be_active_in_the_directory_and_the_lead_is_one_unit():
    assert "县林业局" in one(牵头单位="县林业局").errors["牵头单位"][0]
    assert "县林业局" in one(配合单位="县政务服务中心，县林业局").errors["配合单位"][0]
    assert "只能有一个牵头单位" in one(牵头单位="县自然资源局、县教育局").errors["牵头单位"][0]


def test_the_lifecycle_objections_come_with_the_other_errors_in_one_pass():
    p = one(配合单位="县自然资源局", 问题类别="迟到早退")
    assert p.errors["配合单位"] == ["牵头单位不能同时作为配合单位"]
    assert "问题类别" in p.errors and p.events == [] and p.new_case_id is None


def test_a_passed_deadline_from_the_old_ledger_is_recorded_and_the_case_is_overdue_at_once():
    p = one(整改时限="2026-11-01", 整改状态="整改中")
    assert p.status == "ok"
    assigned = next(e for e in p.events if e.type.endswith(".assigned.v1"))
    assert assigned.data["deadline"] == "2026-11-01" and assigned.data["deadline_basis"]["rule"] == "recorded"


def test_a_closure_after_a_passed_recorded_deadline_is_closed_with_unknown_timeliness():
    late = one(整改时限="2026-11-01", 整改状态="已销号", 整改措施="已整改到位")
    assert next(e for e in late.events if e.type.endswith(".closed.v1")).data["on_time"] is None
    timely = one(整改时限="2026-12-31", 整改状态="已销号", 整改措施="已整改到位")
    assert next(e for e in timely.events if e.type.endswith(".closed.v1")).data["on_time"] is True


def test_a_rectified_row_needs_its_measures_as_the_report():
    assert "时必填" in one(整改状态="已整改", 整改措施="").errors["整改措施"][0]
    assert one(整改状态="整改中", 整改措施="").status == "ok"


def test_values_under_no_header_are_reported_not_dropped():
    table = li.find_table([(1, HEADER + [""]), (2, row() + ["多出来的"])])
    plans = li.plan(table, office(), {}, lambda: "c", "f" * 64, None)
    assert plans[0].errors == {li.ROW: [f"没有表头的列中有内容：第 {len(HEADER) + 1} 列"]}


# --- identity and duplicates ------------------------------------------------------------------------

def test_a_row_key_ignores_spacing_width_and_progress_columns():
    key = li.row_key(dict(zip(HEADER, row())))
    assert li.row_key(dict(zip(HEADER, row(问题描述=" 窗口  推诿", 整改状态="已销号", 整改时限="2027-01-01")))) == key
    assert li.row_key(dict(zip(HEADER, row(问题来源="１２３４５热线")))) == key
    assert li.row_key(dict(zip(HEADER, row(问题描述="窗口推诿扯皮")))) != key


def test_rows_imported_before_are_duplicates_with_their_case():
    key = li.row_key(dict(zip(HEADER, row())))
    p = planned([row(整改状态="已销号")], known={key: "case-old"})[0]
    assert (p.status, p.case_id, p.events) == ("duplicate", "case-old", [])


def test_a_row_repeated_in_the_file_is_a_duplicate_of_the_first():
    plans = planned([row(), row(序号="9"), row(问题描述="别的问题")])
    assert [p.status for p in plans] == ["ok", "duplicate", "ok"] and plans[1].duplicate_of_row == 2


# --- reading files ----------------------------------------------------------------------------------

def test_the_sample_as_a_real_xlsx_reads_like_the_csv():
    csv_rows = spreadsheets.read(sample_bytes(), "csv")[0].rows
    xlsx = spreadsheets.read(workbook([cells for _, cells in csv_rows]), "xlsx")[0]
    assert [(n, [c or "" for c in cells]) for n, cells in xlsx.rows] == csv_rows


def test_xlsx_date_and_number_cells_become_dates_and_text():
    data = workbook([HEADER, [1, "12345热线", "县教育局", "问题", "形式主义", "县教育局", None, None,
                              datetime(2026, 12, 31), "未整改", None, 3.0]], title="台账")
    sheet = spreadsheets.read(data, "xlsx")[0]
    assert sheet.rows[0][:2] == (1, ["台账"] + [None] * (len(HEADER) - 1)) and sheet.rows[2][0] == 3
    assert sheet.rows[2][1][0] == "1" and sheet.rows[2][1][8] == date(2026, 12, 31) and sheet.rows[2][1][11] == "3"


def test_csv_from_excel_on_chinese_windows_gbk_and_unicode_text():
    text = "\n".join(",".join(r) for r in ([HEADER, row()]))
    assert spreadsheets.read_csv(text.encode("gbk")).rows[1][1][2] == "县自然资源局"
    tabbed = "\n".join("\t".join(r) for r in ([HEADER, row()]))
    assert spreadsheets.read_csv(codecs.BOM_UTF16_LE + tabbed.encode("utf-16-le")).rows[1][1][2] == "县自然资源局"
    assert spreadsheets.read_csv(text.encode("gb18030"), "gb18030").rows[0][1] == HEADER


def test_a_quoted_multi_line_cell_keeps_excel_row_numbers():
    text = ",".join(HEADER) + '\n1,12345热线,县教育局,"第一行\n第二行",形式主义\n2,举报,县教育局,x,形式主义\n'
    assert [n for n, _ in spreadsheets.read_csv(text.encode()).rows] == [1, 2, 3]


def _zip(parts: dict[str, bytes], encrypted: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    data = bytearray(out.getvalue())
    if encrypted:     # zipfile cannot write encrypted parts: set the flag bit in the central directory
        at = data.index(b"PK\x01\x02")
        data[at + 8] |= 0x1
    return bytes(data)


@pytest.mark.parametrize("data,says", [
    (b"not a spreadsheet at all", "不是 zip 压缩包"),
    (spreadsheets.OLE_MAGIC + b"\0" * 600, "加密"),
    (_zip({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"\0" * (50 * 1024 * 1024)}), "压缩炸弹"),
    (_zip({"[Content_Types].xml": b"<Types/>"}), "没有 xl/workbook.xml"),
    (_zip({"xl/workbook.xml": b"<x/>"}, encrypted=True), "加密"),
    (_zip({"xl/workbook.xml": b"<x/>", "xl/chartsheets/sheet1.xml": b"<x/>"}), "没有工作表"),
    (_zip({"xl/workbook.xml": b"<workbook", "xl/worksheets/sheet1.xml": b"<x/>"}), "XLSX 文件无法读取"),
    (b"", "空的"),
])
def test_malformed_xlsx_names_the_problem(data, says):
    with pytest.raises(spreadsheets.SpreadsheetError, match=says):
        spreadsheets.read(data, "xlsx")


def test_a_workbook_without_worksheets_is_refused():
    book = Workbook()
    book.create_chartsheet()
    book.remove(book.active)
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(spreadsheets.SpreadsheetError, match="没有工作表"):
        spreadsheets.read(out.getvalue(), "xlsx")


def test_too_many_rows_and_binary_csv_are_refused():
    with pytest.raises(spreadsheets.SpreadsheetError, match="超过"):
        spreadsheets.read_csv(("a\n" * (spreadsheets.MAX_ROWS + 1)).encode())
    with pytest.raises(spreadsheets.SpreadsheetError, match="二进制"):
        spreadsheets.read_csv(b"a,b\0,c")


@pytest.mark.parametrize("declared,filename,head,fmt", [
    ("application/vnd.ms-excel", "台账.csv", b"x", "csv"), (None, "台账.XLSX", b"PK", "xlsx"),
    ("text/csv; charset=gbk", None, b"x", "csv"), (spreadsheets.XLSX_TYPE, None, b"PK", "xlsx"),
    ("application/octet-stream", None, b"PK\x03\x04", "xlsx"), ("application/octet-stream", "ledger", b"a", "csv"),
])
def test_the_format_comes_from_the_name_then_the_type_then_the_content(declared, filename, head, fmt):
    assert spreadsheets.format_of(declared, filename, head) == fmt


@pytest.mark.parametrize("declared,filename", [("application/pdf", "x.pdf"), (None, "台账.xls"),
                                               ("application/json", None)])
def test_other_types_are_unsupported(declared, filename):
    with pytest.raises(spreadsheets.UnsupportedType):
        spreadsheets.format_of(declared, filename, b"%PDF")
