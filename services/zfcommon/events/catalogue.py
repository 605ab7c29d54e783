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


class CaseReceivedData(_Strict):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    subject_unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    location = fields.Nested(LocationData, allow_none=True, required=True)
    anonymous = fields.Boolean(required=True)
    complainant = fields.Nested(SealedData, allow_none=True, required=True)


@dataclass(frozen=True)
class EventType:
    type: str
    topic: str
    schema: Schema
    summary: str


CASE_TOPIC = "intake.case.events"

_TYPES = [
    EventType("cn.zhengfeng.case.received.v1", CASE_TOPIC, CaseReceivedData(),
              "A lead was received from a channel and put on the ledger (受理)."),
]
CATALOGUE: dict[str, EventType] = {t.type: t for t in _TYPES}
TOPICS: tuple[str, ...] = tuple(sorted({t.topic for t in _TYPES}))


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
