"""HTTP request and response schemas (marshmallow); the OpenAPI document is generated from them."""
from marshmallow import Schema, fields, validate

from zfcommon.events.catalogue import CHANNELS, HANDLING_MODES, MEASURES, PRIORITIES, SATISFACTION, UNIT_KINDS


class _Strict(Schema):
    class Meta:
        unknown = "raise"


class LocationIn(_Strict):
    address = fields.String(validate=validate.Length(min=1, max=500), allow_none=True)
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_none=True, allow_nan=False)
    lon = fields.Float(validate=validate.Range(min=-180, max=180), allow_none=True, allow_nan=False)


class ComplainantIn(_Strict):
    """Personal data: sealed before it is stored; returned only to the office."""
    name = fields.String(validate=validate.Length(min=1, max=100), allow_none=True)
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9][0-9 \-]{4,30}$"), allow_none=True)
    email = fields.Email(allow_none=True)
    address = fields.String(validate=validate.Length(max=500), allow_none=True)
    confidential = fields.Boolean(load_default=True)


class CaseIn(_Strict):
    channel = fields.String(required=True, validate=validate.OneOf(list(CHANNELS)),
                            metadata={"description": "one of: " + ", ".join(CHANNELS)})
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    subject_unit = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                 metadata={"description": "the unit the lead is about (被反映单位)"})
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    location = fields.Nested(LocationIn, allow_none=True, load_default=None)
    complainant = fields.Nested(ComplainantIn, allow_none=True, load_default=None,
                                metadata={"description": "omit or null for an anonymous lead"})
    campaign_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=200),
                                metadata={"description": "the campaign (专项行动) the lead belongs to"})


class CaseCreated(Schema):
    case_id = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)


class CaseState(Schema):
    """The write side's view of a case, read straight from its events (no projection lag)."""
    case_id = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    channel = fields.String()
    category = fields.String()
    subject_unit = fields.String()
    priority = fields.String()
    anonymous = fields.Boolean()
    origin = fields.Dict(allow_none=True, metadata={"description": "catalogue OriginData: the source's own reference"})
    campaign_id = fields.String(allow_none=True, metadata={"description": "the campaign it belongs to"})


class Complainant(Schema):
    case_id = fields.String(required=True)
    erased = fields.Boolean(required=True)
    complainant = fields.Dict(allow_none=True)


class Empty(_Strict):
    pass


class AttachmentIn(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    url = fields.Url(required=True, schemes={"http", "https"})


def _text(**kw):
    return fields.String(validate=validate.Length(min=1, max=4000), **kw)


def _unit(**kw):
    return fields.String(validate=validate.Length(min=1, max=200), **kw)


class AssignIn(_Strict):
    lead_unit = _unit(required=True)
    cooperating_units = fields.List(_unit(), load_default=list, validate=validate.Length(max=20))
    handling_mode = fields.String(required=True, validate=validate.OneOf(list(HANDLING_MODES)),
                                  metadata={"description": "immediate 立行立改, deadline 限期整改, long_term 长期整改"})
    deadline = fields.Date(metadata={"description": "explicit deadline; default: working days from the limits"})
    note = fields.String(validate=validate.Length(max=4000))


class ReassignIn(AssignIn):
    reason = _text(required=True)


class ReasonIn(_Strict):
    reason = _text(required=True)


class NoteIn(_Strict):
    note = _text(required=True)


class ExtensionRequestIn(_Strict):
    reason = _text(required=True)
    requested_deadline = fields.Date(required=True)


class ExtensionApproveIn(_Strict):
    new_deadline = fields.Date(metadata={"description": "default: the requested date"})
    comment = fields.String(validate=validate.Length(max=4000))


class ReportIn(_Strict):
    text = _text(required=True)
    attachments = fields.List(fields.Nested(AttachmentIn), load_default=list, validate=validate.Length(max=50))


class CommentIn(_Strict):
    comment = fields.String(validate=validate.Length(max=4000))


class ReopenIn(_Strict):
    reason = _text(required=True)
    new_deadline = fields.Date(metadata={"description": "default: working days from the limits"})


class RecheckIn(_Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(["upheld", "overturned"]))
    findings = _text(required=True)
    new_deadline = fields.Date()
    measure = fields.String(validate=validate.OneOf(list(MEASURES)))


class ReturnVisitIn(_Strict):
    satisfaction = fields.String(required=True, validate=validate.OneOf(list(SATISFACTION)))
    comment = fields.String(validate=validate.Length(max=4000))


class MergeIn(_Strict):
    into_case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reason = fields.String(validate=validate.Length(max=4000))


class CampaignSetIn(_Strict):
    campaign_id = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=200),
                                metadata={"description": "the campaign; null takes the case out of its campaign"})


