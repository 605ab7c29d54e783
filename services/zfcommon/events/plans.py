"""Event data of the campaign machinery (docs/CAMPAIGNS.md): campaigns (专项行动) with their phases,
tasks with the five haves (任务分解, 五有), key projects with stage time limits (重点项目), look-backs
(回头看), and the two case events that belong to it (a case put in a campaign; a duplicate suggestion
dismissed). The catalogue registers them; this module only says what their data holds."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from .basics import Evidence, Strict, name_field, text_field

HANDLING_MODE_NAMES = ("immediate", "deadline", "long_term")
TASK_FIELDS = {"target": "工作目标", "lead_unit": "牵头单位", "responsible_leader": "责任领导",
               "measures": "推进措施", "monitor": "监察评估", "deadline": "完成时限"}
# The five haves (五有, seed 000) and the fields that make each.
FIVE_HAVES = {"target": ("target",), "responsible": ("lead_unit", "responsible_leader"),
              "measures": ("measures",), "monitoring": ("monitor",), "deadline": ("deadline",)}
FIVE_HAVE_NAMES = {"target": "有工作目标", "responsible": "有责任主体", "measures": "有推进措施",
                   "monitoring": "有监察评估", "deadline": "有完成时限"}
LOOKBACK_OUTCOMES = {"held": "巩固", "rebounded": "反弹"}
TASK_STATUSES = {"in_progress": "推进中", "completion_reported": "已报完成", "signed_off": "已销号",
                 "cancelled": "已撤销"}
TASK_COMMANDS = {"report_progress": "报告进展", "reach_milestone": "报告节点完成", "report_completion": "报告完成",
                 "sign_off": "销号", "send_back": "退回重办", "cancel": "撤销"}
LOOKBACK_KINDS = {"case": "已销号案件", "task": "已销号任务"}


def _id(**kw):
    return fields.String(validate=validate.Length(min=1, max=200), **kw)


def _note(**kw):
    return fields.String(allow_none=True, validate=validate.Length(max=4000), **kw)


# -- campaigns -----------------------------------------------------------------------------------
class PhaseData(Strict):
    name = name_field(required=True, metadata={"description": "e.g. 学习教育、深化认识阶段"})
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class CampaignLaunchedData(Strict):
    """A campaign (专项行动): its period, the office that leads it, its dated phases (in order, inside the
    period, not overlapping) and its problem categories. Which phase it is in follows from the calendar."""
    name = name_field(required=True)
    lead_office = name_field(required=True, metadata={"description": "the office that leads it (牵头)"})
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    phases = fields.List(fields.Nested(PhaseData), required=True, validate=validate.Length(min=1, max=20))
    categories = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                             metadata={"description": "its problem categories (the office's taxonomy); empty: any"})
    description = _note(required=True)


class CampaignRevisedData(CampaignLaunchedData):
    """The office revised a campaign's plan (调整方案): the whole plan as it now stands, and why. Phases
    already over keep their dates, none is removed, and a campaign that has begun keeps its start date."""
    reason = text_field(required=True, metadata={"description": "why the plan changed (e.g. the document that "
                                                                 "extended a phase)"})


# -- tasks -----------------------------------------------------------------------------------------
class MilestoneData(Strict):
    name = name_field(required=True)
    due = fields.Date(required=True)


class TaskIssuedData(Strict):
    """A task with the five haves (五有): target, responsible party (lead unit, cooperating units, a
    responsible leader), measures, monitoring (who supervises and evaluates), deadline; plus milestones."""
    campaign_id = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=200))
    phase = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1, max=20), metadata={
        "description": "the campaign phase (1-based) the task belongs to, if the plan says"})
    number = fields.String(required=True, allow_none=True, validate=validate.Length(max=50),
                           metadata={"description": "the plan's own number (序号)"})
    title = name_field(required=True)
    target = text_field(required=True)
    lead_unit = name_field(required=True)
    cooperating_units = fields.List(name_field(), required=True)
    responsible_leader = name_field(required=True)
    measures = text_field(required=True)
    monitor = name_field(required=True, metadata={"description": "who supervises and evaluates it (监察评估)"})
    deadline = fields.Date(required=True)
    milestones = fields.List(fields.Nested(MilestoneData), required=True, validate=validate.Length(max=50))
    handling_mode = fields.String(required=True, validate=validate.OneOf(HANDLING_MODE_NAMES), metadata={
        "description": "which thresholds of the escalation ladder an overdue task climbs"})
    origin = fields.Dict(keys=fields.String(), allow_none=True, metadata={
        "description": "a task table import: {import_id, row, key, serial}; absent: entered here"})


class TaskProgressData(Strict):
    unit = name_field(required=True)
    note = text_field(required=True)
    evidence = fields.List(fields.Nested(Evidence), required=True, validate=validate.Length(max=50))


class MilestoneReachedData(TaskProgressData):
    milestone = fields.Integer(required=True, validate=validate.Range(min=1), metadata={
        "description": "which milestone (1-based, in date order)"})
    on_time = fields.Boolean(required=True, metadata={"description": "reached on or before its date"})


class CompletionReportedData(TaskProgressData):
    on_time = fields.Boolean(required=True, metadata={"description": "reported on or before the deadline"})


class TaskSignedOffData(Strict):
    comment = _note(required=True)
    on_time = fields.Boolean(required=True, metadata={
        "description": "the completion it signs off was reported on or before the deadline"})


class TaskSentBackData(Strict):
    reason = text_field(required=True)
    new_deadline = fields.Date(required=True, allow_none=True, metadata={"description": "null: the same deadline"})
    sent_back_count = fields.Integer(required=True, validate=validate.Range(min=1))


class ReasonOnly(Strict):
    reason = text_field(required=True)


# -- key projects ------------------------------------------------------------------------------------
class StageSpec(Strict):
    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,40}$"))
    name = name_field(required=True, metadata={"description": "e.g. 立项, 用地, 规划许可, 施工许可, 开工, 竣工"})
    unit = name_field(required=True, metadata={"description": "the approving unit responsible for the stage"})
    limit_days = fields.Integer(required=True, validate=validate.Range(min=1, max=500),
                                metadata={"description": "time limit in working days from entering the stage"})


class StageTemplate(Strict):
    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,40}$"))
    name = name_field(required=True)
    limit_days = fields.Integer(required=True, validate=validate.Range(min=1, max=500))


class ProjectTypeSetData(Strict):
    """The stages a type of project goes through, with their time limits (subject: project-types)."""
    name = name_field(required=True)
    stages = fields.List(fields.Nested(StageTemplate), required=True, validate=validate.Length(min=1, max=30))


class ProjectRegisteredData(Strict):
    name = name_field(required=True)
    owner = name_field(required=True, metadata={"description": "the project's owner (业主单位)"})
    project_type = name_field(required=True)
    campaign_id = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=200))
    stages = fields.List(fields.Nested(StageSpec), required=True, validate=validate.Length(min=1, max=30))
    handling_mode = fields.String(required=True, validate=validate.OneOf(HANDLING_MODE_NAMES), metadata={
        "description": "the escalation thresholds a stage past its limit climbs"})
    case_grace_days = fields.Integer(required=True, validate=validate.Range(min=0, max=250), metadata={
        "description": "working days past a stage's limit after which it becomes a case (project_monitoring)"})
    case_category = fields.String(required=True, validate=validate.Length(min=1, max=100),
                                  metadata={"description": "the category such a case is given (办事效率低)"})
    note = _note(required=True)

    @validates_schema
    def _distinct(self, data: dict, **_: Any) -> None:
        keys = [s["key"] for s in data.get("stages") or [] if isinstance(s, dict) and "key" in s]
        if len(set(keys)) != len(keys):
            raise ValidationError("stage keys must be distinct", "stages")


class StageEnteredData(Strict):
    stage = fields.String(required=True, validate=validate.Length(min=1, max=40))
    unit = name_field(required=True)
    entered_on = fields.Date(required=True)
    limit_days = fields.Integer(required=True, validate=validate.Range(min=1, max=500))
    due = fields.Date(required=True, metadata={"description": "limit_days working days after entered_on"})


class StageCompletedData(Strict):
    stage = fields.String(required=True, validate=validate.Length(min=1, max=40))
    unit = name_field(required=True)
    completed_on = fields.Date(required=True)
    working_days = fields.Integer(required=True, validate=validate.Range(min=0), metadata={
        "description": "working days from entering to completing (the approval time)"})
    on_time = fields.Boolean(required=True)


class StageCaseOpenedData(Strict):
    """A stage past its limit and the grace became a case on channel project_monitoring (same transaction)."""
    stage = fields.String(required=True, validate=validate.Length(min=1, max=40))
    unit = name_field(required=True)
    case_id = _id(required=True)
    due = fields.Date(required=True)
    working_days_overdue = fields.Integer(required=True, validate=validate.Range(min=0))


# -- look-back ---------------------------------------------------------------------------------------
class LookbackFilters(Strict):
    campaign_id = fields.String(required=True, allow_none=True)
    unit = fields.String(required=True, allow_none=True)
    category = fields.String(required=True, allow_none=True)
    closed_from = fields.Date(required=True, allow_none=True)
    closed_to = fields.Date(required=True, allow_none=True)
    kinds = fields.List(fields.String(validate=validate.OneOf(LOOKBACK_KINDS)), required=True)


class LookbackItem(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(LOOKBACK_KINDS))
    id = _id(required=True)
    unit = name_field(required=True, metadata={"description": "the unit that led it (the rebound counts against)"})
    campaign_id = fields.String(required=True, allow_none=True)
    category = fields.String(required=True, allow_none=True)
    closed_on = fields.Date(required=True)
    draw = fields.Float(required=True, metadata={"description": "SHA-256(seed:kind:id), first 8 bytes ÷ 2^64"})


class LookbackDrawnData(Strict):
    """Closed cases and signed-off tasks drawn for a look-back, with every input to recompute the draw:
    the ⌈ratio × candidates⌉ candidates with the lowest draws are selected."""
    title = name_field(required=True)
    filters = fields.Nested(LookbackFilters, required=True)
    ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    nonce = fields.String(required=True, validate=validate.Length(min=1, max=100))
    seed = fields.String(required=True, metadata={
        "description": "nonce:SHA-256 of the sorted candidate lines (kind:id) joined by newlines"})
    candidates = fields.List(fields.Nested(LookbackItem), required=True)
    selected = fields.List(_id(), required=True, metadata={"description": "ids of the drawn items"})


class LookbackFindingData(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(LOOKBACK_KINDS))
    id = _id(required=True)
    unit = name_field(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(LOOKBACK_OUTCOMES))
    note = text_field(required=True)
    case_id = fields.String(required=True, allow_none=True, metadata={
        "description": "a rebound: the new case opened for it (channel lookback), linked to the original"})
    evidence = fields.List(fields.Nested(Evidence), required=True, validate=validate.Length(max=50))


# -- cases ---------------------------------------------------------------------------------------------
class CampaignSetData(Strict):
    campaign_id = fields.String(required=True, allow_none=True, metadata={"description": "null: out of any campaign"})
    previous_campaign_id = fields.String(required=True, allow_none=True)


class DuplicateDismissedData(Strict):
    """The office looked at a duplicate suggestion (并单建议) and found the two cases different matters."""
    candidate_case_id = _id(required=True)
    score = fields.Float(required=True, allow_none=True, validate=validate.Range(min=0, max=1))
    reason = _note(required=True)


# -- the bulletin's per-campaign section ------------------------------------------------------------
SECTION_FIGURES = ("cases_received", "cases_open", "cases_closed", "cases_overdue", "tasks", "tasks_open",
                   "tasks_overdue", "tasks_signed_off", "tasks_signed_off_on_time", "tasks_cancelled",
                   "milestones_overdue", "lookback_drawn", "lookback_held", "lookback_rebounds")
SectionFigures = Strict.from_dict({name: fields.Integer(required=True, validate=validate.Range(min=0))
                                   for name in SECTION_FIGURES}, name="SectionFigures")


class SectionUnit(SectionFigures):
    unit = name_field(required=True)


class SectionPhase(Strict):
    state = fields.String(required=True, validate=validate.OneOf(["not_started", "in_phase", "between_phases",
                                                                   "ended"]))
    number = fields.Integer(required=True, allow_none=True)
    name = fields.String(required=True, allow_none=True)
    label = fields.String(required=True, allow_none=True)
    starts_on = fields.String(required=True, allow_none=True)
    ends_on = fields.String(required=True, allow_none=True)


class CampaignSection(Strict):
    """A campaign in a bulletin: its phase on the period's last day and the ledger's figures over the
    period (cases received in it, tasks issued by its end, look-backs drawn and findings recorded in it)."""
    campaign_id = fields.String(required=True)
    name = name_field(required=True)
    lead_office = name_field(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    phase = fields.Nested(SectionPhase, required=True)
    figures = fields.Nested(SectionFigures, required=True)
    units = fields.List(fields.Nested(SectionUnit), required=True)
