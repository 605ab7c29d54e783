"""Inspections and monitoring points: load the aggregate from its stream, let the domain decide, append
— in the caller's unit of work. A finding or a submission appends its own event *and* a new case in one
transaction, so the ledger never holds a finding without its case, nor a case without its source."""
from __future__ import annotations

import uuid
from typing import Any, Callable, TypeVar

from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.events import parse_event
from zfcommon.workdays import local_date

from ..domain import inspection as inspections
from ..domain import monitoring
from ..domain.case import NewEvent
from ..domain.inspection import Inspection, Lead
from ..domain.monitoring import MonitoringPoint
from . import handlers
from .handlers import Context
from .uow import UnitOfWork

Aggregate = TypeVar("Aggregate", Inspection, MonitoringPoint)
KINDS: dict[type, tuple[str, str]] = {Inspection: (inspections.STREAM_PREFIX, "检查"),
                                      MonitoringPoint: (monitoring.STREAM_PREFIX, "效能监测点")}


class SourceNotFound(Exception):
    """404: no inspection or monitoring point with this id (`code` names which)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def _history(events) -> list[tuple[str, dict[str, Any], Any]]:
    return [(e.type, e.data, e.time) for e in events]


def load(uow: UnitOfWork, cls: type[Aggregate], stream_id: str) -> Aggregate:
    prefix, what = KINDS[cls]
    history = uow.events.load(stream_id) if stream_id.startswith(prefix) else []
    if not history:
        raise SourceNotFound(f"没有{what} {stream_id}",
                             code="inspection.not_found" if cls is Inspection else "monitoring_point.not_found")
    return cls.replay(stream_id, _history(history))


def listing(uow: UnitOfWork, cls: type[Aggregate], limit: int, before: int | None) -> tuple[list[Aggregate], int | None]:
    """Newest first, `limit` streams started before position `before`; and the cursor of the next page.

    The partial index events_stream_starts (one row per stream, text_pattern_ops) serves the prefix
    match whatever the database collation; the streams' events then come by the primary stream index.
    """
    prefix, _ = KINDS[cls]
    rows = uow.conn.execute(
        "SELECT s.position AS first, e.payload FROM"
        " (SELECT stream_id, position FROM events WHERE version = 1 AND stream_id LIKE %s"
        "  AND position < %s ORDER BY position DESC LIMIT %s) s"
        " JOIN events e USING (stream_id) ORDER BY s.position DESC, e.version",
        (prefix + "%", before if before is not None else 2 ** 63 - 1, limit)).fetchall()
    streams: dict[int, list] = {}
    for row in rows:
        streams.setdefault(row["first"], []).append(parse_event(row["payload"]))
    found = [cls.replay(events[0].subject, _history(events)) for events in streams.values()]
    return found, (min(streams) if len(streams) == limit else None)


def _decide(uow: UnitOfWork, cls: type[Aggregate], stream_id: str, expected_version: int | None,
            decide: Callable[[Aggregate], list[NewEvent]], ctx: Context) -> Aggregate:
    """Load, check If-Match, decide, append after the loaded version, and return the aggregate after."""
    aggregate = load(uow, cls, stream_id)
    if expected_version is not None and expected_version != aggregate.version:
        raise ConcurrencyConflict(stream_id, expected_version)
    decided = decide(aggregate)
    handlers._append(uow, {stream_id: aggregate.version}, decided, ctx, stream_id)
    for d in decided:
        aggregate.apply(d.type, d.data, ctx.now)
    return aggregate


def _new(uow: UnitOfWork, cls: type[Aggregate], decided: list[NewEvent], ctx: Context) -> Aggregate:
    stream_id = KINDS[cls][0] + str(uuid.uuid4())
    handlers._append(uow, {}, decided, ctx, stream_id)
    return cls.replay(stream_id, [(d.type, d.data, ctx.now) for d in decided])


def _record_lead(uow: UnitOfWork, cls: type[Aggregate], source_id: str, lead: Lead, ctx: Context,
                 expected_version: int | None, check: Callable, recorded: Callable, channel: str) -> Aggregate:
    """Check the lead against its source, put it on the ledger as a case on `channel` pointing back to
    the source, and record it on the source's stream naming that case."""
    def decide(source: Aggregate) -> list[NewEvent]:
        check(source, lead, local_date(ctx.now))
        own_id = str(uuid.uuid4())
        case = handlers.receive_case(lead.case_command(channel, own_id, source_id), uow, ctx)
        return recorded(own_id, lead, case.case_id, case.case_number)
    return _decide(uow, cls, source_id, expected_version, decide, ctx)


def plan_inspection(uow: UnitOfWork, cmd: inspections.PlanInspection, ctx: Context) -> Inspection:
    return _new(uow, Inspection, inspections.plan(cmd, handlers.load_directory(uow)), ctx)


def record_finding(uow: UnitOfWork, inspection_id: str, lead: Lead, ctx: Context,
                   expected_version: int | None = None) -> tuple[Inspection, dict[str, Any]]:
    """The finding and its case (channel `inspection`) in one transaction; returns the finding."""
    inspection = _record_lead(uow, Inspection, inspection_id, lead, ctx, expected_version,
                              inspections.check_finding, inspections.finding_recorded, "inspection")
    return inspection, inspection.findings[-1]


def complete_inspection(uow: UnitOfWork, inspection_id: str, summary: str | None, ctx: Context,
                        expected_version: int | None = None) -> Inspection:
    return _decide(uow, Inspection, inspection_id, expected_version,
                   lambda i: inspections.complete(i, summary, local_date(ctx.now)), ctx)


def cancel_inspection(uow: UnitOfWork, inspection_id: str, reason: str, ctx: Context,
                      expected_version: int | None = None) -> Inspection:
    return _decide(uow, Inspection, inspection_id, expected_version,
                   lambda i: inspections.cancel(i, reason, local_date(ctx.now)), ctx)


def register_point(uow: UnitOfWork, cmd: monitoring.RegisterPoint, ctx: Context) -> MonitoringPoint:
    return _new(uow, MonitoringPoint, monitoring.register(cmd, handlers.load_directory(uow)), ctx)


def record_submission(uow: UnitOfWork, point_id: str, lead: Lead, ctx: Context,
                      expected_version: int | None = None) -> tuple[MonitoringPoint, dict[str, Any]]:
    """The submission and its case (channel `monitoring_point`) in one transaction."""
    point = _record_lead(uow, MonitoringPoint, point_id, lead, ctx, expected_version,
                         monitoring.check_submission, monitoring.submission_recorded, "monitoring_point")
    return point, point.submissions[-1]


def deactivate_point(uow: UnitOfWork, point_id: str, reason: str, ctx: Context,
                     expected_version: int | None = None) -> MonitoringPoint:
    return _decide(uow, MonitoringPoint, point_id, expected_version,
                   lambda p: monitoring.deactivate(p, reason), ctx)
