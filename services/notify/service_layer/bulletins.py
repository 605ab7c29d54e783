"""Commands on monthly bulletins, interim reports, quarterly disclosures and the scoring rules, each in
one unit of work.

A decision is taken on the state folded from the publication's own stream and appended at the
version it was read at: a second office publishing at the same moment gets ConcurrencyConflict
(409) instead of a second publication. The events are applied to notify's tables in the same
transaction, so the office reads its draft at once; when they come back from Kafka the projection
sees their versions already applied and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from zfcommon import officecalendar
from zfcommon.events.catalogue import BULLETIN_RULES_STREAM
from zfcommon.workdays import CalendarGap, WorkCalendar, local_date

from ..adapters import bulletin_projection as tables
from ..adapters.complainants import ComplainantClient
from ..adapters.figures_client import LedgerClient
from ..domain import bulletin, disclosure, document, publication
from .uow import UnitOfWork

Row = dict[str, Any]
TYPE = "cn.zhengfeng.{kind}.{name}.v1"
PERIOD_NAMES = {"month": "月份", "quarter": "季度"}


@dataclass(frozen=True)
class Context:
    actor: str
    correlation_id: str
    now: datetime


class NotFound(Exception):
    """Nothing was drafted under that key."""
    code = "publication.not_found"


class Invalid(Exception):
    """A request that cannot be carried out as asked (422 naming the fields; `code` stable)."""

    def __init__(self, message: str, errors: dict[str, Any], code: str = "publication.invalid"):
        super().__init__(message)
        self.errors, self.code = errors, code


def _record(uow: UnitOfWork, stream: str, version: int, event_type: str, data: Row, ctx: Context,
            more: list[Row] = ()) -> None:
    """Append the event (and `more` data of the same type after it) and apply them to notify's tables."""
    for event in uow.events.record(stream, version, [(event_type, d) for d in (data, *more)],
                                   correlation_id=ctx.correlation_id, actor=ctx.actor, time=ctx.now, subject=stream):
        tables.apply(uow.conn, event)


def current(uow: UnitOfWork, kind: str, key: str) -> tuple[Row | None, int]:
    """The publication as its stream in notify's event store has it, and the stream's version."""
    row = None
    for e in uow.events.load(publication.stream(kind, key)):
        row = publication.evolve(row, kind, key, e.type, e.data, version=e.streamversion, time=e.time,
                                 actor=e.actor) or row
    return row, row["version"] if row else 0


def decide(uow: UnitOfWork, kind: str, key: str, action: str, ctx: Context,
           choose: Callable[[Row | None], tuple[str, Row | list[Row]]]) -> Row:
    """Take `action` on the publication in the state its stream has it, and append what `choose`
    returns: an event's name and data (or a list of data, one event each)."""
    row, version = current(uow, kind, key)
    if row is None and action not in publication.ALLOWED[kind][None]:
        raise NotFound(f"没有 {key} 的{publication.KIND_NAMES[kind]}")
    publication.check(kind, key, row and row["state"], action)
    name, data = choose(row)
    first, *more = data if isinstance(data, list) else [data]
    _record(uow, publication.stream(kind, key), version, TYPE.format(kind=kind, name=name), first, ctx, more)
    return tables.get(uow.conn, kind, key)


def set_rules(uow: UnitOfWork, rules: Row, ctx: Context) -> tuple[Row, int]:
    """Record the office's rules; returns them with the rules stream's new version."""
    _record(uow, BULLETIN_RULES_STREAM, uow.events.version(BULLETIN_RULES_STREAM),
            "cn.zhengfeng.bulletin.rules_set.v1", rules, ctx)
    return tables.rules(uow.conn)


def _ended(what: str, key: str, last: date, ctx: Context) -> None:
    if last >= local_date(ctx.now):
        raise Invalid(f"{key} 尚未结束", {what: [f"须覆盖完整的{PERIOD_NAMES[what]}；{key} 于 {last.isoformat()} 结束"]},
                      code="publication.period_not_over")


