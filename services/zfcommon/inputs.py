"""The request-validation layer every service's app gets (create_base_app): whatever a client sends,
the answer is a 4xx problem naming the field or parameter, never a 500 from deeper down.

- Text: a NUL or another control character, or a lone UTF-16 surrogate, in a path segment, a query
  parameter, a form field, a header the services store (Idempotency-Key …) or any JSON string or key.
  PostgreSQL cannot store NUL in text, and a lone surrogate cannot even be encoded as UTF-8.
- JSON bodies (`decode_json`): syntax, duplicate keys (which value would count?), nesting deeper than
  MAX_DEPTH (the decoder recurses), NaN and Infinity (not JSON, and jsonb refuses them), and a body
  sent as another type than JSON (415 naming both types) instead of "missing" for every field.
- Loaded values (`RequestParser.parse`): integers beyond PostgreSQL's bigint, dates or times before
  the year 1000 or beyond what can be expressed in UTC, and UTC offsets no zone has (beyond ±14:00:
  RFC 3339 allows ±23:59, PostgreSQL refuses beyond ±15:59).

Problems raised here carry stable codes (`input.*`, `json.*`) and Chinese details; marshmallow's own
messages are put into Chinese by zfcommon.messages.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

from flask import Request, request
from marshmallow import Schema, missing
from webargs import core
from webargs.flaskparser import FlaskParser

from .events import fastload
from .problem import BadRequest, Unprocessable, UnsupportedMediaType

log = logging.getLogger(__name__)
MAX_DEPTH = 32
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1          # PostgreSQL bigint
MIN_YEAR = 1000
MAX_OFFSET = timedelta(hours=14)                    # Kiribati: the furthest any zone is from UTC
# C0 and C1 controls except tab, line feed and carriage return (descriptions have lines), and lone surrogates.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Header values arrive as latin-1: bytes 0x80-0x9f may be part of a UTF-8 character, so only C0 and DEL.
FORBIDDEN_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
STORED_HEADERS = ("Idempotency-Key", "If-Match", "X-Correlation-Id", "webhook-id")
FORMS = ("application/x-www-form-urlencoded",)
JSON = "application/json"


def bad_character(text: str, pattern: re.Pattern = FORBIDDEN) -> str | None:
    """The Chinese message for the first character `text` may not hold, or None."""
    found = pattern.search(text)
    if found is None:
        return None
    kind = "孤立的 UTF-16 代理项" if "\ud800" <= found[0] <= "\udfff" else "控制字符"
    return f"含有不允许的字符 U+{ord(found[0]):04X}（{kind}）"


def _shown(name: str) -> str:
    """A parameter name as it can be shown back (its bad characters replaced)."""
    return FORBIDDEN.sub("\ufffd", name)


def _refuse(errors: dict, code: str, what: str) -> Unprocessable:
    return Unprocessable(f"{what}：" + "、".join(str(k) for k in errors), code=code, errors=errors)


# -- path, query, form and headers (before_request) ------------------------------------------------
def check_request() -> None:
    """Every path segment, query parameter, form field and stored header of the request."""
    errors: dict[str, list[str]] = {}
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and (why := bad_character(value)):
            errors[name] = [why]
    for source in _parameters():
        for name, values in source.lists():
            why = bad_character(name) or next(filter(None, map(bad_character, values)), None)
            if why:
                errors[_shown(name)] = [why]
    for name in STORED_HEADERS:
        value = request.headers.get(name)
        if value is not None and (why := bad_character(value, FORBIDDEN_IN_HEADER)):
            errors[name] = [why]
    if errors:
        raise _refuse(errors, "input.forbidden_character", "以下路径段、参数或请求头含有不允许的字符")
    ranges = out_of_range({k: v for k, v in (request.view_args or {}).items() if isinstance(v, int)})
    if ranges:
        raise _refuse(ranges, "input.out_of_range", "以下字段超出范围")


def _parameters() -> Iterator:
    yield request.args
    if request.mimetype in FORMS:
        # Cache the raw body first: endpoints that hash or verify it still read it after the form.
        request.get_data(cache=True)
        yield request.form


# -- JSON bodies ----------------------------------------------------------------------------------
class _Duplicate(Exception):
    def __init__(self, key: str):
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict:
    doc: dict = {}
    for key, value in pairs:
        if key in doc:
            raise _Duplicate(key)
        doc[key] = value
    return doc


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def decode_json(raw: bytes) -> Any:
    """A JSON body, or a 400/422 problem saying what is wrong with it and where."""
    try:
        doc = json.loads(raw, object_pairs_hook=_object, parse_constant=_not_json)
    except _Duplicate as dup:
        raise Unprocessable(f"JSON 对象中字段“{_shown(dup.key)}”重复出现，无法确定以哪个为准",
                            code="json.duplicate_key", errors={_shown(dup.key): ["重复出现"]}) from None
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as exc:
        log.info("json_refused", extra={"reason": str(exc)})
        raise BadRequest(f"请求体不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有误",
                         code="json.malformed", reason=str(exc), errors={"json": ["不是有效的 JSON"]}) from None
    except (UnicodeDecodeError, ValueError) as exc:     # bad UTF-8, NaN/Infinity, a 5,000-digit number
        log.info("json_refused", extra={"reason": str(exc)})
        raise BadRequest("请求体不是有效的 JSON：须为 UTF-8 编码，且不能含 NaN、Infinity 或超长数字",
                         code="json.malformed", reason=str(exc), errors={"json": ["不是有效的 JSON"]}) from None
    errors = _walk(doc)
    if errors:
        raise _refuse(errors, "input.forbidden_character", "以下字段含有不允许的字符")
    return doc


def _too_deep() -> Unprocessable:
    return Unprocessable(f"JSON 嵌套超过 {MAX_DEPTH} 层", code="json.too_deep",
                         errors={"json": [f"嵌套不能超过 {MAX_DEPTH} 层"]})


def _walk(doc: Any) -> dict:
    """Bad strings (values and keys) by where they are, in marshmallow's error shape; a problem when
    the document nests deeper than MAX_DEPTH. Iterative: the depth is what is being checked."""
    errors: dict = {}
    stack: list[tuple[Any, tuple]] = [(doc, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, (dict, list)) and len(path) >= MAX_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            for key, item in value.items():
                if why := bad_character(key):
                    _put(errors, (*path, _shown(key)), why)
                stack.append((item, (*path, _shown(key))))
        elif isinstance(value, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(value))
        elif isinstance(value, str) and (why := bad_character(value)):
            _put(errors, path or ("json",), why)
    return errors


def _put(errors: dict, path: tuple, message: str) -> None:
    for key in path[:-1]:
        errors = errors.setdefault(key, {})
        if not isinstance(errors, dict):
            return
    errors.setdefault(path[-1], []).append(message)


# -- loaded values --------------------------------------------------------------------------------
def out_of_range(data: Any, schema: Schema | None = None) -> dict:
    """Loaded values the database or the calendar cannot hold, by field, in marshmallow's error shape;
    with the `schema` that loaded them, by the names the request used (a field's `data_key`)."""
    errors: dict = {}
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):        # pushed last first: named in the order they came
            stack.extend(reversed([(item, (*path, key)) for key, item in value.items()]))
        elif isinstance(value, (list, tuple)):
            stack.extend(reversed([(item, (*path, i)) for i, item in enumerate(value)]))
        elif (why := _range_problem(value)) and path:
            _put(errors, as_sent(schema, path) if schema is not None else path, why)
    return errors


