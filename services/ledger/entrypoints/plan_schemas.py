"""Query parameters and answers of the ledger's campaign endpoints (docs/CAMPAIGNS.md)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from zfcommon.escalationview import HistoryEntry, LadderOut

from .responses import TimelineEntry
from .schemas import NAME, _Strict

TASK_STATUSES = ("in_progress", "completion_reported", "signed_off", "cancelled")


class TaskQuery(_Strict):
    campaign = fields.String(validate=NAME)
    unit = fields.String(validate=NAME, metadata={"description": "lead or cooperating unit"})
    lead_unit = fields.String(validate=NAME)
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))
    phase = fields.Integer(validate=validate.Range(min=1, max=20))
    overdue = fields.Boolean(metadata={"description": "running and past its deadline"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100000))


class TaskOut(Schema):
    task_id = fields.String(required=True)
    campaign_id = fields.String(allow_none=True)
    phase = fields.Integer(allow_none=True)
    number = fields.String(allow_none=True)
    title = fields.String(required=True)
    target = fields.String(required=True)
    lead_unit = fields.String(required=True)
    cooperating_units = fields.List(fields.String(), required=True)
    responsible_leader = fields.String(required=True)
    measures = fields.String(required=True)
    monitor = fields.String(required=True)
    deadline = fields.Date(required=True)
    handling_mode = fields.String(required=True)
    milestones = fields.List(fields.Dict(), required=True, metadata={"description": "name, due, reached_at, on_time"})
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATUSES))
    issued_at = fields.DateTime(required=True)
    last_progress_at = fields.DateTime(allow_none=True)
    completion_reported_at = fields.DateTime(allow_none=True)
    completion_on_time = fields.Boolean(allow_none=True)
    signed_off_at = fields.DateTime(allow_none=True)
    signed_off_on_time = fields.Boolean(allow_none=True)
    sent_back_count = fields.Integer(required=True)
    origin = fields.Dict(allow_none=True)
    updated_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)
    overdue = fields.Boolean(required=True)
    working_days_overdue = fields.Integer(allow_none=True)
    calendar_gap = fields.String(allow_none=True)
    milestones_overdue = fields.List(fields.String(), required=True, metadata={
        "description": "milestones not reached whose date has passed"})
    escalation_step = fields.String(allow_none=True)
    escalation_ladders = fields.List(fields.Nested(LadderOut), required=True)


class TaskPage(Schema):
    items = fields.List(fields.Nested(TaskOut), required=True)
    next_offset = fields.Integer(allow_none=True, required=True)


class TaskDetail(TaskOut):
    escalation_history = fields.List(fields.Nested(HistoryEntry), required=True)
    timeline = fields.List(fields.Nested(TimelineEntry), required=True)