def _typical(ledger: LedgerClient, intake: ComplainantClient, picks: list[Row]) -> list[Row]:
    found, errors = [], {}
    for i, pick in enumerate(picks):
        case = ledger.case(pick["case_id"])
        if case is None:
            errors[str(i)] = {"case_id": [f"台账中没有案件 {pick['case_id']}"]}
        else:
            # The text may quote the complainant of the case or of a duplicate merged into it by name.
            who = intake.identities([case["case_id"], *case.get("duplicates", ())], "通报典型案例脱敏：核对举报人信息")
            found.append(bulletin.typical_case(case, pick.get("text"), who))
    if errors:
        raise Invalid("以下典型案例在台账中找不到", {"typical_cases": errors}, code="bulletin.typical_case_unknown")
    return found


def _case_numbers(ledger: LedgerClient, case_ids: set[str]) -> dict[str, str | None]:
    """The human numbers (工单编号) of the cases a criticism list names, as the ledger's case views hold
    them: one question per case named, when the office drafts (the ledger has no lookup by many ids)."""
    return {case_id: (ledger.case(case_id) or {}).get("case_number") for case_id in sorted(case_ids)}


def _snapshot(uow: UnitOfWork, ledger: LedgerClient, intake: ComplainantClient, kind: str, key: str,
              first: date, last: date, body: Row, row: Row | None) -> Row:
    """The figures of the cases received from `first` to `last` as the ledger has them now, notify's
    marks of those days, the rules in force and the typical cases the office picked (on a redraft
    without picks, the previous draft's stay)."""
    stats = ledger.unit_stats(first, last)
    picks = body.get("typical_cases")
    typical = _typical(ledger, intake, picks) if picks is not None else (row["data"]["typical_cases"] if row else [])
    note = body["note"] if "note" in body else (row["data"]["note"] if row else None)
    marks = tables.period_marks(uow.conn, first, last)
    return bulletin.assemble(
        period=publication.period_fields(kind, key), judged_on=date.fromisoformat(stats["today"]),
        stats=stats["items"], min_base=stats["min_rate_base"], marks=marks, rules=tables.rules(uow.conn)[0],
        typical_cases=typical, note=note, case_numbers=_case_numbers(ledger, bulletin.case_ids(marks)),
        campaigns=ledger.campaign_report(first, last))


def draft_bulletin(uow: UnitOfWork, ledger: LedgerClient, intake: ComplainantClient, month: str, body: Row,
                   ctx: Context, *, redraft: bool = False) -> Row:
    """Take the snapshot of a month that is over."""
    def snapshot(row: Row | None) -> tuple[str, Row]:
        first, last = bulletin.month_period(month)
        _ended("month", month, last, ctx)
        return "drafted", _snapshot(uow, ledger, intake, "bulletin", month, first, last, body, row)
    return decide(uow, "bulletin", month, "redraft" if redraft else "draft", ctx, snapshot)


def draft_interim(uow: UnitOfWork, ledger: LedgerClient, intake: ComplainantClient, key: str, body: Row,
                  ctx: Context, *, redraft: bool = False) -> Row:
    """Take the snapshot of any period up to today (a campaign fortnight, a quarter so far)."""
    try:
        first, last = publication.interim_period(key)
    except ValueError:
        raise NotFound(f"没有阶段性通报 {key}（应为“开始日期_结束日期”，如 2026-11-02_2026-11-15）") from None

    def snapshot(row: Row | None) -> tuple[str, Row]:
        today = local_date(ctx.now)
        if last > today:
            raise Invalid(f"阶段性通报的统计期不能晚于今天（{today.isoformat()}）",
                          {"to": [f"不能晚于今天（{today.isoformat()}）"]}, code="interim.period_not_over")
        return "drafted", _snapshot(uow, ledger, intake, "interim", key, first, last, body, row)
    return decide(uow, "interim", key, "redraft" if redraft else "draft", ctx, snapshot)