def as_sent(schema: Schema | None, path: tuple) -> tuple:
    """A path through loaded data as the request named it: each field's `data_key`, through nested
    schemas and lists of them; keys of a plain dict stay as they are."""
    out = []
    for key in path:
        if schema is None or not isinstance(key, str):
            out.append(key)
            continue
        field = next((f for name, f in schema.fields.items() if (f.attribute or name) == key), None)
        out.append(field.data_key or key if field is not None else key)
        nested = getattr(getattr(field, "inner", field), "schema", None)     # a Nested's, or a List's items'
        schema = nested if isinstance(nested, Schema) else None
    return tuple(out)


def _range_problem(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        return f"超出可接受的整数范围（{INT_MIN} 到 {INT_MAX}）"
    if isinstance(value, (date, datetime)) and value.year < MIN_YEAR:
        return f"年份须在 {MIN_YEAR} 到 9999 之间"
    if isinstance(value, datetime) and value.tzinfo is not None:
        if abs(value.utcoffset()) > MAX_OFFSET:
            return "时区偏移须在 -14:00 到 +14:00 之间"
        try:
            value.astimezone(timezone.utc)
        except OverflowError:
            return "超出可表示的时间范围"
    return None


class RequestParser(FlaskParser):
    """flask-smorest's parser (webargs) with this layer's rules: JSON bodies through decode_json and
    a 415 for a body of another type, loaded values checked for range, and every validation error as
    a 422 problem with the fields flattened out of webargs' locations and put into Chinese.

    One instance of each argument schema per process: webargs would build the schema a view declares
    by its class (and with it every nested schema and a deep copy of every field) on each request.
    Schemas hold no state between loads (unknown, partial and the rest are passed to each load).

    A JSON body goes first through its schema compiled for the fast path (zfcommon.events.fastload,
    once per schema): when that vouches for the body, the result is marshmallow's own and webargs'
    machinery around the load is skipped. Anything else (another location, a view's own validators
    or unknown rule, an empty body, a body the compiled schema cannot vouch for, and so every
    error) goes through webargs and marshmallow as before."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._schemas: dict[type, Schema] = {}
        self._loaders: dict[type, fastload.Loader | None] = {}

    def _get_schema(self, argmap, req: Request) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def load_json(self, req: Request, schema) -> Any:
        raw = req.get_data(cache=True)
        if not raw:
            return missing
        if not core.is_json(req.mimetype):
            raise UnsupportedMediaType(f"请求体须为 {JSON}（JSON），收到的是 {req.mimetype or '未声明类型的内容'}",
                                       code="request.unsupported_media_type", received=req.mimetype or None,
                                       expected=[JSON])
        return decode_json(raw)

    def parse(self, argmap, req=None, **kwargs) -> Any:
        data = self._vouched_body(argmap, req, **kwargs)
        if data is missing:
            data = super().parse(argmap, req, **kwargs)
        if out_of_range(data):        # named again as the request named them (only then: a schema costs)
            schema = argmap() if isinstance(argmap, type) and issubclass(argmap, Schema) else argmap
            raise _refuse(out_of_range(data, schema if isinstance(schema, Schema) else None),
                          "input.out_of_range", "以下字段超出范围")
        return data

    def _vouched_body(self, argmap, req, *, location=None, unknown=core._UNKNOWN_DEFAULT_PARAM, validate=None,
                      **_: Any) -> Any:
        """The JSON body as its schema loads it, when the compiled schema vouches for it; `missing`
        when webargs and marshmallow must decide. Only the case where webargs would call
        `schema.load(body)` with nothing else: a schema class, the JSON location, the schema's own
        unknown rule and no further validators."""
        if not (isinstance(argmap, type) and issubclass(argmap, Schema)) or validate \
                or (location or self.location) != "json" or self.DEFAULT_UNKNOWN_BY_LOCATION.get("json") is not None \
                or unknown != core._UNKNOWN_DEFAULT_PARAM or self.unknown != core._UNKNOWN_DEFAULT_PARAM:
            return missing
        req = req if req is not None else request
        if not req.get_data(cache=True) or not core.is_json(req.mimetype):
            return missing
        schema = self._get_schema(argmap, req)
        if argmap not in self._loaders:
            self._loaders[argmap] = fastload.compile_schema(schema)
        return fastload.vouched(self._loaders[argmap], schema, self.load_json(req, schema))

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        errors = flatten_locations(error.messages)
        log.info("validation_failed", extra={"reason": json.dumps(errors, ensure_ascii=False, default=str)[:1000]})
        raise Unprocessable("以下字段未通过校验：" + "、".join(sorted(map(str, errors))), errors=errors)


def flatten_locations(messages: dict) -> dict:
    # webargs nests errors by location ({"json": {"field": [...]}}); clients want the field names.
    flat: dict = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            flat.update(errors)
        else:
            flat[location] = errors
    return flat
