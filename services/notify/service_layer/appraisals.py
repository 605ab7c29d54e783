"""Commands on democratic appraisals (民主评议, docs/APPRAISALS.md): open a round, enter questionnaires,
draft the results (closing the round), review, publish. Each is decided on the round's stream in
notify's event store and appended at its version (service_layer.bulletins.decide), so two office users
entering the same questionnaire at once cannot both count it."""
from __future__ import annotations

from typing import Any

from zfcommon import outsiders, sheets

from ..adapters import directory
from ..domain import appraisal, document, publication
from . import bulletins
from .bulletins import Context, Invalid
from .reports import retrying
from .uow import UnitOfWork

KIND = "appraisal"
BALLOT = f"{publication.PREFIX}{KIND}.ballot_recorded.v1"
Row = dict[str, Any]
COLUMNS = {"ballot_no": appraisal.NUMBER, "group": appraisal.GROUP, "ratings": "评价"}   # a fault's column


def _checked(key: str) -> str:
    try:
        return appraisal.check_key(key)
    except appraisal.Invalid as exc:
        raise Invalid(str(exc), exc.errors, code=exc.code) from None


def ballots_in(uow: UnitOfWork, key: str) -> list[Row]:
    """The questionnaires entered in the round, from its stream (the authority)."""
    return [e.data for e in uow.events.load(publication.stream(KIND, key)) if e.type == BALLOT]


def open_round(uow: UnitOfWork, key: str, body: Row, ctx: Context) -> Row:
    _checked(key)
    active = [u["name"] for u in directory.active_units(uow.conn)]

    def opened(_: Row | None) -> tuple[str, Row]:
        try:
            return "opened", appraisal.opening(key, body, active)
        except appraisal.Invalid as exc:
            raise Invalid(str(exc), exc.errors, code=exc.code) from None
    return bulletins.decide(uow, KIND, key, "open", ctx, opened)


def record_ballots(uow: UnitOfWork, key: str, entered: list[Row], ctx: Context) -> tuple[Row, int]:
    """Enter questionnaires, all or none; returns the round and how many were entered. An appraiser's
    phone or ID number in a comment is masked as it is entered (zfcommon.outsiders)."""
    _checked(key)
    masked = [{**b, "ratings": [{**r, "comment": outsiders.mask(r["comment"]) if r.get("comment") else None}
                                for r in b["ratings"]]} for b in entered]

    def recorded(row: Row) -> tuple[str, list[Row]]:
        numbers = {b["ballot_no"] for b in ballots_in(uow, key)}
        try:
            return "ballot_recorded", appraisal.ballots(row["data"]["round"], numbers, masked)
        except appraisal.Invalid as exc:
            raise Invalid(str(exc), exc.errors, code=exc.code) from None
    # Clerks entering questionnaires side by side append to the same stream: one that got in first makes
    # the other decide again on the new history (its numbers checked against the first's), not fail.
    stream = publication.stream(KIND, key)
    return retrying(uow, stream, lambda: bulletins.decide(uow, KIND, key, "ballot", ctx, recorded)), len(entered)


def import_ballots(uow: UnitOfWork, key: str, upload: sheets.Upload, ctx: Context, *, dry_run: bool) -> Row:
    """A questionnaire table (评议票录入表) checked row by row against the round as it is: the report, and
    unless it is a dry run, every questionnaire entered — all or none (422 with the report if any row is
    at fault). Raises sheets.SpreadsheetError, appraisal.TableProblem, Invalid, NotFound or Refused."""
    _checked(key)
    row, _ = bulletins.current(uow, KIND, key)
    if row is None:
        raise bulletins.NotFound(f"没有 {key} 的{publication.KIND_NAMES[KIND]}")
    publication.check(KIND, key, row["state"], "ballot")
    sheet = next((s for s in sheets.read(upload.data, upload.format, upload.charset) if s.rows), None)
    if sheet is None:
        raise sheets.SpreadsheetError("文件中没有任何数据行")
    rows, faults = appraisal.from_table(row["data"]["round"], sheet.rows)
    _, refused = appraisal.checked_ballots(row["data"]["round"], {b["ballot_no"] for b in ballots_in(uow, key)},
                                           [b for _, b in rows])
    for i, problems in refused.items():
        number = rows[int(i)][0]
        faults[number] = {**{COLUMNS.get(k, k): v for k, v in problems.items()}, **faults.get(number, {})}
    report = {"dry_run": dry_run, "filename": upload.filename, "sheet": sheet.name,
              "counts": {"rows": len(rows), "ok": len(rows) - len(faults), "error": len(faults)},
              "rows": [{"row": n, "ballot_no": b["ballot_no"] or None, "status": "error" if n in faults else "ok",
                        "errors": faults.get(n, {})} for n, b in rows]}
    if not rows:
        raise sheets.SpreadsheetError("表头下面没有问卷")
    if dry_run:
        return report
    if faults:
        raise RowsRefused(report)
    record_ballots(uow, key, [b for _, b in rows], ctx)
    return {**report, "counts": {**report["counts"], "imported": len(rows)}}


class RowsRefused(Exception):
    """A table with rows at fault is not imported at all; `report` says which and why."""

    def __init__(self, report: Row):
        super().__init__(f"{report['counts']['error']} 份问卷有误，整表均未导入：请改正后重新上传")
        self.report = report


def draft(uow: UnitOfWork, key: str, ctx: Context, *, redraft: bool = False) -> Row:
    """Close the round (no questionnaire is entered after) and take its results; a redraft takes them
    again from the same questionnaires."""
    _checked(key)

    def drafted(row: Row) -> tuple[str, Row]:
        ballots = ballots_in(uow, key)
        if not ballots:
            raise Invalid("尚未录入任何评议票，不能形成评议结果", {"ballots": ["至少录入一份评议票"]},
                          code="appraisal.no_ballots")
        return "drafted", appraisal.results(row["data"]["round"], ballots)
    return bulletins.decide(uow, KIND, key, "redraft" if redraft else "draft", ctx, drafted)


def review(uow: UnitOfWork, key: str, decision: str, comments: str | None, ctx: Context) -> Row:
    return bulletins.review_bulletin(uow, KIND, _checked(key), decision, comments, ctx)


def publish(uow: UnitOfWork, key: str, ctx: Context, office: document.Office) -> Row:
    """Publish the approved results, numbered as the office numbers its 通报 of appraisals
    (ZF_APPRAISAL_NUMBER, a sequence of their own in the year of issue)."""
    return bulletins.publish_bulletin(uow, KIND, _checked(key), ctx, office)


def provisional(uow: UnitOfWork, row: Row) -> Row | None:
    """While the round is open, its results so far (for the office's eyes; nothing is stored)."""
    if row["state"] != "opened":
        return None
    return appraisal.results(row["data"]["round"], ballots_in(uow, row["key"]))
