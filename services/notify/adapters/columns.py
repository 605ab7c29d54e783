"""The tables of a bulletin, a disclosure and an appraisal's results: one column list for the HTML/PDF table and the XLSX sheet,
so every format shows the same figures under the same Chinese headers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from zfcommon.workdays import SHANGHAI

from ..domain.document import case_label

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = "count"       # count | text | rate | points | rank | flag


BULLETIN = (
    Column("排名", "rank", "rank"), Column("单位", "unit", "text"), Column("受理", "received"),
    Column("办结", "closed"), Column("在办", "open"), Column("超期", "overdue"), Column("签收超时", "late_sign_for"),
    Column("按时签收率", "sign_for_on_time_rate", "rate"), Column("按时办结率", "closure_on_time_rate", "rate"),
    Column("满意率", "satisfaction_rate", "rate"), Column("不满意", "unsatisfied"), Column("退回重办", "rework_count"),
    Column("延期", "extension_count"), Column("查否", "dismissed"), Column("复查维持", "recheck_upheld"),
    Column("复查推翻", "recheck_overturned"), Column("周报缺报", "weekly_missed"), Column("通报批评", "criticisms"),
    Column("问责", "accountability"), Column("扣分", "deducted", "points"), Column("得分", "score", "points"),
)
DISCLOSURE = (
    Column("单位", "unit", "text"), Column("受理", "received"), Column("办结", "closed"), Column("在办", "open"),
    Column("超期", "overdue"), Column("按时签收率", "sign_for_on_time_rate", "rate"),
    Column("按时办结率", "closure_on_time_rate", "rate"), Column("满意率", "satisfaction_rate", "rate"),
    Column("不满意", "unsatisfied"),
)
APPRAISAL = (
    Column("排名", "rank", "rank"), Column("单位", "unit", "text"), Column("重点评议", "key_unit", "flag"),
    Column("评议票", "ballots"), Column("满意", "satisfied"), Column("基本满意", "basically_satisfied"),
    Column("不满意", "unsatisfied"), Column("满意率", "satisfaction_rate", "rate"), Column("得分", "score", "points"),
)
COLUMNS = {"bulletin": BULLETIN, "interim": BULLETIN, "disclosure": DISCLOSURE, "appraisal": APPRAISAL}
NOT_RANKED = "不排名"


def rate_text(rate: Mapping[str, Any]) -> str:
    """`85.7%（6/7）`; `…，样本不足` below the minimum base; `—` without a base (as the ledger's exports)."""
    if rate["value"] is None:
        return "—"
    note = "" if rate["meaningful"] else "，样本不足"
    return f"{rate['value']:.1%}（{rate['numerator']}/{rate['denominator']}{note}）"


def points_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def cn_date(value: date | datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI).date()
    return f"{value.year}年{value.month}月{value.day}日"


def value(column: Column, row: Row) -> Any:
    """The cell's value as data: numbers stay numbers (a rate is its value, None without a base)."""
    if column.key == "deducted":
        return round(sum(line["total"] for line in row["deductions"]), 2)
    if column.kind == "rate":
        return row[column.key]["value"]
    return row.get(column.key)


def text(column: Column, row: Row) -> str:
    """The cell as the HTML and PDF table show it."""
    if column.kind == "rank":
        return str(row["rank"]) if row.get("ranked") else NOT_RANKED
    if column.kind == "rate":
        return rate_text(row[column.key])
    if column.kind == "points":
        return points_text(value(column, row))
    if column.kind == "flag":
        return "是" if row.get(column.key) else ""
    return str(row.get(column.key, ""))


def case_labels(entry: Row) -> list[str]:
    """The cases a criticism entry names, by their human numbers where it recorded them."""
    numbers = entry.get("case_numbers") or [None] * len(entry["case_ids"])
    return [case_label(c, n) for c, n in zip(entry["case_ids"], numbers)]


def cells(columns: tuple[Column, ...], row: Row) -> list[str]:
    return [text(c, row) for c in columns]


def total_cells(columns: tuple[Column, ...], totals: Row) -> list[str]:
    """The totals row: 合计 in the first column; nothing under rank, unit and points."""
    return ["合计" if i == 0 else "" if c.kind in ("text", "rank", "points", "flag") else text(c, totals)
            for i, c in enumerate(columns)]
