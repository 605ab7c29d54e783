"""The event catalogue: every event type, the topic it travels on, and its data schema.

This module is the single source of truth; docs/EVENTS.md is generated from it
(`zf catalogue > docs/EVENTS.md`) and a test keeps the two equal.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .. import periods
from . import fastload, plans
from .basics import Attachment, Evidence, LocationData
from .basics import Strict as _Strict
from .basics import name_field as _name
from .basics import text_field as _text
from .fastload import Loader, compile_schema

# Channels through which a lead arrives (DOMAIN.md point 1).
CHANNELS = {
    "hotline": "12345热线",
    "petition": "信访",
    "tipoff": "举报平台",
    "media": "媒体曝光",
    "inspection": "明察暗访",
    "supervisor": "监督员",
    "monitoring_point": "效能监测点",
    "self_inspection": "自查自纠",
    "project_monitoring": "重点项目监测",
    "lookback": "回头看",
}
PRIORITIES = ("normal", "urgent", "critical")


class SealedData(_Strict):
    """Complainant identity and contact, AES-256-GCM encrypted under a per-case data key.

    Neither Kafka nor the trail ever holds them in clear; destroying the data key (kid) shreds them.
    """
    kid = fields.String(required=True, validate=validate.Length(min=1, max=100))
    nonce = fields.String(required=True)
    ciphertext = fields.String(required=True)


ORIGIN_SYSTEMS = {"hotline": "12345热线工单", "open311": "Open311接口", "inspection": "明察暗访发现",
                  "monitoring_point": "效能监测点报送", "import": "台账导入", "api": "部门接口",
                  "project_monitoring": "重点项目阶段超时", "lookback": "回头看反弹"}


class OriginData(_Strict):
    """Where a lead came from outside Zhengfeng, so callbacks and re-imports can find it again:
    `system` names the source, `ref` its own identifier (hotline order number, Open311 request,
    inspection finding, import row key), `parent` the larger thing it belongs to (inspection,
    monitoring point, import batch), `extra` anything the source needs echoed back."""
    system = fields.String(required=True, validate=validate.OneOf(ORIGIN_SYSTEMS))
    ref = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent = fields.String(allow_none=True, validate=validate.Length(max=200))
    extra = fields.Dict(keys=fields.String(), allow_none=True)


# A masked text can be longer than the original (〔门牌已隐去〕 for 501室): room for that.
MASKED_TEXT = validate.Length(min=1, max=8000)


class _Masked(_Strict):
    """A case event whose free text units, channels and the public read masked (zfcommon.outsiders)."""
    redacted = fields.Dict(keys=fields.String(), values=fields.String(validate=MASKED_TEXT), metadata={
        "description": "the free texts the masking changed, masked (the complainant's identity and personal data), "
                       "by path in this data (`note`, `location.address`, `attachments.0.name` …); absent: nothing "
                       "to mask. What units, channels and the public read in their place (docs/PRIVACY.md)"})


# A case's human number (案件编号): the office's prefix, the receipt's year in China, the year's serial.
CASE_NUMBER = validate.Regexp(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-[0-9]{4}-[0-9]{6,}$",
                              error="a case number such as ZF-2026-000123")


def case_number_field(**kw) -> fields.String:
    return fields.String(validate=CASE_NUMBER, metadata={"description": "the human case number (案件编号), "
                                                                         "e.g. ZF-2026-000123"}, **kw)


class CaseReceivedData(_Masked):
    # Absent only on cases received before numbers existed: a case.numbered event gives them theirs.
    case_number = case_number_field()
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000), metadata={
        "description": "as the complainant or channel gave it: for the office and auditors only"})
    summary = fields.String(validate=MASKED_TEXT, metadata={
        "description": "the description with the complainant's identity and personal data masked at receipt: what "
                       "units, channels and the public read in its place (absent on events stored before it existed: "
                       "they read the description masked by the patterns)"})
    subject_unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    location = fields.Nested(LocationData, allow_none=True, required=True)
    anonymous = fields.Boolean(required=True)
    complainant = fields.Nested(SealedData, allow_none=True, required=True)
    origin = fields.Nested(OriginData, allow_none=True)   # absent or null: entered in Zhengfeng itself
    attachments = fields.List(fields.Nested(lambda: Evidence()), validate=validate.Length(max=50),
                              metadata={"description": "evidence that came with the lead (inspection finding, "
                                                       "monitoring point submission); absent: none"})
    campaign_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "the campaign (专项行动) the lead belongs to; absent or null: none"})


HANDLING_MODES = {"immediate": "立行立改", "deadline": "限期整改", "long_term": "长期整改"}
UNIT_KINDS = {"township": "乡镇", "party_department": "党群部门", "government_department": "政府部门",
              "school": "学校", "state_enterprise": "国有企业", "other": "其他"}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
MEASURES = {"reminder_talk": "提醒谈话", "criticism_education": "批评教育", "ordered_inspection": "责令检查",
            "admonishment": "诫勉", "bulletin_criticism": "通报批评", "organisational": "组织处理",
            "disciplinary": "纪律处分"}


class DeadlineBasis(_Strict):
    """How a deadline was set, so anyone can recompute it: `limit` = working days from the office's
    limits for the mode and priority, counted from `from_date`; `explicit` = given by the office;
    `recorded` = taken from the office's earlier ledger by an import, so it may lie in the past."""
    rule = fields.String(required=True, validate=validate.OneOf(["limit", "explicit", "recorded"]))
    from_date = fields.Date(required=True)
    working_days = fields.Integer(allow_none=True, required=True, validate=validate.Range(min=1, max=1000))


class CaseAssignedData(_Masked):
    lead_unit = _name(required=True)
    cooperating_units = fields.List(_name(), required=True)
    handling_mode = fields.String(required=True, validate=validate.OneOf(HANDLING_MODES))
    deadline = fields.Date(required=True)
    deadline_basis = fields.Nested(DeadlineBasis, required=True)
    sign_for_due = fields.Date(required=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class CaseReassignedData(CaseAssignedData):
    reason = _text(required=True)
    previous_lead_unit = _name(required=True)


class UnitActionData(_Masked):
    unit = _name(required=True)


class CaseAcceptedData(UnitActionData):
    on_time = fields.Boolean(required=True)


class CaseReturnedData(UnitActionData):
    reason = _text(required=True)


class ProgressNotedData(UnitActionData):
    note = _text(required=True)


class ExtensionRequestedData(UnitActionData):
    reason = _text(required=True)
    requested_deadline = fields.Date(required=True)


class ExtensionApprovedData(_Masked):
    previous_deadline = fields.Date(required=True)
    new_deadline = fields.Date(required=True)
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))


class ExtensionDeniedData(_Masked):
    reason = _text(required=True)


class ReportData(UnitActionData):
    text = _text(required=True)
    attachments = fields.List(fields.Nested(Attachment), required=True)


class CaseClosedData(_Masked):
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))
    # null: signed off in an earlier ledger after a recorded deadline had passed; when is not known.
    on_time = fields.Boolean(required=True, allow_none=True)


class ReworkOrderedData(_Masked):
    reason = _text(required=True)
    new_deadline = fields.Date(required=True)
    rework_count = fields.Integer(required=True, validate=validate.Range(min=1))


class RecheckDraw(_Strict):
    """The re-check sampling draw, reproducible from these inputs alone: draw = first 8 bytes of
    SHA-256(seed) as an integer ÷ 2^64; selected = draw < ratio (docs/STATE-MACHINE.md)."""
    ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    seed = fields.String(required=True, validate=validate.Length(min=1, max=200))
    draw = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    selected = fields.Boolean(required=True)


class DismissalAcceptedData(_Masked):
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))
    recheck = fields.Nested(RecheckDraw, required=True)


class RecheckChosenData(_Masked):
    """The office chose a dismissed case for re-check itself (beside the random draw, which did not pick it)."""
    reason = _text(required=True, metadata={"description": "why the office chose it"})
    chosen_by = _name(required=True, metadata={"description": "who chose it (the acting principal)"})


class RecheckUpheldData(_Masked):
    findings = _text(required=True)


