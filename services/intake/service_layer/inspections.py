"""Inspections and monitoring points: load the aggregate from its stream, let the domain decide, append
— in the caller's unit of work. A finding or a submission appends its own event *and* a new case in one
transaction, so the ledger never holds a finding without its case, nor a case without its source."""
from __future__ import annotations

import uuid
from typing import Any, Callable, TypeVar

from zfcommon.workdays import local_date

from ..domain import inspection as inspections
from ..domain.campaign import check_member
from ..domain import monitoring
from ..domain.case import NewEvent
from ..domain.inspection import Inspection, Lead
from ..domain.monitoring import MonitoringPoint
from . import handlers
from .aggregates import decide as _decide
from .aggregates import new as _new
from .handlers import Context
from .uow import UnitOfWork

Aggregate = TypeVar("Aggregate", Inspection, MonitoringPoint)


def _record_lead(uow: UnitOfWork, cls: type[Aggregate], source_id: str, lead: Lead, ctx: Context,
                 expected_version: int | None, check: Callable, recorded: Callable, channel: str) -> Aggregate:
    """Check the lead against its source, put it on the ledger as a case on `channel` pointing back to
    the source, and record it on the source's stream naming that case."""
    def decide(source: Aggregate) -> list[NewEvent]:
        check(source, lead, local_date(ctx.now))
        own_id = str(uuid.uuid4())
        case = handlers.receive_case(lead.case_command(channel, own_id, source_id, source.facts.get("campaign_id")),
                                     uow, ctx)
        return recorded(own_id, lead, case.case_id, case.case_number)
    return _decide(uow, cls, source_id, expected_version, decide, ctx)


def plan_inspection(uow: UnitOfWork, cmd: inspections.PlanInspection, ctx: Context) -> Inspection:
    check_member(handlers.load_campaign(uow, cmd.campaign_id), cmd.campaign_id)
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