class DuplicateDismissIn(_Strict):
    candidate_case_id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                      metadata={"description": "the suggested case that is a different matter"})
    score = fields.Float(validate=validate.Range(min=0, max=1), metadata={"description": "the suggestion's score"})
    reason = fields.String(validate=validate.Length(max=4000))


COMMAND_SCHEMAS = {
    "assign": AssignIn, "reassign": ReassignIn, "merge": MergeIn, "accept": Empty, "return": ReasonIn,
    "note_progress": NoteIn, "request_extension": ExtensionRequestIn, "approve_extension": ExtensionApproveIn,
    "deny_extension": ReasonIn, "report_rectified": ReportIn, "report_not_substantiated": ReportIn,
    "close": CommentIn, "order_rework": ReopenIn, "accept_dismissal": CommentIn, "record_recheck": RecheckIn,
    "record_return_visit": ReturnVisitIn, "order_rehandling": ReopenIn, "set_campaign": CampaignSetIn,
    "dismiss_duplicate": DuplicateDismissIn,
}


class CaseAfter(Schema):
    case_id = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    lead_unit = fields.String(allow_none=True)
    cooperating_units = fields.List(fields.String())
    handling_mode = fields.String(allow_none=True)
    deadline = fields.Date(allow_none=True)
    sign_for_due = fields.Date(allow_none=True)
    extension_pending = fields.Boolean()
    rework_count = fields.Integer()
    recheck_pending = fields.Boolean()
    allowed_commands = fields.List(fields.String(), required=True)


class AccountabilityIn(_Strict):
    measure = fields.String(required=True, validate=validate.OneOf(list(MEASURES)))
    target_kind = fields.String(required=True, validate=validate.OneOf(["unit", "person"]))
    target = _unit(required=True)
    unit = _unit(required=True)
    basis_cases = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                              validate=validate.Length(min=1, max=100))
    reason = _text(required=True)
    decided_by = _unit(metadata={"description": "who decided; default: the acting principal"})


class ContactIn(_Strict):
    name = _unit(required=True)
    role = fields.String(validate=validate.Length(max=100), allow_none=True, load_default=None)
    phone = fields.String(validate=validate.Length(max=40), allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None)


class UnitIn(_Strict):
    name = _unit(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(UNIT_KINDS)))
    supervising_channel = _unit(required=True, metadata={"description": "who the unit reports to"})
    contacts = fields.List(fields.Nested(ContactIn), load_default=list)
    active = fields.Boolean(load_default=True)


class CategoryIn(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    group = fields.String(required=True, validate=validate.Length(min=1, max=100))


class LimitsIn(_Strict):
    limits = fields.Dict(keys=fields.String(validate=validate.OneOf(list(HANDLING_MODES))),
                         values=fields.Dict(keys=fields.String(validate=validate.OneOf(PRIORITIES)),
                                            values=fields.Integer(validate=validate.Range(min=1, max=1000))),
                         required=True)
    sign_for_days = fields.Integer(required=True, validate=validate.Range(min=1, max=30))
    recheck_ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    calendar_fallback = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["weekends"]))


class CalendarYearIn(_Strict):
    holidays = fields.List(fields.Date(), required=True)
    workdays = fields.List(fields.Date(), required=True)


class DirectoryOut(Schema):
    version = fields.Integer(required=True)
    units = fields.List(fields.Dict(), required=True)
    categories = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    limits = fields.Dict(required=True)
    sign_for_days = fields.Integer(required=True)
    recheck_ratio = fields.Float(required=True)
    calendar_fallback = fields.String(allow_none=True)
    calendar_years = fields.List(fields.Integer(), required=True)


class ErasureIn(_Strict):
    reason = _text(required=True, metadata={"description": "the request it fulfils, e.g. its reference"})