class RecheckOverturnedData(_Masked):
    findings = _text(required=True)
    new_deadline = fields.Date(required=True)
    accountability_id = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ReturnVisitData(_Masked):
    satisfaction = fields.String(required=True, validate=validate.OneOf(SATISFACTION))
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))


class RehandlingOrderedData(_Masked):
    reason = _text(required=True)
    new_deadline = fields.Date(required=True)


class MergedData(_Masked):
    into_case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reason = fields.String(allow_none=True, validate=validate.Length(max=4000))


class ComplainantErasedData(_Masked):
    """PIPL erasure: the data key `kid` was destroyed, so the sealed complainant data in every copy of
    the received event (store, Kafka, trail, exports) can no longer be opened."""
    kid = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = _text(required=True)


class SummaryCorrectedData(_Strict):
    """The office corrected the summary units, channels and the public read (it holds no personal data:
    checked against the complainant's sealed identity and the patterns when it was entered)."""
    summary = fields.String(required=True, validate=validate.Length(min=1, max=4000))


REVEAL_OUTCOMES = {"revealed": "已查看", "erased": "已删除，无可查看", "anonymous": "匿名，无可查看"}


class ComplainantRevealedData(_Strict):
    """Someone opened a case's sealed complainant record (the actor: who; the time: when). Never the data."""
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "why, as the office user (or notify's purpose) stated it"})
    outcome = fields.String(required=True, validate=validate.OneOf(REVEAL_OUTCOMES), metadata={
        "description": "revealed; erased (the data key was destroyed: nothing to show); anonymous (no complainant)"})
class CaseNumberedData(_Strict):
    """A number for a case received before case numbers existed (one-off, in receipt order)."""
    case_number = case_number_field(required=True)


class DuplicateAbsorbedData(_Strict):
    duplicate_case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))


class AccountabilityRecordedData(_Strict):
    measure = fields.String(required=True, validate=validate.OneOf(MEASURES))
    target_kind = fields.String(required=True, validate=validate.OneOf(["unit", "person"]))
    target = _name(required=True)
    unit = _name(required=True)
    basis_cases = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                              validate=validate.Length(min=1))
    decided_by = _name(required=True)
    reason = _text(required=True)


class Contact(_Strict):
    name = _name(required=True)
    role = fields.String(allow_none=True, validate=validate.Length(max=100))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    email = fields.String(allow_none=True, validate=validate.Length(max=200))


class UnitData(_Strict):
    name = _name(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    supervising_channel = _name(required=True)
    contacts = fields.List(fields.Nested(Contact), required=True)
    active = fields.Boolean(required=True)


ROBOT_KINDS = ("wecom", "dingtalk")     # a unit's group robots: 企业微信 and 钉钉 (docs/NOTICES.md)


class UnitRobotsData(_Strict):
    """Which group robots a unit's notices go to, by reference only: the robots' addresses are secrets
    (anyone holding one can post to the group), sealed in intake's `unit_robots` and never in an event."""
    unit = _name(required=True)
    wecom = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=100),
                          metadata={"description": "reference of the unit's WeCom (企业微信) group robot; null: none"})
    dingtalk = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=100),
                             metadata={"description": "reference of the unit's DingTalk (钉钉) group robot; null: none"})


class CategoryData(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    group = fields.String(required=True, validate=validate.Length(min=1, max=100))


class LimitsSetData(_Strict):
    """Working days per handling mode and priority, the sign-for limit, and the re-check ratio."""
    limits = fields.Dict(keys=fields.String(validate=validate.OneOf(HANDLING_MODES)),
                         values=fields.Dict(keys=fields.String(validate=validate.OneOf(PRIORITIES)),
                                            values=fields.Integer(validate=validate.Range(min=1, max=1000))),
                         required=True)
    sign_for_days = fields.Integer(required=True, validate=validate.Range(min=1, max=30))
    recheck_ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    calendar_fallback = fields.String(required=True, allow_none=True, validate=validate.OneOf(["weekends"]),
                                      metadata={"description": "null: a date outside the official calendar "
                                                               "is an error; weekends: Mon-Fri count"})


CALENDAR_YEARS = range(2000, 2201)      # the years an office may enter a schedule for


class CalendarYearData(_Strict):
    year = fields.Integer(required=True, validate=validate.Range(min=CALENDAR_YEARS[0], max=CALENDAR_YEARS[-1]))
    holidays = fields.List(fields.Date(), required=True)
    workdays = fields.List(fields.Date(), required=True)


class ClientRegisteredData(_Strict):
    """The office issued API access to a department's system, scoped to one unit or one channel. No
    client event ever holds a key or a key's hash: the trail says who was given access, not the access."""
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    department = _name(required=True)
    role = fields.String(required=True, validate=validate.OneOf(["unit", "channel"]))
    unit = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=200))
    channel = fields.String(required=True, allow_none=True, validate=validate.OneOf(CHANNELS))
    rate_per_minute = fields.Integer(required=True, validate=validate.Range(min=1))


class ClientKeyRotatedData(_Strict):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    grace_seconds = fields.Integer(required=True, validate=validate.Range(min=0))
    previous_keys_expire_at = fields.AwareDateTime(required=True, metadata={
        "description": "until when the keys issued before still work (now when grace_seconds is 0)"})


# Inspections (明察暗访) and monitoring points (效能监测点): the office's own sources of leads.
INSPECTION_MODES = {"announced": "明察", "unannounced": "暗访"}
POINT_KINDS = {"service_window": "窗口单位", "enterprise": "企业", "project": "重点项目",
               "community": "村(社区)", "supervisor": "效能监督员", "other": "其他"}


class TeamMember(_Strict):
    name = _name(required=True)
    role = fields.String(allow_none=True, validate=validate.Length(max=100))
    organisation = fields.String(allow_none=True, validate=validate.Length(max=200))


class InspectionPlannedData(_Strict):
    title = _name(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(INSPECTION_MODES))
    target_units = fields.List(_name(), required=True, validate=validate.Length(min=1, max=200))
    team = fields.List(fields.Nested(TeamMember), required=True, validate=validate.Length(min=1, max=50))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    focus = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True)
    note = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))
    campaign_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "the campaign it serves; its findings' cases belong to it too. Absent or null: none"})


class LeadData(_Strict):
    """A problem seen at a unit; `case_id` is the case it was put on the ledger as, in the same transaction."""
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    case_number = case_number_field()      # absent on findings recorded before case numbers
    unit = _name(required=True)
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = _text(required=True)
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    location = fields.Nested(LocationData, required=True, allow_none=True)
    evidence = fields.List(fields.Nested(Evidence), required=True, validate=validate.Length(max=50))
    observed_on = fields.Date(required=True, allow_none=True)


class FindingRecordedData(LeadData):
    finding_id = fields.String(required=True, validate=validate.Length(min=1, max=200))


class InspectionCompletedData(_Strict):
    summary = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))
    finding_count = fields.Integer(required=True, validate=validate.Range(min=0))


class ReasonData(_Strict):
    reason = _text(required=True)


class PointRegisteredData(_Strict):
    name = _name(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(POINT_KINDS))
    organisation = fields.String(required=True, allow_none=True, validate=validate.Length(max=200))
    location = fields.Nested(LocationData, required=True, allow_none=True)
    watched_units = fields.List(_name(), required=True, validate=validate.Length(max=200),
                                metadata={"description": "units the point reports on; empty: any unit"})
    note = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))


class SubmissionRecordedData(LeadData):
    submission_id = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ClientRevokedData(_Strict):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))


# Escalation (notify, DOMAIN.md point 5): the ladder a late case climbs, step by step. docs/ESCALATION.md.
LADDERS = {"deadline": "整改期限", "sign_for": "签收时限"}
ESCALATION_STEPS = {"reminder": "到期提醒", "supervision_letter": "督办函", "admonishment_talk": "约谈",
                    "bulletin_criticism": "通报批评", "accountability_proposal": "提请问责"}