def review_bulletin(uow: UnitOfWork, kind: str, key: str, decision: str, comments: str | None, ctx: Context) -> Row:
    def review(row: Row) -> tuple[str, Row]:
        publication.check_reviewer(row, ctx.actor, decision)
        return "reviewed", {**publication.period_fields(kind, key), "revision": row["revision"],
                            "decision": decision, "comments": comments}
    return decide(uow, kind, key, "review", ctx, review)


def publish_bulletin(uow: UnitOfWork, kind: str, key: str, ctx: Context, office: document.Office) -> Row:
    """Publish an approved bulletin or interim report: it gets the next number of its kind in the year
    of its issue date (domain/document.py), recorded in the published event."""
    def published(row: Row) -> tuple[str, Row]:
        day = local_date(ctx.now)
        return "published", {
            **publication.period_fields(kind, key), "revision": row["revision"], "title": publication.title(kind, key),
            "digest": publication.digest(row["data"]),
            "document": office.issue(kind, day, tables.next_sequence(uow.conn, kind, day.year))}
    return decide(uow, kind, key, "publish", ctx, published)


def draft_disclosure(uow: UnitOfWork, ledger: LedgerClient, quarter: str, ctx: Context) -> Row:
    """The quarter's hotline figures as the ledger has them now, with the due date on the office's
    calendar; drafting again before publication takes a new snapshot."""
    def snapshot(row: Row | None) -> tuple[str, Row]:
        first, last = disclosure.period(quarter)
        _ended("quarter", quarter, last, ctx)
        try:
            due = disclosure.due(quarter, officecalendar.calendar(uow.conn))
        except CalendarGap as gap:
            raise Invalid(str(gap), {"quarter": [str(gap)]}, code="calendar.year_missing") from None
        stats = ledger.unit_stats(first, last, channel=disclosure.CHANNEL)
        totals, units = disclosure.figures(stats["items"], stats["min_rate_base"])
        return "drafted", {"quarter": quarter, "channel": disclosure.CHANNEL, "due": due.isoformat(),
                           "judged_on": stats["today"], "min_rate_base": stats["min_rate_base"],
                           "totals": totals, "units": units}
    return decide(uow, "disclosure", quarter, "draft", ctx, snapshot)


def publish_disclosure(uow: UnitOfWork, quarter: str, ctx: Context) -> Row:
    def published(row: Row) -> tuple[str, Row]:
        due, today = date.fromisoformat(row["data"]["due"]), local_date(ctx.now)
        return "published", {"quarter": quarter, "revision": row["revision"],
                             "title": publication.title("disclosure", quarter), "digest": publication.digest(row["data"]),
                             "due": due.isoformat(), "published_on": today.isoformat(), "on_time": today <= due}
    return decide(uow, "disclosure", quarter, "publish", ctx, published)


def disclosure_overview(rows: list[Row], today: date, calendar: WorkCalendar) -> list[Row]:
    """Every quarter from the earliest one drafted (or the last one ended, if none was) to the last one
    ended, newest first: its state, due date, and whether it was published on time or is overdue."""
    by_key = {r["key"]: r for r in rows}
    last_ended = disclosure.previous(disclosure.quarter_of(today))
    quarter, out = min([last_ended, *by_key]), []
    while quarter <= last_ended or quarter in by_key:
        row = by_key.get(quarter)
        try:
            due, gap = (date.fromisoformat(row["due"]) if row else disclosure.due(quarter, calendar)), None
        except CalendarGap as exc:
            due, gap = None, str(exc)
        published_on = row and row["published_at"] and local_date(row["published_at"])
        out.append({"quarter": quarter, "state": row["state"] if row else "not_drafted", "due": due,
                    "calendar_gap": gap, "published_at": row and row["published_at"],
                    **disclosure.timeliness(due, published_on or None, today)})
        quarter = disclosure.following(quarter)
    return out[::-1]
