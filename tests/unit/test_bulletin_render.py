"""Bulletins as people read them (notify/adapters/render.py, workbook.py): a formal document with its
number, issuer and date; charts that always show data or say there is none; cases named by their
human numbers; typical cases under the unit responsible; interim reports marked as such."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook

from notify.adapters import render, workbook
from notify.domain import bulletin
from notify.domain.bulletin import DEFAULT_RULES, Marks

CASE = "3f9a2c41-0000-4000-8000-000000000001"
DOCUMENT = {"number": "正风办通〔2026〕12号", "year": 2026, "sequence": 12, "issuer": "邵阳县正风肃纪办公室",
            "issued_on": "2026-12-03"}


def record(kind: str = "bulletin", key: str = "2026-11", *, published: bool = True, received: int = 0) -> dict:
    """Two units that received `received` cases each; one criticism on an unnumbered and a numbered case."""
    criticism = {"unit": "县住建局", "source": "accountability", "kind": "admonishment", "day": "2026-11-20",
                 "case_ids": [CASE, "c2"], "working_days_overdue": None}
    stats = [{"unit": unit, "received": received, "open": 0, "closed": received, "overdue": 0, "unsatisfied": 0,
              "rework_count": 0, "extension_count": 0, "dismissed": 0, "recheck_upheld": 0, "recheck_overturned": 0,
              "sign_for_on_time_rate": bulletin.rate(0, 0, 5), "closure_on_time_rate": bulletin.rate(0, 0, 5),
              "satisfaction_rate": bulletin.rate(0, 0, 5)} for unit in ("县住建局", "县财政局")]
    typical = bulletin.typical_case({"case_id": CASE, "category": "推诿扯皮", "lead_unit": None,
                                     "subject_unit": "县自然资源局", "channel": "hotline", "status": "received",
                                     "description": "窗口推诿"}, None)
    period = {"month": key} if kind == "bulletin" else dict(zip(("from", "to"), key.split("_")))
    data = bulletin.assemble(period=period, judged_on=date(2026, 12, 1), stats=stats, min_base=5,
                             marks={"县住建局": Marks(accountability=1, entries=[criticism])}, rules=DEFAULT_RULES,
                             typical_cases=[typical], note=None, case_numbers={"c2": "ZF-2026-000123"})
    at = datetime(2026, 12, 3, 2, tzinfo=timezone.utc)
    return {"key": key, "state": "published" if published else "approved", "data": data,
            "published_at": at if published else None, "document": DOCUMENT if published else None}


@pytest.fixture(scope="module")
def font(tmp_path_factory):
    return render._subset_font(set("县住建局财政得分受理办结"), tmp_path_factory.mktemp("font"))


def test_a_chart_with_nothing_to_show_says_so_instead_of_drawing_an_empty_axis(font):
    scores, cases = render.charts("bulletin", record()["data"], font)
    assert scores["src"].startswith("data:image/png") and cases == {"title": "各单位案件办理情况（件）", "src": None}
    assert [c["src"] for c in render.charts("disclosure", {"units": []}, font)] == [None]
    html = render.html("bulletin", record())
    assert "本期无数据" in html and html.count("<img") == 1


def test_a_value_axis_starts_at_zero_and_never_collapses(font):
    assert render.figure(["县住建局"], {"得分": [0.0]}, font).axes[0].get_xlim() == (0.0, 1.0)
    left, right = render.figure(["县住建局", "县财政局"], {"受理": [3, 0], "办结": [1, 0]}, font).axes[0].get_xlim()
    assert left == 0 and right > 3


def test_a_published_bulletin_is_a_formal_document_with_number_issuer_date_and_case_numbers():
    html = render.html("bulletin", record(received=4))
    for text in ("正风办通〔2026〕12号", "邵阳县正风肃纪办公室", "2026年12月3日", "ZF-2026-000123", "3f9a2c41",
                 "被反映单位：县自然资源局"):
        assert text in html, text
    assert "未交办" not in html and CASE not in html.replace(f"{CASE[:8]}", "")
    assert "发布时编定" in render.html("bulletin", record(published=False))


def test_an_interim_report_is_marked_interim_in_html_and_workbook():
    interim = record("interim", "2026-11-02_2026-11-15")
    html = render.html("interim", interim)
    assert "2026年11月2日至11月15日作风建设工作阶段性通报" in html and "阶段性（中期）通报" in html
    assert "本月" not in html
    book = load_workbook(io.BytesIO(workbook.xlsx("interim", interim)))
    info = dict(book["文件信息"].iter_rows(values_only=True))
    assert info["类型"].startswith("阶段性通报") and info["文号"] == "正风办通〔2026〕12号"
    assert info["统计期"] == "2026年11月2日至2026年11月15日"


def test_the_workbook_carries_the_document_and_names_cases_by_number():
    book = load_workbook(io.BytesIO(workbook.xlsx("bulletin", record())))
    assert book.sheetnames[0] == "文件信息"
    info = dict(book["文件信息"].iter_rows(values_only=True))
    assert (info["类型"], info["文号"], info["发文机关"], info["发布日期"]) == (
        "月度通报", "正风办通〔2026〕12号", "邵阳县正风肃纪办公室", "2026年12月3日")
    [criticism] = list(book["通报批评"].iter_rows(values_only=True))[1:]
    assert criticism[3] == "3f9a2c41、ZF-2026-000123"
    [typical] = list(book["典型案例"].iter_rows(values_only=True))[1:]
    assert typical[:3] == ("3f9a2c41", "推诿扯皮", "县自然资源局")
    draft = dict(load_workbook(io.BytesIO(workbook.xlsx("bulletin", record(published=False))))["文件信息"]
                 .iter_rows(values_only=True))
    assert draft["文号"] == "发布时编定（草稿）"
