"""The ledger API's query parameters: filters, paging and their checks (422 names the field)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from zfcommon.events.catalogue import CHANNELS, HANDLING_MODES

from ..domain.statuses import STATUSES

NAME = validate.Length(min=1, max=200)
# webargs would silently drop unknown query parameters; unknown=None lets the schemas' Meta refuse them,
# so a misspelt filter is a 422 instead of a wider result than asked for.
IN_QUERY = {"location": "query", "unknown": None}


class CommaList(fields.List):
    """A repeatable query parameter that also takes a comma-separated list: ?status=a,b&status=c."""

    def _deserialize(self, value, attr, data, **kwargs):
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in items):
            raise ValidationError("须为一个或多个取值")
        split = [part.strip() for item in items for part in item.split(",")]
        if not all(split):
            raise ValidationError("列表中有空值")
        return super()._deserialize(split, attr, data, **kwargs)


def _ordered(data: dict, first: str, last: str, shown: tuple[str, str] | None = None) -> None:
    """`last` must not come before `first`; `shown` are their names in the query string."""
    shown_first, shown_last = shown or (first, last)
    if data.get(first) and data.get(last) and data[first] > data[last]:
        raise ValidationError(f"不能早于 {shown_first}", field_name=shown_last)


class _Strict(Schema):
    class Meta:
        unknown = "raise"


class OverdueFilter(_Strict):
    unit = fields.String(validate=NAME, metadata={"description": "lead or cooperating unit"})
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    handling_mode = fields.String(validate=validate.OneOf(HANDLING_MODES))


class CaseFilter(OverdueFilter):
    status = CommaList(fields.String(validate=validate.OneOf(STATUSES)),
                       metadata={"description": "repeat or comma-separate for several"})
    lead_unit = fields.String(validate=NAME)
    subject_unit = fields.String(validate=NAME, metadata={"description": "the unit complained about"})
    category = fields.String(validate=validate.Length(min=1, max=100))
    overdue = fields.Boolean(metadata={"description": "deadline running and past (docs/LEDGER.md)"})
    received_from = fields.Date(metadata={"description": "received on or after this day (China time)"})
    received_to = fields.Date(metadata={"description": "received on or before this day (China time)"})
    deadline_from = fields.Date()
    deadline_to = fields.Date()
    case_number = fields.String(validate=validate.Length(min=1, max=40),
                                metadata={"description": "exactly this case number (案件编号)"})
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "text in the description, a whole case number, or a case number's "
                                               "serial (123, 000123: in any year) or year and serial (2026-123)"})
    due_within = fields.Integer(validate=validate.Range(min=0, max=60), metadata={
        "description": "deadline running, not passed, and at most this many working days away (黄灯)"})
    campaign = fields.String(validate=NAME, metadata={"description": "cases of this campaign (专项行动)"})

    @validates_schema
    def _ranges(self, data, **_):
        _ordered(data, "received_from", "received_to")
        _ordered(data, "deadline_from", "deadline_to")


class CaseQuery(CaseFilter):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(metadata={"description": "next_cursor of the previous page, same filters"})


class OverdueQuery(OverdueFilter):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100_000))


class StatsQuery(_Strict):
    """Statistics are kept per month received: whole months are read from those sums; any other period
    (an interim report's) is counted from its cases, with the same definitions."""
    received_from = fields.Date(data_key="from", metadata={
        "description": "first day received (China time); a month's first day reads the monthly sums"})
    received_to = fields.Date(data_key="to", metadata={
        "description": "last day received (China time); a month's last day reads the monthly sums"})
    channel = fields.String(validate=validate.OneOf(CHANNELS),
                            metadata={"description": "only cases received through this channel (e.g. the "
                                                     "hotline's quarterly figures)"})

    @validates_schema
    def _range(self, data, **_):
        _ordered(data, "received_from", "received_to", shown=("from", "to"))


class SummaryQuery(_Strict):
    due_within = fields.Integer(load_default=3, validate=validate.Range(min=0, max=60), metadata={
        "description": "working days ahead that count as due soon (the office's yellow light)"})


class AsOfQuery(_Strict):
    at = fields.AwareDateTime(required=True, format="iso", metadata={"description": "RFC 3339 instant"})