STOP_REASONS = {"rectification_reported": "已报整改", "dismissal_reported": "已报查否", "closed": "已销号",
                "dismissed": "已查否", "merged": "已并单", "returned": "已退回", "accepted": "已签收",
                "new_deadline": "期限已变更", "reassigned": "已改派",
                # tasks and project stages (docs/CAMPAIGNS.md) climb the same ladder
                "completion_reported": "已报完成", "cancelled": "已撤销", "stage_completed": "阶段已办结",
                "case_opened": "已转为案件"}


class DocumentData(_Strict):
    """A formal document's number, issuer and date: a published bulletin or interim report (docs/BULLETINS.md
    "Document number"), a supervision letter (docs/ESCALATION.md "Numbered supervision letters")."""
    number = fields.String(required=True, validate=validate.Length(min=1, max=100),
                           metadata={"description": "文号, from the office's pattern for its kind, e.g. 正风办通〔2026〕3号"})
    year = fields.Integer(required=True, metadata={"description": "the year its sequence counts in"})
    sequence = fields.Integer(required=True, validate=validate.Range(min=1))
    issuer = fields.String(required=True, validate=validate.Length(min=1, max=200),
                           metadata={"description": "the issuing office (发文机关)"})
    issued_on = fields.Date(required=True, metadata={"description": "the issue date (China)"})


def _step(**kw):
    return fields.String(validate=validate.OneOf(ESCALATION_STEPS), **kw)


def _letter():
    return fields.Nested(DocumentData, metadata={
        "description": "a supervision letter's number (文号), issuer and date; absent on other steps, and on "
                       "letters issued before letters were numbered"})


class _Step(_Strict):
    """An escalation step of notify's: only a supervision letter is a numbered document (`document`)."""
    @validates_schema
    def _letters_only(self, data: dict, **_: Any) -> None:
        if "document" in data and data.get("step") != "supervision_letter":
            raise ValidationError("只有督办函有文号", "document")


class StepIssuedData(_Step):
    """notify issued an escalation step because its threshold was crossed (stream and subject: the case)."""
    ladder = fields.String(required=True, validate=validate.OneOf(LADDERS))
    step = _step(required=True)
    round = fields.Integer(required=True, validate=validate.Range(min=1), metadata={
        "description": "which run of this ladder on the case: a new deadline or sign-for date starts the next"})
    unit = _name(required=True, metadata={"description": "the lead unit the step is addressed to"})
    due = fields.Date(required=True, metadata={
        "description": "the date the ladder counts from: the deadline or sign-for date, or the day the lead unit "
                       "got the case (an import, a reassignment) when that is later"})
    working_days_overdue = fields.Integer(required=True, metadata={
        "description": "working days past `due` on the day the step was issued; <= 0 before it"})
    handling_mode = fields.String(required=True, validate=validate.OneOf(HANDLING_MODES))
    threshold = fields.Integer(required=True, metadata={
        "description": "the configured threshold on the working-days-overdue scale (a reminder's is minus its "
                       "lead time)"})
    crossed_on = fields.Date(required=True, metadata={
        "description": "the day the threshold was crossed (earlier than the event's time after an outage)"})
    document = _letter()


class EscalationStoppedData(_Strict):
    """The case left the state its ladder runs in, or its date or unit changed: the round is over."""
    ladder = fields.String(required=True, validate=validate.OneOf(LADDERS))
    round = fields.Integer(required=True, validate=validate.Range(min=1))
    reason = fields.String(required=True, validate=validate.OneOf(STOP_REASONS))
    last_step = _step(required=True)


class Rungs(_Strict):
    """One ladder's thresholds in working days: the reminder's lead time before the due date, then the
    working days overdue at which each step is issued (each at least the one before)."""
    reminder = fields.Integer(required=True, validate=validate.Range(min=0, max=250))
    supervision_letter = fields.Integer(required=True, validate=validate.Range(min=1, max=250))
    admonishment_talk = fields.Integer(required=True, validate=validate.Range(min=1, max=250))
    bulletin_criticism = fields.Integer(required=True, validate=validate.Range(min=1, max=250))
    accountability_proposal = fields.Integer(required=True, validate=validate.Range(min=1, max=250))

    @validates_schema
    def _climbs(self, data: dict, **_: Any) -> None:
        steps = [s for s in list(ESCALATION_STEPS)[1:] if isinstance(data.get(s), int)]
        for lower, higher in zip(steps, steps[1:]):
            if data[higher] < data[lower]:
                raise ValidationError(f"不能小于{ESCALATION_STEPS[lower]}的阈值（{data[lower]}）", higher)


class DeadlineRungs(_Strict):
    immediate = fields.Nested(Rungs, required=True)
    deadline = fields.Nested(Rungs, required=True)
    long_term = fields.Nested(Rungs, required=True)


class EscalationConfigData(_Strict):
    """The office's escalation thresholds: per handling mode for the deadline ladder, one sign-for ladder."""
    deadline = fields.Nested(DeadlineRungs, required=True)
    sign_for = fields.Nested(Rungs, required=True)


# Publications (notify, DOMAIN.md points 5-7): the monthly bulletin (月通报) and the quarterly disclosure
# of hotline figures (seed 001). docs/BULLETINS.md.
PUBLICATION_TOPIC = "notify.publication.events"
BULLETIN_RULES_STREAM = "bulletin-rules"
# What an assessment score deducts points for (扣减年度考核分值, seed 001), per occurrence in the month.
DEDUCTIONS = {"overdue": "超期未办结", "late_sign_for": "超时签收或逾期未签收", "weekly_missed": "未按时报送周报告",
              "criticism": "通报批评", "accountability": "问责", "recheck_overturned": "查否经复查被推翻",
              "unsatisfied": "回访不满意", "rework": "退回重办",
              # docs/CAMPAIGNS.md: overdue tasks (任务超期) and look-back rebounds (回头看反弹)
              "task_overdue": "任务超期未完成", "rebound": "回头看发现反弹"}
# Rules added after offices had set theirs: a rules event without them takes their default points.
LATER_DEDUCTIONS = ("task_overdue", "rebound")
REVIEW_DECISIONS = {"approved": "审核通过", "changes_requested": "退回修改"}
MONTH_FORMAT = periods.MONTH
QUARTER_FORMAT = periods.QUARTER


def _count(**kw):
    return fields.Integer(required=True, validate=validate.Range(min=0), **kw)


# Points deducted per occurrence of each kind (0: not deducted), one field per DEDUCTIONS key.
DeductionPoints = _Strict.from_dict(
    {name: fields.Float(required=name not in LATER_DEDUCTIONS, validate=validate.Range(min=0, max=100))
     for name in DEDUCTIONS},
    name="DeductionPoints")


class BulletinRulesData(_Strict):
    base = fields.Float(required=True, validate=validate.Range(min=1, max=1000),
                        metadata={"description": "the score a unit starts the month from"})
    min_cases = fields.Integer(required=True, validate=validate.Range(min=0, max=100000), metadata={
        "description": "units that received fewer cases in the month are listed but not ranked"})
    deductions = fields.Nested(DeductionPoints, required=True)


class RateData(_Strict):
    numerator = _count()
    denominator = _count()
    value = fields.Float(required=True, allow_none=True)
    meaningful = fields.Boolean(required=True)


class PublishedFigures(_Strict):
    """A unit's (or all units') figures as the ledger gave them (docs/LEDGER.md "Unit statistics")."""
    received = _count()
    open = _count()
    closed = _count()
    overdue = _count()
    unsatisfied = _count()
    sign_for_on_time_rate = fields.Nested(RateData, required=True)
    closure_on_time_rate = fields.Nested(RateData, required=True)
    satisfaction_rate = fields.Nested(RateData, required=True)


class BulletinFigures(PublishedFigures):
    late_sign_for = _count()
    rework_count = _count()
    extension_count = _count()
    dismissed = _count()
    recheck_upheld = _count()
    recheck_overturned = _count()
    weekly_missed = _count()
    criticisms = _count()
    accountability = _count()
    # docs/CAMPAIGNS.md; absent in bulletins drafted before campaigns
    tasks_open = fields.Integer(validate=validate.Range(min=0))
    tasks_overdue = fields.Integer(validate=validate.Range(min=0))
    tasks_signed_off = fields.Integer(validate=validate.Range(min=0))
    milestones_overdue = fields.Integer(validate=validate.Range(min=0))
    lookback_held = fields.Integer(validate=validate.Range(min=0))
    lookback_rebounds = fields.Integer(validate=validate.Range(min=0))


