"""Ledger import (台账导入): an office's existing spreadsheet ledger, one row per problem, becomes cases.

Pure: rows arrive as cell values (str, date or None) with the row number the office sees in Excel; this
module finds the header row, checks every cell, and decides each valid row's events with the same
functions a live case goes through (case.receive, lifecycle.decide), so an import never writes an event
the state machine would refuse. docs/CHANNELS.md "Ledger import" is the user-facing description.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Mapping

from . import lifecycle
from .case import PREFIX, Case, DomainError, InvalidCommand, NewEvent, ReceiveComplaint, receive

# Column headers as offices write them, and the field each one feeds.
SERIAL, SOURCE, SUBJECT, DESCRIPTION, CATEGORY = "序号", "问题来源", "被反映单位", "问题描述", "问题类别"
LEAD, COOPERATING, MEASURES, DEADLINE, STATUS = "牵头单位", "配合单位", "整改措施", "整改时限", "整改状态"
RESPONSIBLE, REMARKS = "责任人", "备注"
# The earlier ledger's own number of the problem, when it kept one: kept with the case, which still gets
# its own Zhengfeng number (an earlier number may repeat across years or ledgers; the row key identifies).
EARLIER_NUMBER = "原编号"
COLUMNS = (SERIAL, SOURCE, SUBJECT, DESCRIPTION, CATEGORY, LEAD, COOPERATING, MEASURES, DEADLINE, STATUS,
           RESPONSIBLE, REMARKS, EARLIER_NUMBER)
# Other headers offices give the same column.
ALIASES = {"编号": EARLIER_NUMBER, "案件编号": EARLIER_NUMBER, "原案件编号": EARLIER_NUMBER,
           "原台账编号": EARLIER_NUMBER, "问题编号": EARLIER_NUMBER}
REQUIRED = (SOURCE, SUBJECT, DESCRIPTION, CATEGORY, LEAD, DEADLINE, STATUS)
ROW = "_row"                     # errors that belong to no single column
HEADER_SEARCH = 10               # title rows above the header that an office's sheet may carry

SOURCES = {
    "12345热线": "hotline", "12345": "hotline", "12345政务服务便民热线": "hotline",
    "明察暗访": "inspection", "暗访": "inspection",
    "群众来信": "petition", "群众来访": "petition", "信访": "petition",
    "媒体曝光": "media", "举报": "tipoff", "群众举报": "tipoff",
    "监督员": "supervisor", "特邀监督员": "supervisor",
    "效能监测点": "monitoring_point", "自查自纠": "self_inspection",
}
# 整改状态 -> the status the imported case reaches, and the lifecycle commands that take it there.
STATUSES = {"未整改": "assigned", "待整改": "assigned", "整改中": "in_progress", "正在整改": "in_progress",
            "已整改": "rectification_reported", "整改完成": "rectification_reported", "已销号": "closed"}
STEPS = {"assigned": ["assign"], "in_progress": ["assign", "accept"],
         "rectification_reported": ["assign", "accept", "report_rectified"],
         "closed": ["assign", "accept", "report_rectified", "close"]}
# Where the lifecycle's field errors belong in the office's sheet.
FIELD_COLUMNS = {"lead_unit": LEAD, "cooperating_units": COOPERATING, "deadline": DEADLINE, "text": MEASURES,
                 "category": CATEGORY}
UNIT_SEPARATORS = re.compile(r"[、，,;；\n]+")
DATE_FORMS = (re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
              re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
              re.compile(r"^(\d{4})(\d{2})(\d{2})$"))
LIMITS = {SUBJECT: 200, DESCRIPTION: 4000, LEAD: 200, SERIAL: 50, RESPONSIBLE: 200, REMARKS: 4000, EARLIER_NUMBER: 100,
          MEASURES: 3900}       # 整改措施 also goes into the assignment note (at most 4,000 with its prefix)


class HeaderProblem(Exception):
    """The header row is not the ledger layout: the whole file is refused (422), naming the columns."""

    def __init__(self, missing: list[str], unknown: list[str], duplicated: list[str], header_row: int | None):
        parts = [f"{label}：{'、'.join(names)}" for label, names in
                 (("缺少的列", missing), ("无法识别的列", unknown), ("重复的列", duplicated))
                 if names]
        super().__init__("；".join(parts) or "找不到表头行")
        self.missing, self.unknown, self.duplicated, self.header_row = missing, unknown, duplicated, header_row


def label(value: Any) -> str:
    """A header or code cell compared as the office means it: full-width forms folded, no spaces, no
    required-field star (问题描述*)."""
    return re.sub(r"[\s*]+", "", unicodedata.normalize("NFKC", text(value)))


def header(value: Any) -> str:
    """A header cell as the column it names (its label, or the column an alias stands for)."""
    name = label(value)
    return ALIASES.get(name, name)


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


@dataclass(frozen=True)
class Table:
    header_row: int
    rows: list[tuple[int, dict[str, Any], list[int]]]    # (Excel row, header -> value, unnamed non-empty cells)


def find_table(rows: list[tuple[int, list[Any]]], columns: tuple[str, ...] = COLUMNS,
               required: tuple[str, ...] = REQUIRED) -> Table:
    """The header is the first of the first few non-empty rows naming at least three of the layout's
    columns (a title row such as "2026年作风问题整改台账" may sit above it); the rows under it are the data.
    The layout is the ledger's unless another (a task table's) is given."""
    candidates = rows[:HEADER_SEARCH]
    if not candidates:
        raise HeaderProblem(list(required), [], [], None)
    at = next((i for i, (_, cells) in enumerate(candidates)
               if sum(header(c) in columns for c in cells) >= 3), 0)
    header_row, cells = rows[at]
    names = [header(c) for c in cells]
    present = [n for n in names if n]
    missing = [c for c in required if c not in present]
    unknown = [n for n in present if n not in columns]
    duplicated = sorted({n for n in present if present.count(n) > 1})
    if missing or unknown or duplicated:
        raise HeaderProblem(missing, unknown, duplicated, header_row)
    data = []
    for number, values in rows[at + 1:]:
        named = {n: v for n, v in zip(names, values) if n}
        if not any(text(v) for n, v in named.items() if n != SERIAL) and \
                not any(text(v) for n, v in zip(names, values) if not n):
            continue     # blank, or only the pre-numbered 序号 of a template row
        unnamed = [i + 1 for i, v in enumerate(values) if (i >= len(names) or not names[i]) and text(v)]
        data.append((number, named, unnamed))
    return Table(header_row, data)


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = unicodedata.normalize("NFKC", text(value))
    for form in DATE_FORMS:
        m = form.match(raw)
        if m:
            try:
                return date(*map(int, m.groups()))
            except ValueError:
                raise ValueError(f"日历上没有这一天：{raw}") from None
    raise ValueError(f"不是日期：“{raw}”；请写作 YYYY-MM-DD 或 YYYY年M月D日")


def units(value: Any) -> list[str]:
    return [u.strip() for u in UNIT_SEPARATORS.split(text(value)) if u.strip()]


def _identity(value: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text(value)))


def row_key(cells: Mapping[str, Any]) -> str:
    """What makes two rows the same problem: source, subject unit and description, normalised (full-width
    forms folded, whitespace dropped: it carries no meaning in Chinese text). Progress columns (status,
    deadline, measures) are left out on purpose: a later export of the same ledger, with rows moved on,
    still finds the cases it created."""
    source = label(cells.get(SOURCE))
    identity = [SOURCES.get(source, source), _identity(cells.get(SUBJECT)), _identity(cells.get(DESCRIPTION))]
    return hashlib.sha256(("ledger-row/v1\n" + json.dumps(identity, ensure_ascii=False)).encode()).hexdigest()


@dataclass
class RowPlan:
    row: int
    key: str
    serial: str | None = None                              # the ledger's own 序号, to find the row by
    status: str = "ok"                                     # ok | error | duplicate
    errors: dict[str, list[str]] = field(default_factory=dict)
    case_id: str | None = None                             # a duplicate's existing case, or the new case
    case_number: str | None = None                         # that case's number (案件编号), once written
    new_case_id: str | None = None                         # the id the import will give an ok row's case
    duplicate_of_row: int | None = None
    summary: dict[str, Any] | None = None
    events: list[NewEvent] = field(default_factory=list)
    id_key: str = "case_id"                                # what the report calls the id (a task import: task_id)

    def report(self) -> dict[str, Any]:
        out = {"row": self.row, "serial": self.serial, "status": self.status, "key": self.key,
               self.id_key: self.case_id, **({"case_number": self.case_number} if self.id_key == "case_id" else {})}
        if self.errors:
            out["errors"] = self.errors
        if self.duplicate_of_row is not None:
            out["duplicate_of_row"] = self.duplicate_of_row
        if self.summary is not None:
            out["case" if self.id_key == "case_id" else "task"] = self.summary
        return out


def _add(errors: dict[str, list[str]], column: str, message: str) -> None:
    errors.setdefault(column, []).append(message)


def _required(cells: Mapping[str, Any], errors: dict[str, list[str]], column: str) -> str:
    value = text(cells.get(column))
    if column in REQUIRED and not value:
        _add(errors, column, "必填")
    elif len(value) > LIMITS.get(column, 10**9):
        _add(errors, column, f"最多 {LIMITS[column]} 个字符")
    return value


def _check(cells: Mapping[str, Any], unnamed: list[int], ctx: lifecycle.Context) -> tuple[dict, dict]:
    """Every cell on its own: returns (errors per column, the values that parsed)."""
    errors: dict[str, list[str]] = {}
    v = {c: _required(cells, errors, c) for c in COLUMNS}
    if v[SOURCE] and label(v[SOURCE]) not in SOURCES:
        _add(errors, SOURCE, f"无法识别的来源“{v[SOURCE]}”；可填：{'、'.join(SOURCES)}")
    if v[CATEGORY] and v[CATEGORY] not in ctx.directory.categories:
        _add(errors, CATEGORY, f"不在正风办的问题类别中：{v[CATEGORY]}")
    if v[STATUS] and label(v[STATUS]) not in STATUSES:
        _add(errors, STATUS, f"无法识别的整改状态“{v[STATUS]}”；可填：{'、'.join(STATUSES)}")
    if v[DEADLINE]:
        try:
            v["deadline_date"] = parse_date(cells.get(DEADLINE))
        except ValueError as exc:
            _add(errors, DEADLINE, str(exc))
    lead = units(v[LEAD])
    v["lead"] = lead[0] if lead else ""
    if len(lead) > 1:
        _add(errors, LEAD, "每行只能有一个牵头单位；其他单位请填在配合单位列")
    v["cooperating"] = list(dict.fromkeys(units(v[COOPERATING])))
    for column, names in ((LEAD, lead[:1]), (COOPERATING, v["cooperating"])):
        for message in ctx.directory.check_units(column, names).get(column, []):
            _add(errors, column, message)
    target = STATUSES.get(label(v[STATUS]))
    if target in ("rectification_reported", "closed") and not v[MEASURES]:
        _add(errors, MEASURES, f"{STATUS}为“{v[STATUS]}”时必填：它就是整改报告")
    if unnamed:
        _add(errors, ROW, f"没有表头的列中有内容：第 {'、'.join(map(str, unnamed))} 列")
    return errors, v


def _decide(case_id: str, row: int, v: dict, ctx: lifecycle.Context, origin: dict) -> tuple[list[NewEvent], dict]:
    """The row's events, decided by the lifecycle step by step on the case as it grows."""
    case = Case(case_id)
    cmd = ReceiveComplaint(channel=SOURCES.get(label(v[SOURCE]), ""), category=v[CATEGORY],
                           description=v[DESCRIPTION], subject_unit=v[SUBJECT], origin=origin)
    target = STATUSES[label(v[STATUS])]
    note = f"台账导入（第{row}行）" + (f"。整改措施：{v[MEASURES]}" if v[MEASURES] else "")
    args = {"assign": {"lead_unit": v["lead"], "cooperating_units": v["cooperating"], "handling_mode": "deadline",
                       "deadline": v["deadline_date"], "note": note, "recorded": True},
            "accept": {}, "report_rectified": {"text": v[MEASURES]},
            "close": {"comment": f"台账导入：原台账整改状态为{v[STATUS]}", "recorded": True}}
    decided = receive(case, cmd, None)
    for event in decided:
        case.apply(event.type, event.data)
    for command in STEPS[target]:
        step = lifecycle.decide(case, command, args[command], ctx)
        for event in step:
            case.apply(event.type, event.data)
        decided += step
    summary = {"channel": cmd.channel, "category": cmd.category, "subject_unit": cmd.subject_unit,
               "description": cmd.description, "lead_unit": case.lead_unit,
               "cooperating_units": case.cooperating_units, "deadline": case.deadline.isoformat(),
               "status": case.status, "events": [e.type.removeprefix(PREFIX).rsplit(".", 1)[0] for e in decided]}
    return decided, summary


