"""Building blocks of the event schemas that more than one module of the catalogue uses: the strict
base schema, names and texts, a location, attachments and evidence."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class Strict(Schema):
    class Meta:
        unknown = "raise"


def name_field(**kw):
    return fields.String(validate=validate.Length(min=1, max=200), **kw)


def text_field(**kw):
    return fields.String(validate=validate.Length(min=1, max=4000), **kw)


class LocationData(Strict):
    address = fields.String(validate=validate.Length(max=500), allow_none=True)
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_none=True)
    lon = fields.Float(validate=validate.Range(min=-180, max=180), allow_none=True)


class Attachment(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class Evidence(Attachment):
    """A photo, recording or document kept elsewhere: `sha256` of its bytes lets anyone check later
    that the file is the one recorded; `taken_at` when it was captured."""
    sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$"), allow_none=True)
    taken_at = fields.AwareDateTime(allow_none=True)
