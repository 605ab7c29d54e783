"""Request and response bodies of notify's webhook API."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

STATUSES = ("pending", "delivered", "dead")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class SubscriptionIn(_Strict):
    unit = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "the unit whose cases (as lead or cooperating unit) it receives"})
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                        metadata={"description": "https; plain http only to a loopback address (development)"})
    event_types = fields.List(fields.String(), validate=validate.Length(min=1), allow_none=True,
                              metadata={"description": "case event types to receive; absent or null: all"})
    description = fields.String(allow_none=True, validate=validate.Length(max=500))


class RotateIn(_Strict):
    grace_hours = fields.Integer(load_default=24, validate=validate.Range(min=0, max=7 * 24),
                                 metadata={"description": "how long the old secret still signs beside the new"})


class Subscription(Schema):
    id = fields.String(required=True)
    unit = fields.String(required=True)
    url = fields.String(required=True)
    event_types = fields.List(fields.String(), allow_none=True)
    description = fields.String(allow_none=True)
    active = fields.Boolean(required=True)
    disabled_reason = fields.String(allow_none=True, metadata={"description": "manual, gone (410) or failing"})
    disabled_at = fields.DateTime(allow_none=True)
    owner_notice = fields.String(allow_none=True, metadata={"description": "due: the owner must be told"})
    previous_secret_until = fields.DateTime(allow_none=True,
                                            metadata={"description": "the old secret signs too until then"})
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)


class SubscriptionWithSecret(Subscription):
    secret = fields.String(required=True, metadata={"description": "whsec_…: shown this once only"})


class SubscriptionQuery(_Strict):
    unit = fields.String(validate=validate.Length(min=1, max=200))


class DeliveryAttempt(Schema):
    attempted_at = fields.DateTime(required=True)
    status_code = fields.Integer(allow_none=True, metadata={"description": "null: no HTTP answer"})
    duration_ms = fields.Integer(required=True)
    error = fields.String(allow_none=True)
    response = fields.String(allow_none=True, metadata={"description": "the start of the answer's body"})
    next_attempt_at = fields.DateTime(allow_none=True)


class Delivery(Schema):
    id = fields.String(required=True, metadata={"description": "the webhook-id, the same on every attempt"})
    subscription_id = fields.String(allow_none=True)
    case_id = fields.String(allow_none=True)
    event_id = fields.String(allow_none=True)
    event_type = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    attempts = fields.Integer(required=True, metadata={"description": "attempts since it was (re)queued"})
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(allow_none=True)
    attempts_log = fields.List(fields.Nested(DeliveryAttempt), data_key="log")


class DeliveryQuery(_Strict):
    status = fields.String(validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
