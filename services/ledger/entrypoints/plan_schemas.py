"""Query parameters and answers of the ledger's campaign endpoints (docs/CAMPAIGNS.md)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from zfcommon.escalationview import HistoryEntry, LadderOut

from .responses import TimelineEntry
from .schemas import NAME, CommaList, _Strict

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


class Period(_Strict):
    start = fields.Date(data_key="from", metadata={"description": "first day (China time)"})
    end = fields.Date(data_key="to", metadata={"description": "last day"})

    @validates_schema
    def _ordered(self, data, **_):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("must not be before from", field_name="to")


class ReportPeriod(Period):
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)


FIGURES_DOC = {"description": "cases_received/open/closed/overdue (received in the period), tasks, tasks_open/"
                              "overdue/signed_off/signed_off_on_time/cancelled, milestones_overdue, lookback_drawn/"
                              "held/rebounds (docs/CAMPAIGNS.md)"}


class CampaignOut(Schema):
    campaign_id = fields.String(required=True)
    name = fields.String(required=True)
    lead_office = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    phases = fields.List(fields.Dict(), required=True)
    categories = fields.List(fields.String(), required=True)
    description = fields.String(allow_none=True)
    launched_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)
    phase = fields.Dict(required=True, metadata={"description": "state, number, name, label on the day judged"})
    figures = fields.Dict(required=True, metadata=FIGURES_DOC)
    units = fields.List(fields.Dict(), metadata={"description": "per lead unit: the same figures"})


class CampaignPage(Schema):
    today = fields.Date(required=True)
    items = fields.List(fields.Nested(CampaignOut), required=True)


class CampaignReport(Schema):
    today = fields.Date(required=True)
    items = fields.List(fields.Nested(CampaignOut), required=True)


class ProjectQuery(_Strict):
    campaign = fields.String(validate=NAME)
    unit = fields.String(validate=NAME, metadata={"description": "an approving unit of one of its stages"})


class ProjectOut(Schema):
    project_id = fields.String(required=True)
    name = fields.String(required=True)
    owner = fields.String(required=True)
    project_type = fields.String(required=True)
    campaign_id = fields.String(allow_none=True)
    handling_mode = fields.String(required=True)
    case_grace_days = fields.Integer(required=True)
    case_category = fields.String(required=True)
    note = fields.String(allow_none=True)
    units = fields.List(fields.String(), required=True)
    registered_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)
    stages = fields.List(fields.Dict(), required=True, metadata={
        "description": "in order: stage, name, unit, limit_days, state, entered_on, due, completed_on, working_days, "
                       "on_time, case_id, overdue, working_days_overdue (and escalation_ladders on one project)"})


class ProjectPage(Schema):
    items = fields.List(fields.Nested(ProjectOut), required=True)


class ProjectDetail(ProjectOut):
    timeline = fields.List(fields.Nested(TimelineEntry), required=True)


class ApprovalQuery(Period):
    unit = fields.String(validate=NAME)
    stage = fields.String(validate=NAME, metadata={"description": "a stage's name (用地) or key"})


class ApprovalRow(Schema):
    unit = fields.String(required=True)
    stage = fields.String(required=True)
    completed = fields.Integer(required=True, metadata={"description": "stages completed in the period"})
    median_working_days = fields.Float(allow_none=True)
    worst_working_days = fields.Integer(allow_none=True)
    on_time = fields.Integer(required=True)
    open = fields.Integer(required=True, metadata={"description": "entered, not completed, now"})
    open_overdue = fields.Integer(required=True, metadata={"description": "of those, past their limit today"})


class ApprovalTimes(Schema):
    today = fields.Date(required=True)
    items = fields.List(fields.Nested(ApprovalRow), required=True)


class LookbackRow(Schema):
    """A look-back in the list: its draw and counts (the drawn items are on one look-back's answer)."""
    lookback_id = fields.String(required=True)
    title = fields.String(required=True)
    filters = fields.Dict(required=True)
    ratio = fields.Float(required=True)
    nonce = fields.String(required=True)
    seed = fields.String(required=True)
    drawn_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)
    candidates = fields.Integer(required=True)
    drawn = fields.Integer(required=True)
    held = fields.Integer(required=True)
    rebounded = fields.Integer(required=True)


class LookbackOut(LookbackRow):
    items = fields.List(fields.Dict(), metadata={"description": "the drawn items with their findings"})


class LookbackPage(Schema):
    # Rows without `items`: a row is a dict, and a field it lacks would be read as the dict's own .items
    items = fields.List(fields.Nested(LookbackRow), required=True)


class CandidateQuery(_Strict):
    campaign_id = fields.String(validate=NAME)
    unit = fields.String(validate=NAME)
    category = fields.String(validate=validate.Length(min=1, max=100))
    closed_from = fields.Date()
    closed_to = fields.Date()
    kinds = CommaList(fields.String(validate=validate.OneOf(["case", "task"])), load_default=lambda: ["case", "task"])


class Candidate(Schema):
    kind = fields.String(required=True)
    id = fields.String(required=True)
    unit = fields.String(required=True)
    campaign_id = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    closed_on = fields.Date(required=True)


class Candidates(Schema):
    items = fields.List(fields.Nested(Candidate), required=True)


class SuggestionQuery(_Strict):
    window_days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365),
                                 metadata={"description": "received at most this many days apart"})
    threshold = fields.Float(metadata={"description": "the lowest score suggested (default: the measured one)"},
                             validate=validate.Range(min=0, max=1))


class Suggestion(Schema):
    case_id = fields.String(required=True)
    case_number = fields.String(allow_none=True, metadata={"description": "案件编号, what people read and quote"})
    score = fields.Float(required=True)
    parts = fields.Dict(required=True, metadata={"description": "text, unit, place, numbers, each in [0, 1]"})
    why = fields.List(fields.String(), required=True, metadata={"description": "the reasons, in Chinese"})
    status = fields.String(required=True)
    subject_unit = fields.String(required=True)
    lead_unit = fields.String(allow_none=True)
    channel = fields.String(required=True)
    received_at = fields.DateTime(required=True)


class Suggestions(Schema):
    case_id = fields.String(required=True)
    threshold = fields.Float(required=True)
    items = fields.List(fields.Nested(Suggestion), required=True)
