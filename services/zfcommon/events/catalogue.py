"""The event catalogue: every event type, the topic it travels on, and its data schema.

This module is the single source of truth; docs/EVENTS.md is generated from it
(`zf catalogue > docs/EVENTS.md`) and a test keeps the two equal.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

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
}
PRIORITIES = ("normal", "urgent", "critical")


class _Strict(Schema):
    class Meta:
        unknown = "raise"


class LocationData(_Strict):
    address = fields.String(validate=validate.Length(max=500), allow_none=True)
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_none=True)
    lon = fields.Float(validate=validate.Range(min=-180, max=180), allow_none=True)


class SealedData(_Strict):
    """Complainant identity and contact, AES-256-GCM encrypted under a per-case data key.

    Neither Kafka nor the trail ever holds them in clear; destroying the data key (kid) shreds them.
    """
    kid = fields.String(required=True, validate=validate.Length(min=1, max=100))
    nonce = fields.String(required=True)
    ciphertext = fields.String(required=True)


ORIGIN_SYSTEMS = {"hotline": "12345热线工单", "open311": "Open311接口", "inspection": "明察暗访发现",
                  "monitoring_point": "效能监测点报送", "import": "台账导入", "api": "部门接口"}


class OriginData(_Strict):
    """Where a lead came from outside Zhengfeng, so callbacks and re-imports can find it again:
    `system` names the source, `ref` its own identifier (hotline order number, Open311 request,
    inspection finding, import row key), `parent` the larger thing it belongs to (inspection,
    monitoring point, import batch), `extra` anything the source needs echoed back."""
    system = fields.String(required=True, validate=validate.OneOf(ORIGIN_SYSTEMS))
    ref = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent = fields.String(allow_none=True, validate=validate.Length(max=200))
    extra = fields.Dict(keys=fields.String(), allow_none=True)


class CaseReceivedData(_Strict):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    subject_unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    location = fields.Nested(LocationData, allow_none=True, required=True)
    anonymous = fields.Boolean(required=True)
    complainant = fields.Nested(SealedData, allow_none=True, required=True)
    origin = fields.Nested(OriginData, allow_none=True)   # absent or null: entered in Zhengfeng itself
    attachments = fields.List(fields.Nested(lambda: Evidence()), validate=validate.Length(max=50),
                              metadata={"description": "evidence that came with the lead (inspection finding, "
                                                       "monitoring point submission); absent: none"})


HANDLING_MODES = {"immediate": "立行立改", "deadline": "限期整改", "long_term": "长期整改"}
UNIT_KINDS = {"township": "乡镇", "party_department": "党群部门", "government_department": "政府部门",
              "school": "学校", "state_enterprise": "国有企业", "other": "其他"}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
MEASURES = {"reminder_talk": "提醒谈话", "criticism_education": "批评教育", "ordered_inspection": "责令检查",
            "admonishment": "诫勉", "bulletin_criticism": "通报批评", "organisational": "组织处理",
            "disciplinary": "纪律处分"}


def _name(**kw):
    return fields.String(validate=validate.Length(min=1, max=200), **kw)


def _text(**kw):
    return fields.String(validate=validate.Length(min=1, max=4000), **kw)


class Attachment(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class Evidence(Attachment):
    """A photo, recording or document kept elsewhere: `sha256` of its bytes lets anyone check later
    that the file is the one recorded; `taken_at` when it was captured."""
    sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$"), allow_none=True)
    taken_at = fields.AwareDateTime(allow_none=True)


class DeadlineBasis(_Strict):
    """How a deadline was set, so anyone can recompute it: `limit` = working days from the office's
    limits for the mode and priority, counted from `from_date`; `explicit` = given by the office."""
    rule = fields.String(required=True, validate=validate.OneOf(["limit", "explicit"]))
    from_date = fields.Date(required=True)
    working_days = fields.Integer(allow_none=True, required=True, validate=validate.Range(min=1, max=1000))


class CaseAssignedData(_Strict):
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


class UnitActionData(_Strict):
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


class ExtensionApprovedData(_Strict):
    previous_deadline = fields.Date(required=True)
    new_deadline = fields.Date(required=True)
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))


class ExtensionDeniedData(_Strict):
    reason = _text(required=True)


class ReportData(UnitActionData):
    text = _text(required=True)
    attachments = fields.List(fields.Nested(Attachment), required=True)


class CaseClosedData(_Strict):
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))
    on_time = fields.Boolean(required=True)


class ReworkOrderedData(_Strict):
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


class DismissalAcceptedData(_Strict):
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))
    recheck = fields.Nested(RecheckDraw, required=True)


class RecheckUpheldData(_Strict):
    findings = _text(required=True)


class RecheckOverturnedData(_Strict):
    findings = _text(required=True)
    new_deadline = fields.Date(required=True)
    accountability_id = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ReturnVisitData(_Strict):
    satisfaction = fields.String(required=True, validate=validate.OneOf(SATISFACTION))
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000))


class RehandlingOrderedData(_Strict):
    reason = _text(required=True)
    new_deadline = fields.Date(required=True)


class MergedData(_Strict):
    into_case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reason = fields.String(allow_none=True, validate=validate.Length(max=4000))


class ComplainantErasedData(_Strict):
    """PIPL erasure: the data key `kid` was destroyed, so the sealed complainant data in every copy of
    the received event (store, Kafka, trail, exports) can no longer be opened."""
    kid = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = _text(required=True)


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


class CalendarYearData(_Strict):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2200))
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


class LeadData(_Strict):
    """A problem seen at a unit; `case_id` is the case it was put on the ledger as, in the same transaction."""
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
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


@dataclass(frozen=True)
class EventType:
    type: str
    topic: str
    schema: Schema
    summary: str


CASE_TOPIC = "intake.case.events"
ACCOUNTABILITY_TOPIC = "intake.accountability.events"
DIRECTORY_TOPIC = "intake.directory.events"
DIRECTORY_STREAM = "directory"
CLIENT_TOPIC = "intake.client.events"
INSPECTION_TOPIC = "intake.inspection.events"


def _case(name: str, schema: Schema, summary: str) -> EventType:
    return EventType(f"cn.zhengfeng.case.{name}.v1", CASE_TOPIC, schema, summary)


def _directory(name: str, schema: Schema, summary: str) -> EventType:
    return EventType(f"cn.zhengfeng.directory.{name}.v1", DIRECTORY_TOPIC, schema, summary)


def _inspection(name: str, schema: Schema, summary: str) -> EventType:
    return EventType(f"cn.zhengfeng.{name}.v1", INSPECTION_TOPIC, schema, summary)

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
    _case("recheck_upheld", RecheckUpheldData(), "The re-check confirmed the dismissal (复查属实查否)."),
    _case("recheck_overturned", RecheckOverturnedData(),
          "The re-check found the lead substantiated: the case reopens with a new deadline."),
    _case("return_visit_recorded", ReturnVisitData(), "The complainant's satisfaction was recorded (回访)."),
    _case("rehandling_ordered", RehandlingOrderedData(), "After an unsatisfied visit the case reopens (重办)."),
    _case("merged", MergedData(), "The case was merged into another as a duplicate (并单)."),
    _case("duplicate_absorbed", DuplicateAbsorbedData(), "Another case was merged into this one."),
    _case("complainant_erased", ComplainantErasedData(),
          "The complainant's personal data was erased on request (crypto-shredding of its data key)."),
    EventType("cn.zhengfeng.accountability.recorded.v1", ACCOUNTABILITY_TOPIC, AccountabilityRecordedData(),
              "An accountability measure was decided (问责); subject is the record id."),
    _directory("unit_registered", UnitData(), "A unit was added to the office's directory."),
    _directory("unit_updated", UnitData(), "A unit's directory entry changed."),
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


def validate_data(event_type: str, data: Any) -> dict[str, Any]:
    """Errors per field of `data` for its type, or {} when valid."""
    if not isinstance(data, dict):
        return {"_schema": ["data must be a JSON object"]}
    try:
        CATALOGUE[event_type].schema.load(data)
    except ValidationError as exc:
        return exc.normalized_messages()
    return {}
