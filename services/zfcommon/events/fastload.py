"""A fast path for loading data with a marshmallow schema: each schema compiled once into plain checks.

Every consumer checks every record against the catalogue, and marshmallow's general machinery (an
error store, a closure and a dispatch per field) costs more than the rest of an event's handling.
`compile_schema` walks a schema's own fields once and returns a function that loads data the way
`schema.load` would for the ordinary case — the same fields, data keys, required and null rules,
load defaults, unknown-field rule, the fields' own validators and the schema's own `validates` and
`validates_schema` methods — and raises `Unsure` for everything else: any invalid value, any value
marshmallow would have to coerce (a number in a string, "true" for a boolean), any field type or
option it does not know. The caller then asks marshmallow itself, which gives the verdict and the
errors. So the fast path can only ever say yes to what marshmallow says yes to, with the same
result, and the schemas (the catalogue) stay the one source of truth; tests/unit/test_fastload.py
holds the two to each other.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields, missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

Loader = Callable[[Any], Any]


# Tests turn this on (tests/conftest.py): every value the fast path vouches for is then loaded by
# marshmallow too, and any difference fails the test that produced it.
CROSS_CHECK = False


class Unsure(Exception):
    """The fast path cannot vouch for this value: ask marshmallow."""


class Disagreement(AssertionError):
    """The fast path accepted what marshmallow refuses, or loaded it differently (a bug here)."""


def load(loader: Loader | None, schema: Schema, data: Any) -> Any:
    """`schema.load(data)`: through `loader` (compile_schema's) when it vouches, else marshmallow's
    own, which raises ValidationError with the errors."""
    out = vouched(loader, schema, data)
    return schema.load(data) if out is missing else out


def vouches(loader: Loader | None, schema: Schema, data: Any) -> bool:
    """Whether the fast path alone shows `data` valid (False: only that marshmallow must decide)."""
    return vouched(loader, schema, data) is not missing


def vouched(loader: Loader | None, schema: Schema, data: Any) -> Any:
    """What `schema.load(data)` gives, when the fast path alone shows `data` valid; `missing` when
    only marshmallow can decide."""
    if loader is None:
        return missing
    try:
        out = loader(data)
    except Unsure:
        return missing
    if CROSS_CHECK:
        _cross_check(schema, data, out)
    return out


def _cross_check(schema: Schema, data: Any, out: Any) -> None:
    try:
        expected = schema.load(data)
    except ValidationError as exc:
        raise Disagreement(f"{type(schema).__name__}: the fast path accepted what marshmallow refuses: "
                           f"{exc.normalized_messages()} in {data!r}") from None
    if expected != out:
        raise Disagreement(f"{type(schema).__name__}: loaded {out!r}, marshmallow {expected!r}")


def compile_schema(schema: Schema, unknown: str | None = None) -> Loader | None:
    """A loader for `schema` (many or not), or None when the schema uses something the fast path
    does not know (then marshmallow always decides)."""
    hooks = schema._hooks
    if hooks[PRE_LOAD] or hooks[POST_LOAD] or schema.partial or any(many for _, many, _ in hooks[VALIDATES_SCHEMA]):
        return None
    plan = []
    for name, field in schema.load_fields.items():
        if field.attribute not in (None, name):
            return None
        loader = compile_field(field)
        if loader is None:
            return None
        plan.append((name, field.data_key if field.data_key is not None else name, loader, field.required,
                     field.load_default))
    keys = frozenset(key for _, key, *_ in plan)
    rule = unknown or schema.unknown
    if rule not in (RAISE, INCLUDE, EXCLUDE):
        return None
    field_checks = []
    for attr_name, _, kwargs in hooks[VALIDATES]:
        for field_name in kwargs["field_names"]:
            field = schema.fields.get(field_name)
            if field is None:
                return None
            key = field.data_key if field.data_key is not None else field_name
            field_checks.append((getattr(schema, attr_name), field_name, key))
    schema_checks = [(getattr(schema, attr_name), kwargs.get("pass_original", False))
                     for attr_name, _, kwargs in hooks[VALIDATES_SCHEMA]]

    def load_one(data: Any) -> dict:
        if type(data) is not dict:
            raise Unsure
        out = {}
        for name, key, loader, required, default in plan:
            if key in data:
                out[name] = loader(data[key])
            elif required:
                raise Unsure
            elif default is not missing:
                out[name] = default() if callable(default) else default
        if rule == RAISE:
            if not keys.issuperset(data):
                raise Unsure
        elif rule == INCLUDE:
            for key in data.keys() - keys:
                out[key] = data[key]
        try:
            for check, name, key in field_checks:
                if name in out:
                    check(out[name], data_key=key)
            for check, pass_original in schema_checks:
                if pass_original:
                    check(out, data, partial=None, many=False, unknown=rule)
                else:
                    check(out, partial=None, many=False, unknown=rule)
        except ValidationError:
            raise Unsure from None
        return out

    if not schema.many:
        return load_one

    def load_many(data: Any) -> list:
        if type(data) is not list:
            raise Unsure
        return [load_one(item) for item in data]
    return load_many


def _validated(loader: Loader, validators: list) -> Loader:
    if not validators:
        return loader

    def load(value: Any) -> Any:
        out = loader(value)
        try:
            for validator in validators:
                validator(out)
        except ValidationError:
            raise Unsure from None
        return out
    return load


def _nullable(loader: Loader, allow_none: bool) -> Loader:
    def load(value: Any) -> Any:
        if value is None:
            if allow_none:
                return None
            raise Unsure
        return loader(value)
    return load


def _same(method_name: str, field: fields.Field, base: type) -> bool:
    """The field's class loads as `base` does (Email, URL … are Strings with one more validator)."""
    return getattr(type(field), method_name) is getattr(base, method_name)


def compile_field(field: fields.Field) -> Loader | None:
    """A loader for a value present under the field's key, or None when the field is not one the fast
    path knows."""
    if field.pre_load or field.post_load:
        return None
    loader = _value_loader(field)
    if loader is None:
        return None
    return _nullable(_validated(loader, list(field.validators)), field.allow_none)


def _exactly_of(kind: type) -> Loader:
    """A loader taking values of exactly this type as they are."""
    def load(value):
        if type(value) is not kind:
            raise Unsure
        return value
    return load


def _value_loader(field: fields.Field) -> Loader | None:
    if isinstance(field, fields.String) and _same("_deserialize", field, fields.String):
        return _exactly_of(str)
    if isinstance(field, fields.Integer) and _same("_validated", field, fields.Integer) \
            and _same("_format_num", field, fields.Integer):
        return _exactly_of(int)      # not a bool, not a string of digits: marshmallow decides those
    if isinstance(field, fields.Float) and _same("_validated", field, fields.Float) \
            and _same("_format_num", field, fields.Float):
        def load_float(value):
            if type(value) is not float and type(value) is not int:
                raise Unsure
            number = float(value)
            if not field.allow_nan and (math.isnan(number) or math.isinf(number)):
                raise Unsure
            return number
        return load_float
    if isinstance(field, fields.Boolean) and _same("_deserialize", field, fields.Boolean):
        def load_bool(value):
            if value is not True and value is not False:
                raise Unsure
            return _exactly(field, value)
        return load_bool
    if isinstance(field, (fields.Date, fields.DateTime)) and type(field) in (fields.Date, fields.DateTime,
                                                                              fields.AwareDateTime):
        def load_temporal(value):
            if type(value) is not str:
                raise Unsure
            return _exactly(field, value)
        return load_temporal
    if type(field) is fields.Raw:
        return lambda value: value
    if type(field) in (fields.Dict, fields.Mapping) and field.mapping_type is dict:
        return _mapping_loader(field)
    if type(field) is fields.List:
        inner = compile_field(field.inner)
        if inner is None:
            return None

        def load_list(value):
            if type(value) is not list:
                raise Unsure
            return [inner(item) for item in value]
        return load_list
    if type(field) is fields.Nested and not field.only and not field.exclude:
        return compile_schema(field.schema, field.unknown)
    return None


def _mapping_loader(field: fields.Mapping) -> Loader | None:
    keys = compile_field(field.key_field) if field.key_field is not None else None
    values = compile_field(field.value_field) if field.value_field is not None else None
    if (field.key_field is not None and keys is None) or (field.value_field is not None and values is None):
        return None
    if keys is None and values is None:
        def load_plain(value):
            if type(value) is not dict:
                raise Unsure
            return dict(value)
        return load_plain

    def load_mapping(value):
        if type(value) is not dict:
            raise Unsure
        return {(keys(k) if keys else k): (values(v) if values else v) for k, v in value.items()}
    return load_mapping


def _exactly(field: fields.Field, value: Any) -> Any:
    """marshmallow's own conversion of one value (dates, booleans), without the schema around it."""
    try:
        return field._deserialize(value, None, None)
    except ValidationError:
        raise Unsure from None