class DeductionLine(_Strict):
    rule = fields.String(required=True, validate=validate.OneOf(DEDUCTIONS))
    count = _count()
    points = fields.Float(required=True)
    total = fields.Float(required=True)


class BulletinUnitRow(BulletinFigures):
    unit = _name(required=True)
    deductions = fields.List(fields.Nested(DeductionLine), required=True)
    score = fields.Float(required=True)
    ranked = fields.Boolean(required=True, metadata={"description": "false: fewer cases than min_cases"})
    rank = fields.Integer(required=True, allow_none=True)


class CriticismEntry(_Strict):
    unit = _name(required=True)
    source = fields.String(required=True, validate=validate.OneOf(["escalation", "accountability"]))
    kind = fields.String(required=True, metadata={"description": "the escalation step or accountability measure"})
    day = fields.Date(required=True)
    case_ids = fields.List(fields.String(), required=True)
    case_numbers = fields.List(fields.String(allow_none=True), metadata={
        "description": "each case's human number (工单编号), null where it has none; absent before numbers"})
    working_days_overdue = fields.Integer(allow_none=True)


class TypicalCase(_Strict):
    """Only what may be shown publicly: never anything of the complainant."""
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    case_number = case_number_field(allow_none=True)     # absent on bulletins drafted before case numbers
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    unit = fields.String(required=True, allow_none=True, metadata={
        "description": "the unit responsible: the lead unit, or the subject unit while not assigned"})
    unit_role = fields.String(validate=validate.OneOf(["lead_unit", "subject_unit"]), metadata={
        "description": "which of the two `unit` is (absent in drafts before it was recorded: the lead unit)"})
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    status = fields.String(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                         metadata={"description": "the description after redaction, or the office's wording"})


class _BulletinBody(_Strict):
    """The whole bulletin as drafted: the ledger's figures as they were then, so a replay shows the same."""
    judged_on = fields.Date(required=True, metadata={"description": "the ledger's day overdue was judged on"})
    min_rate_base = fields.Integer(required=True, metadata={"description": "the ledger's minimum base of a rate"})
    rules = fields.Nested(BulletinRulesData, required=True)
    units = fields.List(fields.Nested(BulletinUnitRow), required=True)
    totals = fields.Nested(BulletinFigures, required=True)
    criticism = fields.List(fields.Nested(CriticismEntry), required=True)
    typical_cases = fields.List(fields.Nested(TypicalCase), required=True)
    note = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))
    campaigns = fields.List(fields.Nested(plans.CampaignSection), metadata={
        "description": "per campaign that ran in the period: its phase and figures (absent before campaigns)"})


class _Month(_Strict):
    month = fields.String(required=True, validate=MONTH_FORMAT)


class _Period(_Strict):
    """An interim report's period (阶段性通报): any run of whole days, e.g. a campaign fortnight."""
    start = fields.Date(required=True, data_key="from", metadata={"description": "its first day"})
    end = fields.Date(required=True, data_key="to", metadata={"description": "its last day"})


class _Review(_Strict):
    revision = fields.Integer(required=True, metadata={"description": "the stream version of the draft reviewed"})
    decision = fields.String(required=True, validate=validate.OneOf(REVIEW_DECISIONS))
    comments = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))


class PublishedData(_Strict):
    revision = fields.Integer(required=True, metadata={"description": "the stream version of the draft published"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    digest = fields.String(required=True, metadata={"description": "SHA-256 of the draft's data (canonical JSON)"})


class _Numbered(PublishedData):
    document = fields.Nested(DocumentData, metadata={
        "description": "its number, issuer and date (absent in what was published before numbering)"})


class BulletinDraftedData(_Month, _BulletinBody):
    pass


class BulletinReviewedData(_Month, _Review):
    pass


class BulletinPublishedData(_Month, _Numbered):
    pass


class InterimDraftedData(_Period, _BulletinBody):
    """An interim report over any period, drafted like a monthly bulletin and marked as interim."""


class InterimReviewedData(_Period, _Review):
    pass


class InterimPublishedData(_Period, _Numbered):
    pass


class DisclosureUnitRow(PublishedFigures):
    unit = _name(required=True)


class DisclosureDraftedData(_Strict):
    quarter = fields.String(required=True, validate=QUARTER_FORMAT)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    due = fields.Date(required=True, metadata={"description": "5 working days after the quarter (seed 001)"})
    judged_on = fields.Date(required=True)
    min_rate_base = fields.Integer(required=True)
    totals = fields.Nested(PublishedFigures, required=True)
    units = fields.List(fields.Nested(DisclosureUnitRow), required=True)


class DisclosurePublishedData(PublishedData):
    quarter = fields.String(required=True, validate=QUARTER_FORMAT)
    due = fields.Date(required=True)
    published_on = fields.Date(required=True, metadata={"description": "the day in China it was published"})
    on_time = fields.Boolean(required=True)


# Democratic appraisal of units (政风行风民主评议, seeds 001 and 003), stream appraisal-<period>: opened,
# one event per questionnaire entered, then drafted (the results), reviewed and published as a
# bulletin. docs/APPRAISALS.md.
APPRAISAL_PERIOD = validate.Regexp(r"^\d{4}(-Q[1-4])?$", error="须写作季度（如 2026-Q4）或年度（如 2026）")
APPRAISAL_GRADES = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}


class _Appraisal(_Strict):
    period = fields.String(required=True, validate=APPRAISAL_PERIOD, metadata={
        "description": "the quarter (2026-Q4) or the year (2026) appraised"})


class AppraisalWeights(_Strict):
    satisfied = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    basically_satisfied = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    unsatisfied = fields.Float(required=True, validate=validate.Range(min=0, max=100))


class AppraisalOpenedData(_Appraisal):
    title = fields.String(required=True, allow_none=True, validate=validate.Length(max=200))
    units = fields.List(_name(), required=True, validate=validate.Length(min=1))
    key_units = fields.List(_name(), required=True, metadata={"description": "重点评议单位, among `units`"})
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=50)), required=True,
                         validate=validate.Length(min=1, max=20), metadata={"description": "groups of appraisers"})
    weights = fields.Nested(AppraisalWeights, required=True, metadata={"description": "each grade's points"})
    min_ballots = fields.Integer(required=True, validate=validate.Range(min=1), metadata={
        "description": "ballots a unit needs to be ranked, and its satisfaction rate to be meaningful"})
    note = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))
    sms_group = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=50), metadata={
        "description": "the group (among `groups`) whose ballots are the SMS ratings of enforcement and supervision "
                       "performed in the period (短信评议, seed 001); null: the round takes none"})


class AppraisalRating(_Strict):
    unit = _name(required=True)
    grade = fields.String(required=True, validate=validate.OneOf(APPRAISAL_GRADES))
    comment = fields.String(required=True, allow_none=True, validate=validate.Length(max=1000), metadata={
        "description": "what the appraiser wrote, for the office and auditors only; never published"})


class AppraisalBallotData(_Appraisal):
    """One questionnaire as entered: its number (once per round), the appraiser's group and grades."""
    ballot_no = fields.String(required=True, validate=validate.Length(min=1, max=50))
    group = fields.String(required=True, validate=validate.Length(min=1, max=50))
    ratings = fields.List(fields.Nested(AppraisalRating), required=True, validate=validate.Length(min=1))


class AppraisalGroupRow(_Strict):
    group = fields.String(required=True)
    ballots = fields.Integer(required=True)
    score = fields.Float(required=True, allow_none=True)


class AppraisalUnitRow(_Strict):
    unit = _name(required=True)
    key_unit = fields.Boolean(required=True)
    ballots = fields.Integer(required=True)
    satisfied = fields.Integer(required=True)
    basically_satisfied = fields.Integer(required=True)
    unsatisfied = fields.Integer(required=True)
    score = fields.Float(required=True, allow_none=True, metadata={"description": "null: no ballot graded it"})
    satisfaction_rate = fields.Nested(RateData, required=True)
    groups = fields.List(fields.Nested(AppraisalGroupRow), required=True)
    ranked = fields.Boolean(required=True, metadata={"description": "false: fewer ballots than min_ballots"})
    rank = fields.Integer(required=True, allow_none=True)


