"""Request and response schemas of the inspection and monitoring point endpoints."""
from marshmallow import Schema, fields, validate

from zfcommon.events.catalogue import INSPECTION_MODES, POINT_KINDS, PRIORITIES

from .schemas import LocationIn, _Strict, _text, _unit


def _date(**kw):
    return fields.String(metadata={"format": "date"}, **kw)


def _time(**kw):
    return fields.String(metadata={"format": "date-time"}, **kw)


def _note(**kw):
    return fields.String(validate=validate.Length(max=4000), allow_none=True, load_default=None, **kw)


class EvidenceIn(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    url = fields.Url(required=True, schemes={"http", "https"})
    sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$", error="须为 64 位小写十六进制数字"),
                           allow_none=True, load_default=None,
                           metadata={"description": "SHA-256 of the file, so it can be checked later"})
    taken_at = fields.AwareDateTime(allow_none=True, load_default=None)


class LeadIn(_Strict):
    """A problem seen at a unit: becomes a case (channel `inspection` or `monitoring_point`)."""
    unit = _unit(required=True, metadata={"description": "the unit the problem is about (a target unit)"})
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = _text(required=True)
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    location = fields.Nested(LocationIn, allow_none=True, load_default=None)
    evidence = fields.List(fields.Nested(EvidenceIn), load_default=list, validate=validate.Length(max=50))
    observed_on = fields.Date(allow_none=True, load_default=None)


class TeamMemberIn(_Strict):
    name = _unit(required=True)
    role = fields.String(validate=validate.Length(max=100), allow_none=True, load_default=None,
                         metadata={"description": "e.g. 组长, 组员, 特邀监督员"})
    organisation = fields.String(validate=validate.Length(max=200), allow_none=True, load_default=None)


class InspectionIn(_Strict):
    title = _unit(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(list(INSPECTION_MODES)),
                         metadata={"description": "announced 明察 / unannounced 暗访 (hidden from units)"})
    target_units = fields.List(_unit(), required=True, validate=validate.Length(min=1, max=200))
    team = fields.List(fields.Nested(TeamMemberIn), required=True, validate=validate.Length(min=1, max=50))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    focus = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                        validate=validate.Length(max=50), metadata={"description": "categories looked for"})
    note = _note()
    campaign_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200),
                                metadata={"description": "the campaign it serves; its findings' cases join it"})


class CompleteIn(_Strict):
    summary = _note()


class PointIn(_Strict):
    name = _unit(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(POINT_KINDS)),
                         metadata={"description": "one of: " + ", ".join(POINT_KINDS)})
    organisation = fields.String(validate=validate.Length(max=200), allow_none=True, load_default=None)
    location = fields.Nested(LocationIn, allow_none=True, load_default=None)
    watched_units = fields.List(_unit(), load_default=list, validate=validate.Length(max=200),
                                metadata={"description": "units it reports on; empty: any unit"})
    note = _note()


class PageQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    before = fields.Integer(validate=validate.Range(min=1), metadata={"description": "the previous page's `next`"})


class InspectionQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(["planned", "under_way", "completed", "cancelled"]))
    unit = _unit(metadata={"description": "only inspections targeting this unit"})


class PointQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(["active", "deactivated"]))


class LeadOut(Schema):
    case_id = fields.String(required=True)
    case_number = fields.String(allow_none=True, metadata={"description": "the case's human number"})
    unit = fields.String(required=True)
    category = fields.String(required=True)
    description = fields.String(required=True)
    priority = fields.String(required=True)
    location = fields.Dict(allow_none=True)
    evidence = fields.List(fields.Dict(), required=True)
    observed_on = _date(allow_none=True)
    recorded_at = _time(required=True)


class FindingOut(LeadOut):
    finding_id = fields.String(required=True)


class SubmissionOut(LeadOut):
    submission_id = fields.String(required=True)


class InspectionOut(Schema):
    inspection_id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "planned, under_way, completed, cancelled"})
    title = fields.String(required=True)
    mode = fields.String(required=True)
    target_units = fields.List(fields.String(), required=True)
    team = fields.List(fields.Dict(), allow_none=True, metadata={"description": "null for units on 暗访"})
    starts_on = _date(required=True)
    ends_on = _date(required=True)
    focus = fields.List(fields.String(), required=True)
    note = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    campaign_id = fields.String(allow_none=True, metadata={"description": "the campaign it serves"})
    planned_at = _time(allow_none=True)
    closed_at = _time(allow_none=True)
    finding_count = fields.Integer(required=True)
    findings = fields.List(fields.Nested(FindingOut), metadata={"description": "a unit sees its own only"})
    allowed_commands = fields.List(fields.String(), required=True)


class InspectionPage(Schema):
    items = fields.List(fields.Nested(InspectionOut), required=True)
    next = fields.Integer(allow_none=True, required=True)


class PointOut(Schema):
    point_id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "active or deactivated"})
    name = fields.String(required=True)
    kind = fields.String(required=True)
    organisation = fields.String(allow_none=True)
    location = fields.Dict(allow_none=True)
    watched_units = fields.List(fields.String(), required=True)
    note = fields.String(allow_none=True)
    deactivation_reason = fields.String(allow_none=True)
    registered_at = _time(allow_none=True)
    deactivated_at = _time(allow_none=True)
    submission_count = fields.Integer(required=True)
    submissions = fields.List(fields.Nested(SubmissionOut))
    allowed_commands = fields.List(fields.String(), required=True)


class PointPage(Schema):
    items = fields.List(fields.Nested(PointOut), required=True)
    next = fields.Integer(allow_none=True, required=True)


class LeadRecorded(Schema):
    """A finding or submission and the case it became."""
    case_id = fields.String(required=True)
    case_number = fields.String(required=True, metadata={"description": "the case's human number"})
    finding_id = fields.String()
    submission_id = fields.String()
    source_id = fields.String(required=True, metadata={"description": "the inspection or monitoring point"})
    version = fields.Integer(required=True, metadata={"description": "the source's version after"})
