"""The office's own aggregates beside cases — inspections, monitoring points, campaigns, tasks, key
projects, look-backs — each one stream named `<prefix><uuid>`: load it, let the domain decide, append
after the version it was loaded at, all in the caller's unit of work (one transaction)."""
from __future__ import annotations

import uuid
from typing import Any, Callable, TypeVar

from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.events import parse_event

from ..domain import campaign, inspection, lookback, monitoring, project, task
from ..domain.case import NewEvent
from . import handlers
from .handlers import Context
from .uow import UnitOfWork

Aggregate = TypeVar("Aggregate", bound=inspection.Folded)
# class -> (stream prefix, what a 404 calls it, its code)
KINDS: dict[type, tuple[str, str, str]] = {
    inspection.Inspection: (inspection.STREAM_PREFIX, "检查", "inspection.not_found"),
    monitoring.MonitoringPoint: (monitoring.STREAM_PREFIX, "效能监测点", "monitoring_point.not_found"),
    campaign.Campaign: (campaign.STREAM_PREFIX, "专项行动", "campaign.not_found"),
    task.Task: (task.STREAM_PREFIX, "任务", "task.not_found"),
    project.Project: (project.STREAM_PREFIX, "重点项目", "project.not_found"),
    lookback.Lookback: (lookback.STREAM_PREFIX, "回头看", "lookback.not_found"),
}


class SourceNotFound(Exception):
    """404: no aggregate of that kind with this id (`code` names which kind)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def _history(events) -> list[tuple[str, dict[str, Any], Any]]:
    return [(e.type, e.data, e.time) for e in events]


def load(uow: UnitOfWork, cls: type[Aggregate], stream_id: str) -> Aggregate:
    prefix, what, code = KINDS[cls]
    history = uow.events.load(stream_id) if stream_id.startswith(prefix) else []
    if not history:
        raise SourceNotFound(f"没有这个{what}：{stream_id}", code)
    return cls.replay(stream_id, _history(history))


def listing(uow: UnitOfWork, cls: type[Aggregate], limit: int, before: int | None) -> tuple[list[Aggregate], int | None]:
    """Newest first, `limit` streams started before position `before`; and the cursor of the next page.

    The partial index events_stream_starts (one row per stream, text_pattern_ops) serves the prefix
    match whatever the database collation; the streams' events then come by the primary stream index.
    """
    prefix = KINDS[cls][0]
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


def decide(uow: UnitOfWork, cls: type[Aggregate], stream_id: str, expected_version: int | None,
           decide_fn: Callable[[Aggregate], list[NewEvent]], ctx: Context) -> Aggregate:
    """Load, check If-Match, decide, append after the loaded version, and return the aggregate after.
    Decided events naming another stream (a case opened by a finding) go to that stream."""
    aggregate = load(uow, cls, stream_id)
    if expected_version is not None and expected_version != aggregate.version:
        raise ConcurrencyConflict(stream_id, expected_version)
    decided = decide_fn(aggregate)
    handlers._append(uow, {stream_id: aggregate.version}, decided, ctx, stream_id)
    for d in decided:
        if (d.stream or stream_id) == stream_id:
            aggregate.apply(d.type, d.data, ctx.now)
    return aggregate


def new(uow: UnitOfWork, cls: type[Aggregate], decided: list[NewEvent], ctx: Context,
        stream_id: str | None = None) -> Aggregate:
    stream_id = stream_id or KINDS[cls][0] + str(uuid.uuid4())
    handlers._append(uow, {}, decided, ctx, stream_id)
    return cls.replay(stream_id, [(d.type, d.data, ctx.now) for d in decided])