class AppraisalTotals(_Strict):
    ballots = fields.Integer(required=True)
    ratings = fields.Integer(required=True)
    satisfied = fields.Integer(required=True)
    basically_satisfied = fields.Integer(required=True)
    unsatisfied = fields.Integer(required=True)
    score = fields.Float(required=True, allow_none=True)
    satisfaction_rate = fields.Nested(RateData, required=True)


class AppraisalDraftedData(_Appraisal):
    round = fields.Nested(AppraisalOpenedData, required=True)
    ballots = fields.Integer(required=True, metadata={"description": "questionnaires counted"})
    units = fields.List(fields.Nested(AppraisalUnitRow), required=True)
    totals = fields.Nested(AppraisalTotals, required=True)


class AppraisalReviewedData(_Appraisal, _Review):
    pass


class AppraisalPublishedData(_Appraisal, _Numbered):
    pass


# SMS appraisal after enforcement and supervision (短信评议, seed 001 二(六)19: 在业务科室人员进行执法或监督后，由
# 执法或监督对象通过回复短信进行评价), stream enforcement-<action id>: the action recorded, then its rating. The
# party's number is never in an event: notify keeps it sealed until the rating or its expiry, and the
# events carry it masked and as a keyed hash (the same number recognised across actions). docs/APPRAISALS.md.
ENFORCEMENT_KINDS = {"enforcement": "行政执法", "supervision": "行政监督"}
SMS_GROUP = "执法监督对象（短信评议）"      # the SMS group's name the console and the API suggest


class EnforcementOfficer(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    badge_no = fields.String(required=True, allow_none=True, validate=validate.Length(max=50), metadata={
        "description": "执法证号 or 工作证号"})


class EnforcementRecordedData(_Strict):
    action_id = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"))
    unit = _name(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ENFORCEMENT_KINDS))
    section = fields.String(required=True, allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "the unit's section (业务科室) that acted"})
    matter = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "what was inspected or enforced, masked as it was entered"})
    party = fields.String(required=True, allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "the party inspected (执法监督对象, e.g. a shop's name), masked as it was entered"})
    performed_on = fields.Date(required=True)
    officers = fields.List(fields.Nested(EnforcementOfficer), required=True, validate=validate.Length(min=1, max=10))
    phone_masked = fields.String(required=True, validate=validate.Length(min=1, max=20))
    phone_key = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"), metadata={
        "description": "HMAC-SHA256 of the party's number under notify's key: one number, one key; never the number"})


class EnforcementStaff(_Strict):
    """One person of a unit's enforcement or supervision staff as the public reads them (公述民评 公示)."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    badge_no = fields.String(required=True, allow_none=True, validate=validate.Length(max=50), metadata={
        "description": "执法证号 or 工作证号"})
    section = fields.String(required=True, allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "业务科室"})
    post = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={"description": "职务"})
    duties = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={
        "description": "岗位职责, masked as it was entered"})


class EnforcementRosterData(_Strict):
    """A unit's whole roster as published (each publication replaces the last), stream roster-<unit>."""
    unit = _name(required=True)
    staff = fields.List(fields.Nested(EnforcementStaff), required=True, validate=validate.Length(max=300))


class EnforcementRatedData(_Strict):
    action_id = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"))
    unit = _name(required=True)
    performed_on = fields.Date(required=True)
    grade = fields.String(required=True, validate=validate.OneOf(APPRAISAL_GRADES))
    via = fields.String(required=True, validate=validate.OneOf(["sms"]))
    counted_in = fields.List(fields.String(validate=APPRAISAL_PERIOD), required=True, metadata={
        "description": "the open appraisal rounds (a quarter's, a year's) the rating went into as a ballot of their "
                       "SMS group; empty: none"})


# Public exposure of typical cases (典型案例公开曝光, DOMAIN.md point 7), stream exposure-<id>: the office
# selects a case, redacts the text to publish, a second office user approves, it is published, and it
# may be withdrawn. Nothing of the complainant is ever taken from the case. docs/EXPOSURE.md.
EXPOSURE_FIELDS = ("title", "category", "text", "lesson")
# What the redaction removes, by kind (zfcommon.redaction), with the names people read.
REDACTION_KINDS = {
    "mobile": "手机号码", "landline": "固定电话", "id_card": "身份证号", "long_number": "长数字串（证件或银行卡号）",
    "email": "电子邮箱", "im_account": "微信/QQ账号", "dwelling": "门牌/房号", "name": "姓名",
    "complainant_name": "投诉人姓名", "complainant_phone": "投诉人电话", "complainant_email": "投诉人邮箱",
    "complainant_address": "投诉人地址", "complainant_id": "投诉人身份证号", "marked": "办公室标记内容",
    "address_detail": "详细地址",
}


class ExposedCase(_Strict):
    """The case's public facts as notify's projection had them when it was selected: never the complainant."""
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    unit = _name(required=True, metadata={"description": "the lead unit, or the unit complained about"})
    status = fields.String(required=True)
    received_on = fields.Date(required=True)
    case_number = case_number_field(allow_none=True)     # absent on exposures selected before case numbers


class ExposurePublic(_Strict):
    """Exactly what the public page and feeds show of an exposure, after redaction."""
    title = fields.String(required=True, validate=validate.Length(min=1, max=400))
    category = fields.String(required=True, validate=validate.Length(min=1, max=400),
                             metadata={"description": "the kind of typical case (典型问题类别)"})
    unit = _name(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=40000))
    lesson = fields.String(required=True, allow_none=True, validate=validate.Length(max=8000),
                           metadata={"description": "the office's comment or lesson (警示/点评)"})
    # The number people may quote (it names the case, never the complainant); absent on texts redacted
    # before case numbers, null for a case that had none.
    case_number = case_number_field(allow_none=True)


class ExposureSelectedData(_Strict):
    """The office's wording as entered (internal; only the redacted version is ever published)."""
    exposure_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = fields.String(required=True, validate=validate.Length(min=1, max=100))
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    lesson = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))
    case = fields.Nested(ExposedCase, required=True)


class Removal(_Strict):
    field = fields.String(required=True, validate=validate.OneOf(EXPOSURE_FIELDS))
    kind = fields.String(required=True, validate=validate.OneOf(REDACTION_KINDS))
    count = fields.Integer(required=True, validate=validate.Range(min=1))


class ExposureRedactedData(_Strict):
    """The redacted text (never what was removed: only how many of each kind)."""
    exposure_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    public = fields.Nested(ExposurePublic, required=True)
    removed = fields.List(fields.Nested(Removal), required=True)
    complainant_checked = fields.Boolean(required=True, metadata={
        "description": "intake's record of the complainant was matched too (false: intake did not answer)"})


class ExposureApprovedData(_Strict):
    exposure_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    revision = fields.Integer(required=True, metadata={"description": "the stream version of the redaction approved"})
    redacted_by = fields.String(required=True, metadata={"description": "who redacted it (never the approver)"})


class ExposurePublishedData(_Strict):
    exposure_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    revision = fields.Integer(required=True, metadata={"description": "the stream version of the redaction published"})
    public = fields.Nested(ExposurePublic, required=True)
    digest = fields.String(required=True, metadata={"description": "SHA-256 of `public` (canonical JSON)"})


class ExposureWithdrawnData(_Strict):
    exposure_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    was_published = fields.Boolean(required=True)

# Weekly reports (notify, DOMAIN.md point 6, seed 002): 周报告 and 零报告, missed reports and their
# escalation, the monthly spot checks of zero reports (零报告抽查). docs/REPORTS.md.
REPORT_TOPIC = "notify.report.events"
REPORTING_CONFIG_STREAM = "reporting-config"
SPOT_CHECK_STREAM = "spot-checks"
WEEK_FORMAT = periods.WEEK
DUE_RULES = {"week_end": "本周最后一个工作日", "next_week": "下周第一个工作日"}
SPOT_CHECK_FINDINGS = {"confirmed_nothing": "核实无问题", "problems_found": "发现问题"}


