"""CloudEvents 1.0 structured-mode envelope, validated on write and on read.

We validate required attributes ourselves (marshmallow) instead of trusting an SDK that fills in a
missing id or time: an event without an id would defeat every dedupe key downstream.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from .. import tracing
from . import catalogue, fastload

SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
TYPE_PATTERN = re.compile(r"^cn\.zhengfeng\.[a-z_]+(\.[a-z_]+)+\.v[0-9]+$")
EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")


class InvalidEvent(ValueError):
    """An event that does not match the envelope or its type's data schema."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(json.dumps(errors, ensure_ascii=False, sort_keys=True))
        self.errors = errors


@dataclass(frozen=True)
class Event:
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    data: dict[str, Any]
    streamversion: int
    correlationid: str
    actor: str
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return catalogue.topic_for(self.type)

    def to_dict(self) -> dict[str, Any]:
        body = {
            "specversion": SPECVERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(timespec="microseconds"),
            "datacontenttype": "application/json",
            "streamversion": self.streamversion,
            "correlationid": self.correlationid,
            "actor": self.actor,
            "partitionkey": self.subject,
            "data": self.data,
        }
        body.update(self.extensions)
        return body


class _EnvelopeSchema(Schema):
    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.Regexp(r"^/zhengfeng/[a-z]+$"))
    type = fields.String(required=True, validate=validate.Regexp(TYPE_PATTERN))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    time = fields.AwareDateTime(required=True, format="iso")
    datacontenttype = fields.String(load_default="application/json",
                                    validate=validate.Equal("application/json"))
    dataschema = fields.String()
    streamversion = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    correlationid = fields.String(required=True, validate=validate.Length(min=1, max=200))
    actor = fields.String(required=True, validate=validate.Length(min=1, max=200))
    partitionkey = fields.String()
    data = fields.Dict(required=True)

    class Meta:
        unknown = "include"

    @validates("type")
    def _known_type(self, value: str, **_: Any) -> None:
        if not catalogue.is_known(value):
            raise ValidationError(f"unknown event type {value!r}")


_ENVELOPE = _EnvelopeSchema()
_CORE = set(_EnvelopeSchema._declared_fields)
_FAST: list = []      # the envelope schema compiled (zfcommon.events.fastload), on first use


def _load_envelope(raw: dict[str, Any]) -> dict[str, Any]:
    if not _FAST:
        _FAST.append(fastload.compile_schema(_ENVELOPE))
    try:
        return fastload.load(_FAST[0], _ENVELOPE, raw)
    except ValidationError as exc:
        raise InvalidEvent(exc.normalized_messages()) from None


def _check(raw: dict[str, Any]) -> Event:
    env = _load_envelope(raw)
    extensions = {k: v for k, v in env.items() if k not in _CORE}
    bad = [k for k in extensions if not EXTENSION_NAME.match(k)]
    if bad:
        raise InvalidEvent({k: ["extension names are lower-case letters and digits, at most 20"] for k in bad})
    data_errors = catalogue.validate_data(env["type"], env["data"])
    if data_errors:
        raise InvalidEvent({"data": data_errors})
    return Event(id=env["id"], source=env["source"], type=env["type"], subject=env["subject"],
                 time=env["time"], data=env["data"], streamversion=env["streamversion"],
                 correlationid=env["correlationid"], actor=env["actor"], extensions=extensions)


# The envelope schema's own checks, read off it once: attribute -> (required, the type its value has
# in JSON, its validators). load_stored runs these and nothing else of the envelope.
_STORED = [(name, f.required, datetime if isinstance(f, fields.DateTime) else int if isinstance(f, fields.Integer)
            else dict if isinstance(f, fields.Dict) else str, tuple(f.validators))
           for name, f in _EnvelopeSchema._declared_fields.items()]


def load_stored(raw: bytes | str) -> Event:
    """An event from the audit trail: what audit stored after parse_event passed it, as canonical JSON
    hash-chained to the rest (docs/CANONICAL.md). Its data are not checked against the catalogue a
    second time; its envelope is, by the envelope schema's own validators run directly (required
    attributes, their types, lengths and patterns, a known type, an aware time, extension names).
    Anything unexpected goes through parse_event, which says what is wrong. The same Event as
    parse_event gives, at about half its cost (a rebuild loads every event of the trail)."""
    try:
        d = json.loads(raw)
        loaded = {}
        for name, required, kind, validators in _STORED:
            if name not in d:
                if required:
                    raise ValueError(name)
                continue
            value = d[name]
            if kind is datetime:
                value = loaded[name] = datetime.fromisoformat(value)
                if value.tzinfo is None:
                    raise ValueError(name)
            elif type(value) is not kind:
                raise ValueError(name)
            for check in validators:
                check(value)
        extensions = {k: v for k, v in d.items() if k not in _CORE}
        if not (catalogue.is_known(d["type"]) and all(map(EXTENSION_NAME.match, extensions))):
            raise ValueError("type")
    except (ValueError, ValidationError, TypeError, AttributeError, RecursionError):
        return parse_event(raw)
    return Event(id=d["id"], source=d["source"], type=d["type"], subject=d["subject"],
                 time=loaded["time"], data=d["data"], streamversion=d["streamversion"],
                 correlationid=d["correlationid"], actor=d["actor"], extensions=extensions)


def new_event(*, service: str, type: str, subject: str, data: dict[str, Any], streamversion: int,
              correlationid: str, actor: str, time: datetime | None = None) -> Event:
    """Build and validate a new event; raises InvalidEvent before anything is written."""
    event = Event(id=str(uuid.uuid4()), source=f"/zhengfeng/{service}", type=type, subject=subject,
                  time=time or datetime.now(timezone.utc), data=data, streamversion=streamversion,
                  correlationid=correlationid, actor=actor, extensions=tracing.trace_context())
    return _check(event.to_dict())


def serialize_event(event: Event) -> bytes:
    return json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_event(raw: bytes | str | dict[str, Any]) -> Event:
    """Parse and validate a structured-mode CloudEvent (bytes, text or an already decoded dict)."""
    if isinstance(raw, dict):
        return _check(raw)
    if not isinstance(raw, (bytes, str)):      # e.g. a Kafka tombstone (value None)
        raise InvalidEvent({"_envelope": [f"not JSON: a record value of type {type(raw).__name__}"]})
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError) as exc:   # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidEvent({"_envelope": [f"not JSON: {type(exc).__name__}: {str(exc)[:200]}"]}) from None
    if not isinstance(decoded, dict):
        raise InvalidEvent({"_envelope": ["a structured CloudEvent is a JSON object"]})
    return _check(decoded)
