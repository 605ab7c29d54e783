"""The ledger API's response schemas (they make its OpenAPI document)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from zfcommon.escalationview import HistoryEntry, LadderOut
from zfcommon.events.catalogue import CHANNELS, ESCALATION_STEPS, HANDLING_MODES, PRIORITIES, SATISFACTION

from ..domain.statuses import STATUSES


class Location(Schema):
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class CaseOut(Schema):
    case_id = fields.String(required=True, metadata={"description": "the API's id of the case (UUID)"})
    case_number = fields.String(allow_none=True, metadata={
        "description": "the human number (案件编号), e.g. ZF-2026-000123; null only for a case received before "
                       "numbers existed, until it is numbered"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    channel = fields.String(required=True, validate=validate.OneOf(list(CHANNELS)))
    category = fields.String(required=True)
    description = fields.String(required=True, metadata={
        "description": "office and auditors: as received; units and channels: the summary (docs/PRIVACY.md)"})
    summary = fields.String(required=True, metadata={
        "description": "the description with the complainant's identity and personal data masked, or as the "
                       "office corrected it: what units and channels read"})
    subject_unit = fields.String(required=True)
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    location = fields.Nested(Location, allow_none=True)
    anonymous = fields.Boolean(required=True)
    origin = fields.Dict(allow_none=True, metadata={"description": "catalogue OriginData: where the lead came "
                                                                   "from outside Zhengfeng (null: entered here)"})
    received_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "stream version the view reflects"})
    lead_unit = fields.String(allow_none=True)
    cooperating_units = fields.List(fields.String(), required=True)
    handling_mode = fields.String(allow_none=True, validate=validate.OneOf(HANDLING_MODES))
    deadline = fields.Date(allow_none=True)
    sign_for_due = fields.Date(allow_none=True)
    assigned_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    sign_for_on_time = fields.Boolean(allow_none=True)
    last_progress_at = fields.DateTime(allow_none=True)
    extension_pending = fields.Boolean(required=True)
    extension_count = fields.Integer(required=True)
    closed_at = fields.DateTime(allow_none=True)
    closed_on_time = fields.Boolean(allow_none=True)
    rework_count = fields.Integer(required=True)
    reopen_count = fields.Integer(required=True)
    recheck_selected = fields.Boolean(allow_none=True)
    recheck_pending = fields.Boolean(required=True)
    recheck_basis = fields.String(allow_none=True, validate=validate.OneOf(["draw", "chosen"]), metadata={
        "description": "why the dismissal is to be re-checked: the random draw, or the office's choice"})
    recheck_outcome = fields.String(allow_none=True, validate=validate.OneOf(["upheld", "overturned"]))
    satisfaction = fields.String(allow_none=True, validate=validate.OneOf(SATISFACTION))
    visit_count = fields.Integer(required=True)
    merged_into = fields.String(allow_none=True)
    duplicates = fields.List(fields.String(), required=True)
    campaign_id = fields.String(allow_none=True, metadata={"description": "the campaign (专项行动) it belongs to"})
    dismissed_duplicates = fields.List(fields.String(), metadata={
        "description": "suggested duplicates the office found to be different matters (docs/CAMPAIGNS.md)"})
    overdue = fields.Boolean(required=True, metadata={"description": "computed at query time"})
    working_days_overdue = fields.Integer(allow_none=True, metadata={"description": "null: see calendar_gap"})
    working_days_left = fields.Integer(allow_none=True, metadata={
        "description": "a running case not yet overdue: working days until its deadline (0 on the day); null otherwise"})
    sign_for_overdue = fields.Boolean(required=True)
    calendar_gap = fields.String(allow_none=True, metadata={"description": "the years the calendar cannot count"})
    escalation_step = fields.String(allow_none=True, validate=validate.OneOf(ESCALATION_STEPS), metadata={
        "description": "the highest step of the escalation ladders still running (null: none is)"})
    escalation_ladders = fields.List(fields.Nested(LadderOut), metadata={
        "description": "the deadline and sign-for ladders notify climbed on the case (not on as-of views)"})


class CaseDetail(CaseOut):
    escalation_history = fields.List(fields.Nested(HistoryEntry), required=True, metadata={
        "description": "every escalation step and stop in order (notify's stream of the case)"})


class CaseAsOf(CaseDetail):
    """The case, its ladders and its escalation history as they stood then."""
    as_of = fields.AwareDateTime(required=True)


class CasePage(Schema):
    items = fields.List(fields.Nested(CaseOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
    number_matches = fields.List(fields.Nested(CaseOut), metadata={
        "description": "with `q`, on the first page: the cases whose number it names (the whole number, or its "
                       "serial in any year or the year typed), newest first, whatever their place in `items`"})


class OverduePage(Schema):
    items = fields.List(fields.Nested(CaseOut), required=True)
    next_offset = fields.Integer(allow_none=True, required=True)


class TimelineEntry(Schema):
    version = fields.Integer(required=True)
    type = fields.String(required=True)
    time = fields.DateTime(required=True)
    actor = fields.String(required=True)
    data = fields.Dict(required=True, metadata={
        "description": "the event's data, never the sealed complainant; units and channels read its free text "
                       "masked (zfcommon.outsiders): the received description is the summary"})


class Timeline(Schema):
    case_id = fields.String(required=True)
    case_number = fields.String(allow_none=True)
    items = fields.List(fields.Nested(TimelineEntry), required=True)


class Rate(Schema):
    numerator = fields.Integer(required=True)
    denominator = fields.Integer(required=True)
    value = fields.Float(allow_none=True, required=True, metadata={"description": "null when denominator is 0"})
    meaningful = fields.Boolean(required=True, metadata={"description": "denominator >= the minimum base (5)"})


class UnitStats(Schema):
    unit = fields.String(required=True)
    received = fields.Integer(required=True, metadata={"description": "cases it leads received in the period"})
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    sign_for_on_time_rate = fields.Nested(Rate, required=True)
    closure_on_time_rate = fields.Nested(Rate, required=True)
    rework_count = fields.Integer(required=True)
    extension_count = fields.Integer(required=True)
    satisfaction_rate = fields.Nested(Rate, required=True)
    unsatisfied = fields.Integer(required=True, metadata={"description": "cases whose latest visit was unsatisfied"})
    dismissed = fields.Integer(required=True, metadata={"description": "cases dismissed (查否) now"})
    recheck_upheld = fields.Integer(required=True, metadata={"description": "dismissals a re-check upheld"})
    recheck_overturned = fields.Integer(required=True,
                                        metadata={"description": "dismissals a re-check found substantiated"})
    # docs/CAMPAIGNS.md: the tasks the unit leads (issued by the period's end), their state today, and
    # the look-back findings of the period against it
    tasks_open = fields.Integer(required=True)
    tasks_overdue = fields.Integer(required=True)
    tasks_signed_off = fields.Integer(required=True)
    milestones_overdue = fields.Integer(required=True)
    lookback_held = fields.Integer(required=True)
    lookback_rebounds = fields.Integer(required=True, metadata={"description": "look-back rebounds (反弹)"})


class StatsOut(Schema):
    today = fields.Date(required=True, metadata={"description": "the day overdue and due dates were judged on"})
    min_rate_base = fields.Integer(required=True)
    items = fields.List(fields.Nested(UnitStats), required=True)


class SummaryOut(Schema):
    today = fields.Date(required=True, metadata={"description": "the day the counts were judged on"})
    due_within = fields.Integer(required=True)
    due_until = fields.Date(required=True, metadata={"description": "the last deadline that counts as due soon"})
    received = fields.Integer(required=True, metadata={"description": "new leads not yet assigned (已受理)"})
    due_soon = fields.Integer(required=True, metadata={"description": "deadline running, not passed, by due_until (黄灯)"})
    overdue = fields.Integer(required=True, metadata={"description": "deadline running and passed (红灯)"})
    sign_for_overdue = fields.Integer(required=True, metadata={"description": "assigned, not signed for, past the day"})
    awaiting_sign_for = fields.Integer(required=True)
    rectification_reported = fields.Integer(required=True, metadata={"description": "awaiting the office's sign-off"})
    dismissal_reported = fields.Integer(required=True, metadata={"description": "awaiting the office's decision"})
    extension_pending = fields.Integer(required=True)