def duplicate(p: RowPlan, known: Mapping[str, str], first: dict[str, RowPlan]) -> bool:
    """Mark a row imported before (by any file) or earlier in this file as a duplicate; else remember it."""
    if p.key in known:
        p.status, p.case_id = "duplicate", known[p.key]
        return True
    if p.key in first:
        p.status, p.duplicate_of_row = "duplicate", first[p.key].row
        return True
    first[p.key] = p
    return False


def plan(table: Table, ctx: lifecycle.Context, known: Mapping[str, str], new_id: Callable[[], str],
         file_sha256: str, import_id: str | None) -> list[RowPlan]:
    """Per row: `duplicate` (imported before, or earlier in this file), `error` (every problem found, by
    column), or `ok` with the events the import would write. `known` maps row keys to existing cases."""
    plans: list[RowPlan] = []
    first: dict[str, RowPlan] = {}
    for number, cells, unnamed in table.rows:
        p = RowPlan(number, row_key(cells), text(cells.get(SERIAL)) or None)
        plans.append(p)
        if duplicate(p, known, first):
            continue
        p.errors, v = _check(cells, unnamed, ctx)
        if any(c in p.errors for c in (LEAD, COOPERATING, DEADLINE, STATUS, MEASURES)):
            p.status = "error"
            continue
        # The lifecycle decides even when other columns are wrong, so its objections (a deadline that is
        # not after today, a lead unit that also cooperates) are reported in the same pass.
        p.new_case_id = new_id()
        origin = {"system": "import", "ref": p.key, "parent": import_id, "extra": {
            "file_sha256": file_sha256, "row": number, "serial": v[SERIAL] or None, "ledger_status": v[STATUS],
            "deadline": v["deadline_date"].isoformat(), "measures": v[MEASURES] or None,
            "responsible": v[RESPONSIBLE] or None, "remarks": v[REMARKS] or None,
            "earlier_number": v[EARLIER_NUMBER] or None}}
        try:
            p.events, p.summary = _decide(p.new_case_id, number, v, ctx, origin)
        except InvalidCommand as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    _add(p.errors, FIELD_COLUMNS.get(name, ROW), message)
        except DomainError as exc:       # a refused transition: the status asks for a step it cannot take
            _add(p.errors, STATUS, str(exc))
        if p.errors:
            p.status, p.events, p.summary, p.new_case_id = "error", [], None, None
    return plans


def counts(plans: list[RowPlan]) -> dict[str, int]:
    return {"rows": len(plans), **{s: sum(p.status == s for p in plans) for s in ("ok", "error", "duplicate")}}
