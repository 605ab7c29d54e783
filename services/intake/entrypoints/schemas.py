"""HTTP request and response schemas (marshmallow); the OpenAPI document is generated from them."""
from marshmallow import Schema, fields, validate

from zfcommon.events.catalogue import CHANNELS, PRIORITIES


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


class Complainant(Schema):
    case_id = fields.String(required=True)
    erased = fields.Boolean(required=True)
    complainant = fields.Dict(allow_none=True)