class ProgressItem(_Strict):
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    note = _text(required=True)


class SelfFoundItem(_Strict):
    description = _text(required=True)
    category = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=100))


class _Filing(_Strict):
    """What a unit's weekly and quarterly reports both record."""
    unit = _name(required=True)
    progress = fields.List(fields.Nested(ProgressItem), required=True)
    self_found = fields.List(fields.Nested(SelfFoundItem), required=True)
    note = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))
    due = fields.Date(required=True, allow_none=True, metadata={
        "description": "the period's due date; null: the calendar lacked the year when it was filed"})
    filed_on = fields.Date(required=True, metadata={"description": "the day in China it was filed"})
    late = fields.Boolean(required=True, allow_none=True, metadata={
        "description": "first filed after `due` (a correction keeps the first filing's); null: due unknown"})
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    corrects = fields.String(required=True, allow_none=True, metadata={
        "description": "the id of the filing this one replaces; null: the first filing"})


class _Missed(_Strict):
    unit = _name(required=True)
    due = fields.Date(required=True)
    flagged_on = fields.Date(required=True, metadata={
        "description": "the first working day after `due`, when the miss counts (earlier than the event's time "
                       "after an outage)"})


class WeeklyFiledData(_Filing):
    """A unit's weekly report (周报告): progress on its cases and problems it found itself; or a zero
    report (零报告) listing nothing. A second filing for the week is a correction naming the one it replaces."""
    week = fields.String(required=True, validate=WEEK_FORMAT)
    zero = fields.Boolean(required=True)

    @validates_schema
    def _zero_lists_nothing(self, data: dict, **_: Any) -> None:
        listed = bool(data.get("progress") or data.get("self_found"))
        if data.get("zero") is True and listed:
            raise ValidationError("零报告不能列出工作进展或自查发现的问题", "zero")
        if data.get("zero") is False and not listed:
            raise ValidationError("周报告须列出工作进展或自查发现的问题（无事可报请报零报告）",
                                  "zero")


class WeeklyMissedData(_Missed):
    week = fields.String(required=True, validate=WEEK_FORMAT)


class QuarterlyFiledData(_Filing):
    """A unit's quarterly work report (季度工作情况报送, seed 001: within 5 working days after the quarter):
    what it did in the quarter, its cases and the problems it found; a second filing corrects the first."""
    quarter = fields.String(required=True, validate=QUARTER_FORMAT)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=20000), metadata={
        "description": "the quarter's work (本季度工作情况)"})
    next_steps = fields.String(required=True, allow_none=True, validate=validate.Length(max=20000), metadata={
        "description": "what the unit plans for the next quarter (下季度工作打算)"})


class QuarterlyMissedData(_Missed):
    quarter = fields.String(required=True, validate=QUARTER_FORMAT)


class ReportEscalatedData(_Step):
    """Consecutive missed weeks reached a step's threshold (stream and subject: weekly-<unit>)."""
    unit = _name(required=True)
    week = fields.String(required=True, validate=WEEK_FORMAT, metadata={"description": "the missed week that did"})
    step = _step(required=True)
    consecutive_missed = fields.Integer(required=True, validate=validate.Range(min=1))
    threshold = fields.Integer(required=True, validate=validate.Range(min=1))
    document = _letter()


# Consecutive missed weeks at which each step is issued (null: the step is not used).
MissRungs = _Strict.from_dict(
    {step: fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1, max=52))
     for step in ESCALATION_STEPS}, name="MissRungs")


class ReportingConfigData(_Strict):
    """The office's weekly-report rules (subject: reporting-config)."""
    start_week = fields.String(required=True, validate=WEEK_FORMAT, metadata={
        "description": "the first week units report for (a unit joining later: from its first Monday)"})
    due_rule = fields.String(required=True, validate=validate.OneOf(DUE_RULES))
    escalation = fields.Nested(MissRungs, required=True)
    spot_check_ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1))

    @validates_schema
    def _climbs(self, data: dict, **_: Any) -> None:
        rungs = data.get("escalation") or {}
        used = [(s, rungs[s]) for s in ESCALATION_STEPS if isinstance(rungs.get(s), int)]
        for (lower, low), (higher, high) in zip(used, used[1:]):
            if high < low:
                raise ValidationError({higher: [f"不能小于{ESCALATION_STEPS[lower]}的阈值（{low}）"]}, "escalation")


class SpotCheckDraw(_Strict):
    unit = _name(required=True)
    draw = fields.Float(required=True, metadata={"description": "SHA-256(seed:unit), first 8 bytes ÷ 2^64"})
    selected = fields.Boolean(required=True, metadata={"description": "draw < ratio"})


class SpotCheckDrawnData(_Strict):
    """The month's zero reporters drawn for spot checks, with every input to recompute the draw."""
    month = fields.String(required=True, validate=MONTH_FORMAT)
    ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    nonce = fields.String(required=True, validate=validate.Length(min=1, max=100))
    seed = fields.String(required=True, metadata={
        "description": "month:nonce:SHA-256 of the sorted candidates joined by newlines"})
    weeks = fields.List(fields.String(validate=WEEK_FORMAT), required=True, metadata={
        "description": "the weeks of the month (their Thursday in it)"})
    candidates = fields.List(_name(), required=True, metadata={
        "description": "units with a zero report for one of the weeks, sorted"})
    draws = fields.List(fields.Nested(SpotCheckDraw), required=True)
    selected = fields.List(_name(), required=True)


class SpotCheckRecordedData(_Strict):
    month = fields.String(required=True, validate=MONTH_FORMAT)
    unit = _name(required=True)
    finding = fields.String(required=True, validate=validate.OneOf(SPOT_CHECK_FINDINGS))
    note = fields.String(required=True, allow_none=True, validate=validate.Length(max=4000))


@dataclass(frozen=True)
class EventType:
    type: str
    topic: str
    schema: Schema
    summary: str


CASE_TOPIC = "intake.case.events"
COMPLAINANT_TOPIC = "intake.complainant.events"
COMPLAINANT_STREAM = "complainant-{case_id}"
ACCOUNTABILITY_TOPIC = "intake.accountability.events"
DIRECTORY_TOPIC = "intake.directory.events"
DIRECTORY_STREAM = "directory"
CLIENT_TOPIC = "intake.client.events"
INSPECTION_TOPIC = "intake.inspection.events"
ESCALATION_TOPIC = "notify.escalation.events"
ESCALATION_CONFIG_STREAM = "escalation-config"
CAMPAIGN_TOPIC = "intake.campaign.events"
TASK_TOPIC = "intake.task.events"
PROJECT_TOPIC = "intake.project.events"
PROJECT_TYPES_STREAM = "project-types"


def _case(name: str, schema: Schema, summary: str) -> EventType:
    return EventType(f"cn.zhengfeng.case.{name}.v1", CASE_TOPIC, schema, summary)


def _directory(name: str, schema: Schema, summary: str) -> EventType:
    return EventType(f"cn.zhengfeng.directory.{name}.v1", DIRECTORY_TOPIC, schema, summary)


def _inspection(name: str, schema: Schema, summary: str) -> EventType:
    return EventType(f"cn.zhengfeng.{name}.v1", INSPECTION_TOPIC, schema, summary)


def _on(topic: str, name: str, schema: Schema, summary: str) -> EventType:
    return EventType(f"cn.zhengfeng.{name}.v1", topic, schema, summary)


