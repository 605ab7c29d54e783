"""Request and response bodies of /v1/bulletins and /v1/disclosures."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from zfcommon.events.catalogue import MONTH_FORMAT, QUARTER_FORMAT, REVIEW_DECISIONS, BulletinRulesData


MAX_INTERIM_DAYS = 366


class _Strict(Schema):
    class Meta:
        unknown = "raise"


class TypicalPick(_Strict):
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    text = fields.String(validate=validate.Length(min=1, max=4000), metadata={
        "description": "the office's wording; default: the ledger's description (phone, ID and e-mail masked)"})


class RedraftIn(_Strict):
    typical_cases = fields.List(fields.Nested(TypicalPick), validate=validate.Length(max=20), metadata={
        "description": "典型案例 picked by the office; on a redraft, absent keeps the previous picks"})
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class DraftIn(RedraftIn):
    month = fields.String(required=True, validate=MONTH_FORMAT)


class InterimDraftIn(RedraftIn):
    start = fields.Date(required=True, data_key="from", metadata={"description": "the period's first day"})
    end = fields.Date(required=True, data_key="to", metadata={
        "description": "its last day: today at the latest (a period so far); at most 366 days after `from`"})

    @validates_schema
    def _period(self, data, **_):
        if data["end"] < data["start"]:
            raise ValidationError("统计期的最后一天不能早于第一天", "to")
        if (data["end"] - data["start"]).days >= MAX_INTERIM_DAYS:
            raise ValidationError(f"统计期最长 {MAX_INTERIM_DAYS} 天", "to")


class ReviewIn(_Strict):
    decision = fields.String(required=True, validate=validate.OneOf(REVIEW_DECISIONS))
    comments = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class RulesOut(Schema):
    rules = fields.Nested(BulletinRulesData, required=True)
    version = fields.Integer(required=True, metadata={"description": "0: the defaults (never set)"})


class Review(Schema):
    revision = fields.Integer()
    decision = fields.String()
    comments = fields.String(allow_none=True)
    by = fields.String()
    at = fields.String(metadata={"description": "RFC 3339 time of the review"})


class Links(Schema):
    html = fields.String()
    pdf = fields.String()
    xlsx = fields.String()


class Document(Schema):
    number = fields.String(metadata={"description": "文号"})
    year = fields.Integer()
    sequence = fields.Integer()
    issuer = fields.String(metadata={"description": "the issuing office (发文机关)"})
    issued_on = fields.String(metadata={"description": "the issue date (China), YYYY-MM-DD"})


class PublicationSummary(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={
        "description": "bulletin (月通报) | interim (阶段性通报, over any period) | disclosure (quarterly)"})
    title = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "drafted | changes_requested | approved | published"})
    version = fields.Integer()
    revision = fields.Integer()
    drafted_at = fields.DateTime()
    drafted_by = fields.String()
    reviews = fields.List(fields.Nested(Review))
    published_at = fields.DateTime(allow_none=True)
    digest = fields.String(allow_none=True, metadata={"description": "SHA-256 of the published data"})
    on_time = fields.Boolean(allow_none=True)
    document = fields.Nested(Document, allow_none=True, metadata={
        "description": "once published: its number (文号), issuer and issue date (bulletins and interim reports)"})
    links = fields.Nested(Links)


class Publication(PublicationSummary):
    data = fields.Dict(required=True, metadata={
        "description": "catalogue BulletinDraftedData / InterimDraftedData / DisclosureDraftedData"})


class PublicationList(Schema):
    items = fields.List(fields.Nested(PublicationSummary), required=True)


class DisclosureDraftIn(_Strict):
    quarter = fields.String(required=True, validate=QUARTER_FORMAT)


class QuarterStatus(Schema):
    quarter = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "not_drafted | drafted | published"})
    due = fields.Date(allow_none=True, metadata={"description": "5th working day after the quarter (seed 001)"})
    calendar_gap = fields.String(allow_none=True, metadata={"description": "why the due date is not known yet"})
    published_at = fields.DateTime(allow_none=True)
    on_time = fields.Boolean(allow_none=True)
    overdue = fields.Boolean(required=True, metadata={"description": "past its due date and still unpublished"})
    links = fields.Nested(Links, allow_none=True)


class DisclosureList(Schema):
    today = fields.Date(required=True)
    items = fields.List(fields.Nested(QuarterStatus), required=True)
