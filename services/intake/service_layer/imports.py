"""Ledger import: read the file, plan every row against the directory and the rows imported before,
and — unless it is a dry run — write the cases' events, the import record and its row keys in one
transaction (the caller's unit of work). A file that cannot be read fails before any query."""
from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable

from zfcommon.workdays import local_date

from zfcommon import sheets as spreadsheets
from zfcommon.sheets import Upload
from ..adapters.import_records import ImportRecords
from ..domain import ledger_import, task_import
from ..domain.campaign import check_member
from ..domain.case import with_number
from .handlers import Context, load_campaign, load_directory
from .uow import UnitOfWork

log = logging.getLogger(__name__)


class RowsRefused(Exception):
    """Some rows are invalid and the import is all-or-nothing: nothing was written; `report` says why."""

    def __init__(self, report: dict[str, Any]):
        bad = [str(r["row"]) for r in report["rows"] if r["status"] == "error"]
        super().__init__(f"有 {len(bad)} 行有误（第 {'、'.join(bad[:20])}{' …' if len(bad) > 20 else ''} 行），"
                         "未导入任何内容：请改正后重新导入，或以 skip_invalid=true 只导入无误的行")
        self.report = report


@dataclass(frozen=True)
class Layout:
    """What kind of table is imported: its columns, each row's identity, and how rows become events."""
    kind: str                                   # ledger | tasks
    columns: tuple[str, ...]
    required: tuple[str, ...]
    key: Callable[[dict[str, Any]], str]
    plan: Callable[[ledger_import.Table, dict[str, str], str | None, str], list[ledger_import.RowPlan]]


def read_table(upload: Upload, columns: tuple[str, ...] = ledger_import.COLUMNS,
               required: tuple[str, ...] = ledger_import.REQUIRED) -> tuple[spreadsheets.Sheet, ledger_import.Table]:
    """The first worksheet laid out as the table; a workbook's other sheets (notes, summaries) are ignored."""
    sheets = [s for s in spreadsheets.read(upload.data, upload.format, upload.charset) if s.rows]
    if not sheets:
        raise spreadsheets.SpreadsheetError("文件中没有任何数据行")
    problem: ledger_import.HeaderProblem | None = None
    for sheet in sheets:
        try:
            table = ledger_import.find_table(sheet.rows, columns, required)
        except ledger_import.HeaderProblem as exc:
            problem = problem or exc
            continue
        if not table.rows:
            raise spreadsheets.SpreadsheetError(f"表头（第 {table.header_row} 行）下面没有数据行")
        return sheet, table
    raise problem


def import_ledger(upload: Upload, uow: UnitOfWork, ctx: Context, *, dry_run: bool,
                  skip_invalid: bool = False) -> dict[str, Any]:
    """The per-row report; for a real import also the import id, with every ok row's case written."""
    def plan(table, known, import_id, digest):
        return ledger_import.plan(table, ctx.domain_context(load_directory(uow)), known, lambda: str(uuid.uuid4()),
                                  digest, import_id)
    layout = Layout("ledger", ledger_import.COLUMNS, ledger_import.REQUIRED, ledger_import.row_key, plan)
    return run_import(upload, uow, ctx, layout, dry_run=dry_run, skip_invalid=skip_invalid)


def import_tasks(upload: Upload, uow: UnitOfWork, ctx: Context, campaign_id: str | None, *, dry_run: bool,
                 skip_invalid: bool = False) -> dict[str, Any]:
    """A task table (docs/CAMPAIGNS.md): the same report and rules, every ok row a task of the campaign."""
    campaign = load_campaign(uow, campaign_id)
    check_member(campaign, campaign_id)

    def plan(table, known, import_id, digest):
        return task_import.plan(table, load_directory(uow), campaign, campaign_id, local_date(ctx.now), known,
                                lambda: f"task-{uuid.uuid4()}", import_id)
    layout = Layout("tasks", task_import.COLUMNS, task_import.REQUIRED,
                    lambda cells: task_import.row_key(cells, campaign_id), plan)
    return run_import(upload, uow, ctx, layout, dry_run=dry_run, skip_invalid=skip_invalid)


def run_import(upload: Upload, uow: UnitOfWork, ctx: Context, layout: Layout, *, dry_run: bool,
               skip_invalid: bool) -> dict[str, Any]:
    sheet, table = read_table(upload, layout.columns, layout.required)
    digest = hashlib.sha256(upload.data).hexdigest()
    records = ImportRecords(uow.conn)
    import_id = None if dry_run else str(uuid.uuid4())
    if import_id:
        records.lock()
        ctx = replace(ctx, correlation_id=import_id)     # every event of the import carries its id
    known = records.known([layout.key(cells) for _, cells, _ in table.rows])
    plans = layout.plan(table, known, import_id, digest)
    report = {"import_id": import_id, "kind": layout.kind, "dry_run": dry_run, "file_sha256": digest,
              "filename": upload.filename, "format": upload.format, "sheet": sheet.name, "header_row": table.header_row,
              "skip_invalid": skip_invalid, "counts": {**ledger_import.counts(plans), "imported": 0}}
    if dry_run or (not skip_invalid and report["counts"]["error"]):
        report["rows"] = [p.report() for p in plans]
        if dry_run:
            return report
        raise RowsRefused(report)
    by_row = {p.row: p for p in plans}
    for p in plans:
        if p.status == "ok":
            # Numbers are taken only now, when the row is written: a dry run or a refused import costs none.
            p.case_number = uow.case_numbers.issue(ctx.now)
            uow.events.record(p.new_case_id, 0, [(e.type, e.data) for e in with_number(p.events, p.case_number)],
                              correlation_id=import_id, actor=ctx.actor, time=ctx.now)
            p.case_id = p.new_case_id
        elif p.duplicate_of_row is not None:
            p.case_id = by_row[p.duplicate_of_row].case_id
    numbers = uow.case_numbers.of([p.case_id for p in plans if p.case_id])    # duplicates: their cases' numbers
    for p in plans:
        p.case_number = numbers.get(p.case_id)
    report["counts"]["imported"] = report["counts"]["ok"]
    report["rows"] = [p.report() for p in plans]
    records.add({**{k: report[k] for k in ("import_id", "kind", "file_sha256", "filename", "format", "sheet",
                                           "header_row", "skip_invalid", "counts")},
                 "actor": ctx.actor, "created_at": ctx.now,
                 "rows": [{k: v for k, v in r.items() if k not in ("case", "task")} for r in report["rows"]]},
                [(p.key, p.row, p.case_id) for p in plans if p.status == "ok"])
    log.info(f"{layout.kind}_imported", extra={"import_id": import_id, **report["counts"]})
    return report


def get_import(uow: UnitOfWork, import_id: str, kind: str = "ledger") -> dict[str, Any] | None:
    found = ImportRecords(uow.conn).get(import_id)
    return found if found and found["kind"] == kind else None