_TYPES = [
    _case("received", CaseReceivedData(), "A lead was received from a channel and put on the ledger (受理)."),
    _case("assigned", CaseAssignedData(), "The office assigned the case to a lead unit with a deadline (交办)."),
    _case("reassigned", CaseReassignedData(), "The office assigned the case anew (改派)."),
    _case("accepted", CaseAcceptedData(), "The lead unit signed for the case (签收)."),
    _case("returned", CaseReturnedData(), "The lead unit returned the case as not theirs (退回)."),
    _case("progress_noted", ProgressNotedData(), "A lead or cooperating unit reported progress (进展)."),
    _case("extension_requested", ExtensionRequestedData(), "The lead unit asked for more time (延期申请)."),
    _case("extension_approved", ExtensionApprovedData(), "The office granted the extension."),
    _case("extension_denied", ExtensionDeniedData(), "The office refused the extension."),
    _case("rectification_reported", ReportData(), "The lead unit reported the problem rectified (整改报告)."),
    _case("dismissal_reported", ReportData(), "The lead unit found the lead not substantiated (查否)."),
    _case("closed", CaseClosedData(), "The office verified the rectification and signed the case off (销号)."),
    _case("rework_ordered", ReworkOrderedData(), "The office sent the report back to redo (退回重办/补课)."),
    _case("dismissal_accepted", DismissalAcceptedData(),
          "The office accepted the dismissal; the re-check draw is recorded with its inputs."),
    _case("recheck_chosen", RecheckChosenData(),
          "The office chose the dismissed case for re-check (复查) itself, beside the random draw: who, and why."),
    _case("recheck_upheld", RecheckUpheldData(), "The re-check confirmed the dismissal (复查属实查否)."),
    _case("recheck_overturned", RecheckOverturnedData(),
          "The re-check found the lead substantiated: the case reopens with a new deadline."),
    _case("return_visit_recorded", ReturnVisitData(), "The complainant's satisfaction was recorded (回访)."),
    _case("rehandling_ordered", RehandlingOrderedData(), "After an unsatisfied visit the case reopens (重办)."),
    _case("merged", MergedData(), "The case was merged into another as a duplicate (并单)."),
    _case("duplicate_absorbed", DuplicateAbsorbedData(), "Another case was merged into this one."),
    _case("complainant_erased", ComplainantErasedData(),
          "The complainant's personal data was erased on request (crypto-shredding of its data key)."),
    _case("summary_corrected", SummaryCorrectedData(),
          "The office corrected the summary of the lead that units, channels and the public read."),
    EventType("cn.zhengfeng.complainant.revealed.v1", COMPLAINANT_TOPIC, ComplainantRevealedData(),
              "A case's sealed complainant record was opened (subject: complainant-<case id>): who, when, why."),
    _case("numbered", CaseNumberedData(),
          "A case received before case numbers existed was given its number (案件编号), once."),
    _case("campaign_set", plans.CampaignSetData(), "The office put the case in a campaign (专项行动), or out of one."),
    _case("duplicate_dismissed", plans.DuplicateDismissedData(),
          "The office dismissed a duplicate suggestion (并单建议): the other case is a different matter."),
    EventType("cn.zhengfeng.accountability.recorded.v1", ACCOUNTABILITY_TOPIC, AccountabilityRecordedData(),
              "An accountability measure was decided (问责); subject is the record id."),
    _directory("unit_registered", UnitData(), "A unit was added to the office's directory."),
    _directory("unit_updated", UnitData(), "A unit's directory entry changed."),
    _directory("unit_robots_set", UnitRobotsData(),
               "The office set which group robots (WeCom, DingTalk) a unit's notices go to; references only."),
    _directory("category_added", CategoryData(), "A problem category was added to the taxonomy."),
    _directory("category_removed", CategoryData(), "A problem category was retired from the taxonomy."),
    _directory("limits_set", LimitsSetData(), "The office set its time limits and re-check ratio."),
    _directory("calendar_year_set", CalendarYearData(),
               "The office entered a year's official holiday schedule (holidays and make-up working days)."),
    EventType("cn.zhengfeng.client.registered.v1", CLIENT_TOPIC, ClientRegisteredData(),
              "The office issued an API client to a department (subject: the client id)."),
    EventType("cn.zhengfeng.client.key_rotated.v1", CLIENT_TOPIC, ClientKeyRotatedData(),
              "The office issued a client a new key; the earlier keys expire after the grace period."),
    EventType("cn.zhengfeng.client.revoked.v1", CLIENT_TOPIC, ClientRevokedData(),
              "The office revoked a client: every key stops at once."),
    _inspection("inspection.planned", InspectionPlannedData(),
                "The office planned an inspection (明察 announced / 暗访 unannounced); subject: the inspection."),
    _inspection("inspection.finding_recorded", FindingRecordedData(),
                "An inspection team found a problem at a target unit; it went on the ledger as case `case_id`."),
    _inspection("inspection.completed", InspectionCompletedData(), "The inspection is over; no more findings."),
    _inspection("inspection.cancelled", ReasonData(), "The inspection was called off before any finding."),
    _inspection("monitoring_point.registered", PointRegisteredData(),
                "The office appointed an efficiency monitoring point (效能监测点); subject: the point."),
    _inspection("monitoring_point.submission_recorded", SubmissionRecordedData(),
                "A monitoring point reported a problem; it went on the ledger as case `case_id`."),
    _inspection("monitoring_point.deactivated", ReasonData(), "The monitoring point stopped reporting."),
    _on(CAMPAIGN_TOPIC, "campaign.launched", plans.CampaignLaunchedData(),
        "The office launched a campaign (专项行动) with its phases and categories; subject: the campaign."),
    _on(CAMPAIGN_TOPIC, "campaign.revised", plans.CampaignRevisedData(),
        "The office revised the campaign's plan (调整方案): the whole plan as it now stands, and why."),
    _on(CAMPAIGN_TOPIC, "lookback.drawn", plans.LookbackDrawnData(),
        "The office drew closed cases and signed-off tasks for a look-back (回头看), reproducibly; subject: it."),
    _on(CAMPAIGN_TOPIC, "lookback.finding_recorded", plans.LookbackFindingData(),
        "A drawn item was checked again: held (巩固) or rebounded (反弹, a new case `case_id` in the same transaction)."),
    _on(TASK_TOPIC, "task.issued", plans.TaskIssuedData(),
        "The office issued a task with the five haves (五有) to a lead unit; subject: the task."),
    _on(TASK_TOPIC, "task.progress_reported", plans.TaskProgressData(), "A unit reported progress on a task."),
    _on(TASK_TOPIC, "task.milestone_reached", plans.MilestoneReachedData(), "The lead unit reached a milestone."),
    _on(TASK_TOPIC, "task.completion_reported", plans.CompletionReportedData(),
        "The lead unit reported the task complete, with its evidence."),
    _on(TASK_TOPIC, "task.signed_off", plans.TaskSignedOffData(), "The office signed the task off (销号)."),
    _on(TASK_TOPIC, "task.sent_back", plans.TaskSentBackData(),
        "The office sent the completion back to redo (退回/补课), optionally with a new deadline."),
    _on(TASK_TOPIC, "task.cancelled", plans.ReasonOnly(), "The office withdrew the task (撤销)."),
    _on(PROJECT_TOPIC, "project.type_set", plans.ProjectTypeSetData(),
        "The office set a project type's stages and time limits (subject: project-types)."),
    _on(PROJECT_TOPIC, "project.registered", plans.ProjectRegisteredData(),
        "A key project (重点项目) was put under whole-process monitoring; subject: the project."),
    _on(PROJECT_TOPIC, "project.stage_entered", plans.StageEnteredData(),
        "A project entered an approval or implementation stage; its time limit runs from then."),
    _on(PROJECT_TOPIC, "project.stage_completed", plans.StageCompletedData(),
        "A project's stage was completed, with the working days it took."),
    _on(PROJECT_TOPIC, "project.stage_case_opened", plans.StageCaseOpenedData(),
        "A stage past its limit and the grace became a case on channel project_monitoring."),
    EventType("cn.zhengfeng.escalation.step_issued.v1", ESCALATION_TOPIC, StepIssuedData(),
              "notify issued an escalation step (提醒, 督办函, 约谈, 通报批评, 提请问责): its threshold was crossed."),
    EventType("cn.zhengfeng.escalation.stopped.v1", ESCALATION_TOPIC, EscalationStoppedData(),
              "A case's escalation ladder stopped: reported, closed, signed for, or given a new date or unit."),
    EventType("cn.zhengfeng.escalation.config_set.v1", ESCALATION_TOPIC, EscalationConfigData(),
              "The office set the escalation thresholds (subject: escalation-config)."),
    EventType("cn.zhengfeng.bulletin.rules_set.v1", PUBLICATION_TOPIC, BulletinRulesData(),
              "The office set the assessment score's base, deductions and minimum cases (subject: bulletin-rules)."),
    EventType("cn.zhengfeng.bulletin.drafted.v1", PUBLICATION_TOPIC, BulletinDraftedData(),
              "A monthly bulletin (月通报) was drafted or redrafted with the figures as they were then."),
    EventType("cn.zhengfeng.bulletin.reviewed.v1", PUBLICATION_TOPIC, BulletinReviewedData(),
              "The office reviewed a bulletin draft: approved, or sent back with comments."),
    EventType("cn.zhengfeng.bulletin.published.v1", PUBLICATION_TOPIC, BulletinPublishedData(),
              "An approved monthly bulletin was published with its document number (everyone may read it now)."),
    EventType("cn.zhengfeng.interim.drafted.v1", PUBLICATION_TOPIC, InterimDraftedData(),
              "An interim report (阶段性通报) over any period was drafted or redrafted with the figures as they were then."),
    EventType("cn.zhengfeng.interim.reviewed.v1", PUBLICATION_TOPIC, InterimReviewedData(),
              "The office reviewed an interim report's draft: approved, or sent back with comments."),
    EventType("cn.zhengfeng.interim.published.v1", PUBLICATION_TOPIC, InterimPublishedData(),
              "An approved interim report was published with its own document number."),
    EventType("cn.zhengfeng.disclosure.drafted.v1", PUBLICATION_TOPIC, DisclosureDraftedData(),
              "The quarter's hotline handling figures were drafted for public disclosure."),
    EventType("cn.zhengfeng.disclosure.published.v1", PUBLICATION_TOPIC, DisclosurePublishedData(),
              "The quarter's hotline handling figures were published (seed 001: within 5 working days)."),
    EventType("cn.zhengfeng.appraisal.opened.v1", PUBLICATION_TOPIC, AppraisalOpenedData(),
              "The office opened a round of democratic appraisal (民主评议) of units for a quarter or a year."),
    EventType("cn.zhengfeng.appraisal.ballot_recorded.v1", PUBLICATION_TOPIC, AppraisalBallotData(),
              "One appraisal questionnaire was entered, by its number (once per round)."),
    EventType("cn.zhengfeng.appraisal.drafted.v1", PUBLICATION_TOPIC, AppraisalDraftedData(),
              "The round was closed and its results taken: each unit's grades, score, satisfaction rate and rank."),
    EventType("cn.zhengfeng.appraisal.reviewed.v1", PUBLICATION_TOPIC, AppraisalReviewedData(),
              "A second office user approved the results or sent them back (four eyes)."),
    EventType("cn.zhengfeng.appraisal.published.v1", PUBLICATION_TOPIC, AppraisalPublishedData(),
              "The results were published (通报): on the public page and feeds."),
    EventType("cn.zhengfeng.enforcement.recorded.v1", PUBLICATION_TOPIC, EnforcementRecordedData(),
              "A unit recorded an enforcement or supervision action; the party is asked by SMS to rate it (短信评议)."),
    EventType("cn.zhengfeng.enforcement.roster_published.v1", PUBLICATION_TOPIC, EnforcementRosterData(),
              "A unit's enforcement and supervision staff were published for the public to appraise (公述民评 公示): "
              "name, 执法证号, section, post and duties; each publication replaces the last."),
    EventType("cn.zhengfeng.enforcement.rated.v1", PUBLICATION_TOPIC, EnforcementRatedData(),
              "The party rated the action by SMS reply (once); counted as a ballot of an open round's SMS group."),
    EventType("cn.zhengfeng.exposure.selected.v1", PUBLICATION_TOPIC, ExposureSelectedData(),
              "The office selected a case for public exposure as a typical case (典型案例曝光)."),
    EventType("cn.zhengfeng.exposure.redacted.v1", PUBLICATION_TOPIC, ExposureRedactedData(),
              "The text to publish was redacted: personal data, the complainant's identity and marked phrases removed."),
    EventType("cn.zhengfeng.exposure.approved.v1", PUBLICATION_TOPIC, ExposureApprovedData(),
              "A second office user approved the redacted text (four eyes)."),
    EventType("cn.zhengfeng.exposure.published.v1", PUBLICATION_TOPIC, ExposurePublishedData(),
              "The approved exposure was published on the public page and feeds, exactly as `public` says."),
    EventType("cn.zhengfeng.exposure.withdrawn.v1", PUBLICATION_TOPIC, ExposureWithdrawnData(),
              "The exposure was withdrawn: it leaves the public page and feeds."),
    EventType("cn.zhengfeng.report.weekly_filed.v1", REPORT_TOPIC, WeeklyFiledData(),
              "A unit filed its weekly report (周报告) or a zero report (零报告), or corrected it (subject: weekly-<unit>)."),
    EventType("cn.zhengfeng.report.weekly_missed.v1", REPORT_TOPIC, WeeklyMissedData(),
              "A unit's weekly report was not in by its due date: flagged once, the next working day."),
    EventType("cn.zhengfeng.report.quarterly_filed.v1", REPORT_TOPIC, QuarterlyFiledData(),
              "A unit filed its quarterly work report (季度工作情况), or corrected it (subject: quarterly-<unit>)."),
    EventType("cn.zhengfeng.report.quarterly_missed.v1", REPORT_TOPIC, QuarterlyMissedData(),
              "A unit's quarterly work report was not in by the 5th working day after the quarter: flagged once, "
              "the next working day."),
    EventType("cn.zhengfeng.report.escalated.v1", REPORT_TOPIC, ReportEscalatedData(),
              "Consecutive missed weekly reports reached a step (提醒, 督办函, 约谈, 通报批评, 提请问责)."),
    EventType("cn.zhengfeng.report.config_set.v1", REPORT_TOPIC, ReportingConfigData(),
              "The weekly-report rules were set: first week, due rule, escalation, spot-check ratio."),
    EventType("cn.zhengfeng.report.spot_check_drawn.v1", REPORT_TOPIC, SpotCheckDrawnData(),
              "A month's zero reporters were drawn for spot checks (零报告抽查), reproducibly (subject: spot-checks)."),
    EventType("cn.zhengfeng.report.spot_check_recorded.v1", REPORT_TOPIC, SpotCheckRecordedData(),
              "The office recorded what the spot check of a drawn unit found."),
]
CATALOGUE: dict[str, EventType] = {t.type: t for t in _TYPES}
TOPICS: tuple[str, ...] = tuple(sorted({t.topic for t in _TYPES}))


