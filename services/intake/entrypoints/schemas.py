"""HTTP request and response schemas (marshmallow); the OpenAPI document is generated from them."""
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from zfcommon.events.catalogue import (CHANNELS, HANDLING_MODES, MEASURES, PRIORITIES, REVEAL_OUTCOMES, SATISFACTION,
                                       UNIT_KINDS)


class _Strict(Schema):
    class Meta:
        unknown = "raise"


class _OneOfTwoNames(_Strict):
    """One field a command takes under two names: the documented one (docs/STATE-MACHINE.md) and the
    name the API took before. Exactly one must be given; the command reads it under `STORED`, the
    name its event records it under."""
    DOCUMENTED: str
    STORED: str

    @validates_schema
    def _exactly_one(self, data, **_):
        given = [n for n in (self.DOCUMENTED, self.STORED) if n in data]
        if not given:
            raise ValidationError(f"必须填写（旧字段名 {self.STORED} 亦可）", self.DOCUMENTED)
        if len(given) == 2:
            raise ValidationError(f"{self.DOCUMENTED} 与 {self.STORED} 是同一项，只填其一", self.DOCUMENTED)

    @post_load
    def _stored_name(self, data, **_):
        if self.DOCUMENTED in data:
            data[self.STORED] = data.pop(self.DOCUMENTED)
        return data


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
    id_number = fields.String(validate=validate.Regexp(r"^[0-9]{15}$|^[0-9]{17}[0-9Xx]$",
                                                       error="身份证号应为15位数字，或17位数字加一位数字或X"),
                              allow_none=True, metadata={"description": "居民身份证号码 (15 or 18 characters)"})
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


TRACKING_CODE = ("查询码: eight digits to give the complainant: with the case number (or id, or the 12345 order "
                 "number), notify's public page (GET /public/track) shows them the unit's reply once the case is "
                 "closed; null when ZF_TRACKING_KEY is not set")


class CaseCreated(Schema):
    case_id = fields.String(required=True, metadata={"description": "the API's id of the case (UUID)"})
    case_number = fields.String(required=True, metadata={"description": "the human number, e.g. ZF-2026-000123"})
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    tracking_code = fields.String(required=True, allow_none=True, metadata={"description": TRACKING_CODE})


class Complainant(Schema):
    case_id = fields.String(required=True)
    erased = fields.Boolean(required=True)
    complainant = fields.Dict(allow_none=True)


class RevealIn(_Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "why the office looks at the complainant (e.g. 回访核实诉求); recorded with who and when"})


class Revealed(Complainant):
    outcome = fields.String(required=True, validate=validate.OneOf(list(REVEAL_OUTCOMES)), metadata={
        "description": "revealed; erased (the data key was destroyed); anonymous (no complainant)"})
    revealed_at = fields.AwareDateTime(required=True)
    revealed_by = fields.String(required=True)


class Reveal(Schema):
    time = fields.AwareDateTime(required=True)
    actor = fields.String(required=True)
    reason = fields.String(required=True)
    outcome = fields.String(required=True)


class Reveals(Schema):
    case_id = fields.String(required=True)
    items = fields.List(fields.Nested(Reveal), required=True)


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
    comment = fields.String(validate=validate.Length(max=4000), metadata={"description": "the office's words"})


class ExtensionDenyIn(_OneOfTwoNames):
    """Both extension decisions take the office's words as `comment`; a denial must give them."""
    DOCUMENTED, STORED = "comment", "reason"
    comment = _text(metadata={"description": "why the extension is refused"})
    reason = _text(metadata={"description": "older name of `comment`"})


class ReportIn(_Strict):
    text = _text(required=True)
    attachments = fields.List(fields.Nested(AttachmentIn), load_default=list, validate=validate.Length(max=50))


class DismissalReportIn(_OneOfTwoNames):
    """查否: the unit's findings (`text` is the older name)."""
    DOCUMENTED, STORED = "findings", "text"
    findings = _text(metadata={"description": "what the unit's check found (查否意见)"})
    text = _text(metadata={"description": "older name of `findings`"})
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


class RecheckChoiceIn(_Strict):
    reason = _text(required=True, metadata={"description": "why the office chooses this dismissal for re-check"})


class ReturnVisitIn(_Strict):
    satisfaction = fields.String(required=True, validate=validate.OneOf(list(SATISFACTION)))
    comment = fields.String(validate=validate.Length(max=4000))


class SummaryIn(_Strict):
    summary = _text(required=True, metadata={
        "description": "what units, channels and the public read of the lead; refused (422) while it holds the "
                       "complainant's identity or other personal data"})


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
    "deny_extension": ExtensionDenyIn, "report_rectified": ReportIn, "report_not_substantiated": DismissalReportIn,
    "close": CommentIn, "order_rework": ReopenIn, "accept_dismissal": CommentIn, "choose_recheck": RecheckChoiceIn,
    "record_recheck": RecheckIn, "record_return_visit": ReturnVisitIn, "order_rehandling": ReopenIn,
    "correct_summary": SummaryIn,
    "set_campaign": CampaignSetIn, "dismiss_duplicate": DuplicateDismissIn,
}


class CaseAfter(Schema):
    case_id = fields.String(required=True)
    case_number = fields.String(allow_none=True, metadata={
        "description": "the human number (案件编号), e.g. ZF-2026-000123; null only for a case received before "
                       "numbers existed and not numbered yet"})
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
    recheck_basis = fields.String(allow_none=True, metadata={
        "description": "why the dismissal is to be re-checked: draw (the random draw) or chosen (by the office)"})
    allowed_commands = fields.List(fields.String(), required=True)


class CaseState(CaseAfter):
    """The write side's view of a case, read straight from its events (no projection lag): what it was
    received as, where it stands, and the commands allowed now."""
    channel = fields.String()
    category = fields.String()
    subject_unit = fields.String()
    priority = fields.String()
    anonymous = fields.Boolean()
    description = fields.String(metadata={"description": "office and auditors: as received; others: the summary"})
    summary = fields.String(metadata={"description": "what units, channels and the public read (docs/PRIVACY.md)"})
    location = fields.Dict(allow_none=True, metadata={"description": "others read its address masked"})
    origin = fields.Dict(allow_none=True, metadata={"description": "catalogue OriginData: the source's own reference"})
    campaign_id = fields.String(allow_none=True, metadata={"description": "the campaign it belongs to"})
    tracking_code = fields.String(allow_none=True, metadata={"description": "the office only: " + TRACKING_CODE})
    permitted_commands = fields.List(fields.String(), metadata={
        "description": "of allowed_commands and the notes the state admits (set_campaign, dismiss_duplicate), "
                       "those the caller's role (and unit) may issue now"})


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


class DeadlineQuery(_Strict):
    handling_mode = fields.String(required=True, validate=validate.OneOf(list(HANDLING_MODES)))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))


class DeadlinePreview(Schema):
    from_date = fields.Date(required=True, metadata={"description": "today, where the working days are counted from"})
    handling_mode = fields.String(required=True)
    priority = fields.String(required=True)
    working_days = fields.Integer(required=True)
    deadline = fields.Date(required=True)
    sign_for_days = fields.Integer(required=True)
    sign_for_due = fields.Date(required=True)
