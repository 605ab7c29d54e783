"""A bulletin's, a disclosure's or an appraisal's data as an XLSX workbook (openpyxl): the same table as the HTML, numbers
as numbers (a rate as its value in percent format), Chinese headers, and the bulletin's other parts on
their own sheets. A text that starts like a formula is stored as text, never run."""
from __future__ import annotations

import io
from typing import Any, Iterable, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from zfcommon.campaigns import STATES as CAMPAIGN_STATES
from zfcommon.events.catalogue import CHANNELS, DEDUCTIONS, ESCALATION_STEPS, MEASURES
from zfcommon.spreadsheets import BOLD, FORMULA_STARTS

from ..domain import bulletin, publication
from ..domain.document import case_label
from . import columns


def _sheet(book: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
           formats: Mapping[int, str] | None = None) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = BOLD
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.data_type = "s"
            if cell.column in (formats or {}) and isinstance(cell.value, (int, float)):
                cell.number_format = formats[cell.column]
    for i, header in enumerate(headers, 1):
        sheet.column_dimensions[get_column_letter(i)].width = max(8, 2 * len(header) + 2)
    sheet.freeze_panes = "A2"


def _table(book: Workbook, title: str, table: tuple[columns.Column, ...], units: list[Mapping[str, Any]],
           totals: Mapping[str, Any]) -> None:
    def row(r: Mapping[str, Any]) -> list[Any]:
        return [columns.NOT_RANKED if c.kind == "rank" and not r["ranked"] else
                "—" if c.kind == "rate" and columns.value(c, r) is None else
                columns.text(c, r) if c.kind == "flag" else columns.value(c, r) for c in table]
    total = ["合计" if i == 0 else None if c.kind in ("text", "rank", "points", "flag") else columns.value(c, totals)
             for i, c in enumerate(table)]
    percent = {i: "0.0%" for i, c in enumerate(table, 1) if c.kind == "rate"}
    _sheet(book, title, [c.header for c in table], [*map(row, units), total], percent)


def _document_sheet(book: Workbook, kind: str, record: Mapping[str, Any], heading: str) -> None:
    """The document's particulars first: what it is (an interim report says so), its number, issuer,
    issue date and period — a draft says it has no number yet."""
    doc, data = record.get("document"), record["data"]
    first, last = (publication.interim_period(record["key"]) if kind == "interim"
                   else bulletin.month_period(record["key"]))
    kind_name = "阶段性通报（中期，非月度通报）" if kind == "interim" else "月度通报"
    _sheet(book, "文件信息", ["项目", "内容"], [
        ["类型", kind_name], ["标题", heading], *_document_rows(doc),
        ["统计期", f"{columns.cn_date(first)}至{columns.cn_date(last)}"], ["数据截至", columns.cn_date(data["judged_on"])],
        ["状态", publication.STATES[record["state"]]]])


def _document_rows(doc: Mapping[str, Any] | None) -> list[list[str]]:
    """A numbered publication's 文号, issuer and issue date (a draft: none yet)."""
    return [["文号", doc["number"] if doc else "发布时编定（草稿）"], ["发文机关", doc["issuer"] if doc else ""],
            ["发布日期", columns.cn_date(doc["issued_on"]) if doc else ""]]


SECTION_HEADERS = {"cases_received": "受理问题", "cases_closed": "问题销号", "cases_overdue": "问题超期",
                   "tasks": "分解任务", "tasks_signed_off": "任务销号", "tasks_overdue": "任务超期",
                   "milestones_overdue": "节点超期", "lookback_drawn": "回头看抽查", "lookback_held": "巩固",
                   "lookback_rebounds": "反弹"}


def xlsx(kind: str, record: Mapping[str, Any]) -> bytes:
    data = record["data"]
    book = Workbook()
    book.remove(book.active)
    heading = publication.title(kind, record["key"])
    if kind == "disclosure":
        _table(book, "各单位办理情况", columns.DISCLOSURE, data["units"], data["totals"])
    elif kind == "appraisal":
        _table(book, "评议得分与排名", columns.APPRAISAL, data["units"], data["totals"])
        groups = data["round"]["groups"]
        _sheet(book, "分群体得分", ["单位", *(f"{g}（票数）" for g in groups), *(f"{g}（得分）" for g in groups)],
               [[u["unit"], *(g["ballots"] for g in u["groups"]), *(g["score"] for g in u["groups"])]
                for u in data["units"]])
        weights = data["round"]["weights"]
        _sheet(book, "评议规则", ["项目", "内容"], [
            ["评议期", publication.appraisal_period_label(record["key"])], ["评议群体", "、".join(groups)],
            ["满意（分）", weights["satisfied"]], ["基本满意（分）", weights["basically_satisfied"]],
            ["不满意（分）", weights["unsatisfied"]], ["参加排名的最少评议票", data["round"]["min_ballots"]],
            ["重点评议单位", "、".join(data["round"]["key_units"]) or "无"], ["有效评议票", data["ballots"]],
            *_document_rows(record.get("document"))])
    else:
        _document_sheet(book, kind, record, heading)
        _table(book, "考核得分与排名", columns.BULLETIN, data["units"], data["totals"])
        _sheet(book, "扣分明细", ["单位", "扣分事项", "次数（件）", "每次扣分", "扣分"],
               [[u["unit"], DEDUCTIONS[d["rule"]], d["count"], d["points"], d["total"]]
                for u in data["units"] for d in u["deductions"]])
        kinds = {**MEASURES, **ESCALATION_STEPS}
        _sheet(book, "通报批评", ["单位", "事由", "日期", "涉及案件", "超期工作日"],
               [[c["unit"], kinds.get(c["kind"], c["kind"]), c["day"], "、".join(columns.case_labels(c)),
                 c["working_days_overdue"]] for c in data["criticism"]])
        _sheet(book, "典型案例", ["案件编号", "问题类别", "责任单位", "来源渠道", "情况"],
               [[case_label(c["case_id"], c.get("case_number")), c["category"], c["unit"],
                 CHANNELS.get(c["channel"], c["channel"]), c["text"]] for c in data["typical_cases"]])
        if data.get("campaigns"):
            _sheet(book, "专项行动", ["专项行动", "阶段", "单位", *SECTION_HEADERS.values()],
                   [[c["name"], c["phase"]["label"] or CAMPAIGN_STATES[c["phase"]["state"]], row.get("unit", "合计"),
                     *[row[k] for k in SECTION_HEADERS]]
                    for c in data["campaigns"] for row in (c["figures"], *c["units"])])
        rules = data["rules"]
        _sheet(book, "评分规则", ["项目", "分值"],
               [["基础分", rules["base"]], ["参与排名的最少受理件数", rules["min_cases"]],
                *[[f"{DEDUCTIONS[k]}（每次/件扣分）", v] for k, v in rules["deductions"].items()]])
    book.properties.title = heading
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