def topics_of(service: str) -> tuple[str, ...]:
    """The topics a service publishes: they are named <service>.<aggregate>.events."""
    return tuple(t for t in TOPICS if t.startswith(f"{service}."))


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics() -> list[str]:
    """Every topic the system uses, dead-letter topics included."""
    return [t for topic in TOPICS for t in (topic, dlq_topic(topic))]


def is_known(event_type: str) -> bool:
    return event_type in CATALOGUE


def topic_for(event_type: str) -> str:
    return CATALOGUE[event_type].topic


_LOADERS: dict[str, Loader | None] = {}


def fast_loader(event_type: str) -> Loader | None:
    """The type's data schema compiled for the fast path (zfcommon.events.fastload), once per process;
    None when it uses something only marshmallow can decide."""
    if event_type not in _LOADERS:
        _LOADERS[event_type] = compile_schema(CATALOGUE[event_type].schema)
    return _LOADERS[event_type]


def validate_data(event_type: str, data: Any) -> dict[str, Any]:
    """Errors per field of `data` for its type, or {} when valid. The compiled schema vouches for the
    ordinary valid event; anything else, and every error, is marshmallow's."""
    if not isinstance(data, dict):
        return {"_schema": ["data must be a JSON object"]}
    schema = CATALOGUE[event_type].schema
    if fastload.vouches(fast_loader(event_type), schema, data):
        return {}
    try:
        schema.load(data)
    except ValidationError as exc:
        return exc.normalized_messages()
    return {}
