"""Request and response schemas of campaigns, tasks, key projects and look-backs (docs/CAMPAIGNS.md).
Five-haves fields are optional in the schema on purpose: a task missing one is refused by the domain
with a 422 that names every missing have at once (code task.five_haves_missing)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from zfcommon.events.plans import HANDLING_MODE_NAMES, LOOKBACK_KINDS, LOOKBACK_OUTCOMES

from .inspection_schemas import EvidenceIn
from .schemas import ReasonIn, _Strict

STAGE_KEY = validate.Regexp(r"^[a-z0-9_]{1,40}$", error="a stage key: a-z, 0-9 and _, at most 40")


def _name(**kw):
    return fields.String(validate=validate.Length(min=1, max=200), **kw)


def _text(**kw):
    return fields.String(validate=validate.Length(min=1, max=4000), **kw)


def _optional_text(**kw):
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000), **kw)


class PhaseIn(_Strict):
    name = _name(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class CampaignIn(_Strict):
    name = _name(required=True)
    lead_office = _name(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    phases = fields.List(fields.Nested(PhaseIn), required=True, validate=validate.Length(min=1, max=20))
    categories = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                             validate=validate.Length(max=50))
    description = _optional_text()


class CampaignRevisionIn(CampaignIn):
    """The whole plan as it should stand, and why it changed."""
    reason = _text(required=True, metadata={"description": "why the plan changed (调整原因)"})


class CampaignRevisionOut(Schema):
    version = fields.Integer(required=True, metadata={"description": "the campaign's version the revision made"})
    at = fields.String(required=True)
    reason = fields.String(required=True)


class CampaignOut(Schema):
    campaign_id = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    lead_office = fields.String(required=True)
    starts_on = fields.String(required=True)
    ends_on = fields.String(required=True)
    phases = fields.List(fields.Dict(), required=True)
    categories = fields.List(fields.String(), required=True)
    description = fields.String(allow_none=True)
    phase = fields.Dict(required=True, metadata={"description": "where the campaign stands today: state "
                                                                "(not_started, in_phase, between_phases, ended), "
                                                                "number, name, label"})
    launched_at = fields.String(allow_none=True)
    revisions = fields.List(fields.Nested(CampaignRevisionOut), required=True,
                            metadata={"description": "every revision of the plan (调整方案), oldest first"})


class MilestoneIn(_Strict):
    name = _name(required=True)
    due = fields.Date(required=True)


class TaskIn(_Strict):
    title = _name(required=True)
    target = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000),
                           metadata={"description": "有工作目标"})
    lead_unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    cooperating_units = fields.List(_name(), load_default=list, validate=validate.Length(max=30))
    responsible_leader = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200),
                                       metadata={"description": "with the lead unit: 有责任主体"})
    measures = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000),
                             metadata={"description": "有推进措施"})
    monitor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200),
                            metadata={"description": "who supervises and evaluates it: 有监察评估"})
    deadline = fields.Date(load_default=None, allow_none=True, metadata={"description": "有完成时限"})
    milestones = fields.List(fields.Nested(MilestoneIn), load_default=list, validate=validate.Length(max=50))
    campaign_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    phase = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=20))
    number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    handling_mode = fields.String(load_default="deadline", validate=validate.OneOf(HANDLING_MODE_NAMES))


class TaskOut(Schema):
    task_id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "in_progress, completion_reported, "
                                                                   "signed_off, cancelled"})
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
    deadline = fields.String(required=True)
    handling_mode = fields.String(required=True)
    milestones = fields.List(fields.Dict(), required=True)
    progress = fields.List(fields.Dict(), required=True)
    completion = fields.Dict(allow_none=True)
    sent_back_count = fields.Integer(required=True)
    issued_at = fields.String(allow_none=True)
    allowed_commands = fields.List(fields.String(), required=True)


class ProgressIn(_Strict):
    note = _text(required=True)
    evidence = fields.List(fields.Nested(EvidenceIn), load_default=list, validate=validate.Length(max=50))


class MilestoneReachedIn(ProgressIn):
    milestone = fields.Integer(required=True, validate=validate.Range(min=1),
                               metadata={"description": "1-based, in date order"})


class SignOffIn(_Strict):
    comment = _optional_text()


class SendBackIn(_Strict):
    reason = _text(required=True)
    new_deadline = fields.Date(load_default=None, allow_none=True, metadata={"description": "default: unchanged"})


TASK_COMMANDS = {"report_progress": ProgressIn, "reach_milestone": MilestoneReachedIn,
                 "report_completion": ProgressIn, "sign_off": SignOffIn, "send_back": SendBackIn,
                 "cancel": ReasonIn}


class StageTemplateIn(_Strict):
    key = fields.String(required=True, validate=STAGE_KEY)
    name = _name(required=True)
    limit_days = fields.Integer(required=True, validate=validate.Range(min=1, max=500))


class ProjectTypeIn(_Strict):
    stages = fields.List(fields.Nested(StageTemplateIn), required=True, validate=validate.Length(min=1, max=30))


class ProjectTypeOut(Schema):
    name = fields.String(required=True)
    stages = fields.List(fields.Dict(), required=True)


class ProjectTypes(Schema):
    items = fields.List(fields.Nested(ProjectTypeOut), required=True)


class ProjectIn(_Strict):
    name = _name(required=True)
    owner = _name(required=True)
    project_type = _name(required=True)
    stage_units = fields.Dict(keys=fields.String(validate=STAGE_KEY), values=_name(), required=True,
                              metadata={"description": "stage key -> the approving unit responsible for it"})
    limits = fields.Dict(keys=fields.String(validate=STAGE_KEY),
                         values=fields.Integer(validate=validate.Range(min=1, max=500)), load_default=dict,
                         metadata={"description": "stage key -> working days, where this project differs"})
    campaign_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    handling_mode = fields.String(load_default="immediate", validate=validate.OneOf(HANDLING_MODE_NAMES))
    case_grace_days = fields.Integer(load_default=5, validate=validate.Range(min=0, max=250))
    case_category = fields.String(load_default="办事效率低", validate=validate.Length(min=1, max=100))
    note = _optional_text()


class ProjectOut(Schema):
    project_id = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    owner = fields.String(required=True)
    project_type = fields.String(required=True)
    campaign_id = fields.String(allow_none=True)
    handling_mode = fields.String(required=True)
    case_grace_days = fields.Integer(required=True)
    case_category = fields.String(required=True)
    note = fields.String(allow_none=True)
    stages = fields.List(fields.Dict(), required=True, metadata={
        "description": "key, name, unit, limit_days, state (not_entered, entered, completed), entered_on, due, "
                       "completed_on, working_days, on_time, case_id, and allowed_commands: what the caller may "
                       "record of the stage now (enter_stage or complete_stage; a unit only on its own stages)"})
    registered_at = fields.String(allow_none=True)
    allowed_commands = fields.List(fields.String(), required=True)


class StageIn(_Strict):
    stage = fields.String(required=True, validate=STAGE_KEY)
    on = fields.Date(load_default=None, allow_none=True, metadata={"description": "the day; default today"})


class StageCaseOut(Schema):
    project_id = fields.String(required=True)
    stage = fields.String(required=True)
    case_id = fields.String(required=True)
    version = fields.Integer(required=True)


class LookbackIn(_Strict):
    title = _name(required=True)
    ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1, min_inclusive=False))
    campaign_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    category = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100))
    closed_from = fields.Date(load_default=None, allow_none=True)
    closed_to = fields.Date(load_default=None, allow_none=True)
    kinds = fields.List(fields.String(validate=validate.OneOf(LOOKBACK_KINDS)), load_default=lambda: list(LOOKBACK_KINDS),
                        validate=validate.Length(min=1))


class LookbackOut(Schema):
    lookback_id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "checking, completed"})
    title = fields.String(required=True)
    filters = fields.Dict(required=True)
    ratio = fields.Float(required=True)
    nonce = fields.String(required=True)
    seed = fields.String(required=True)
    candidates = fields.List(fields.Dict(), required=True)
    selected = fields.List(fields.String(), required=True)
    findings = fields.List(fields.Dict(), required=True)
    drawn_at = fields.String(allow_none=True)
    allowed_commands = fields.List(fields.String(), required=True, metadata={
        "description": "what the caller may do now: record_finding for the office while checking; none for an auditor"})


class FindingIn(_Strict):
    id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                       metadata={"description": "the drawn case or task"})
    outcome = fields.String(required=True, validate=validate.OneOf(LOOKBACK_OUTCOMES))
    note = _text(required=True)
    category = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100),
                             metadata={"description": "a rebound's case category (default: the original's)"})
    evidence = fields.List(fields.Nested(EvidenceIn), load_default=list, validate=validate.Length(max=50))
