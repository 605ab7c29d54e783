"""Open311 POST requests checked against the service it names (docs/OPEN311.md): the lead's fields,
the submitter to be sealed, and what else came (origin extra). Pure; 400 names every wrong parameter,
404 an unknown service."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .directory import Directory
from .open311 import (MAX_DESCRIPTION, Attribute, Form, Open311Error, attributes, category_of, parse_datetime,
                      present, single)

ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")


def _number(form: Form, name: str, low: float, high: float, errors: list[tuple[str, str]]) -> float | None:
    raw = single(form, name, errors)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        errors.append((name, f"应为 {low} 到 {high} 之间的数值(WGS84)"))
        return None
    return value


def _attribute_values(form: Form, errors: list[tuple[str, str]], known: dict[str, Attribute]) -> dict[str, list[str]]:
    given: dict[str, list[str]] = {}
    for key, values in form.items():
        match = ATTRIBUTE_KEY.match(key)
        if key.startswith("attribute") and not match:
            errors.append((key, "属性应写作 attribute[code]=值 或 attribute[code][]=值"))
        elif match:
            code = match.group(1)
            if code not in known or not known[code].variable:
                errors.append((f"attribute[{code}]", "本服务没有这个可填写的属性"))
            else:
                given.setdefault(code, []).extend(v.strip() for v in present(values))
    return given


def _check_attribute(a: Attribute, values: list[str]) -> tuple[Any, str | None]:
    """The attribute's value and None, or None and why it is wrong."""
    keys = dict(a.values)
    if a.datatype == "multivaluelist":
        wrong = [v for v in values if v not in keys]
        return (None, f"可选值为:{', '.join(keys)}") if wrong else (list(dict.fromkeys(values)), None)
    if len(values) > 1:
        return None, "只能提供一个值"
    value = values[0]
    if a.datatype == "singlevaluelist" and value not in keys:
        return None, "不是可选值之一(见 services/{service_code} 的 values)"
    if a.datatype == "string" and ("\n" in value or len(value) > 200):
        return None, "应为不含换行、不超过200个字符的文字"
    if a.datatype == "datetime":
        try:
            return parse_datetime(value).isoformat(), None
        except ValueError:
            return None, "应为 ISO 8601 日期时间,如 2026-11-20T10:30:00+08:00"
    return value, None


@dataclass(frozen=True)
class Submission:
    """A checked POST requests: the lead's fields, the submitter (to be sealed) and what else came."""
    category: str
    description: str
    subject_unit: str
    priority: str
    location: dict[str, Any] | None
    complainant: dict[str, Any] | None
    extra: dict[str, Any] = field(default_factory=dict)


def _location(form: Form, errors: list[tuple[str, str]]) -> tuple[dict[str, Any] | None, str | None]:
    lat, lon = _number(form, "lat", -90, 90, errors), _number(form, "long", -180, 180, errors)
    address = single(form, "address_string", errors, 500)
    address_id = single(form, "address_id", errors)
    given = {name for name in ("lat", "long") if present(form.get(name, []))}
    if len(given) == 1:
        errors.append(((given ^ {"lat", "long"}).pop(), "lat 与 long 须同时提供"))
    elif not given and address is None and address_id is None:
        errors.append(("location", "须提供位置:lat 与 long、address_string 或 address_id 之一"))
    if lat is None and lon is None and address is None:
        return None, address_id
    return {"address": address, "lat": lat, "lon": lon}, address_id


def _complainant(form: Form, errors: list[tuple[str, str]]) -> dict[str, Any] | None:
    fields = {name: single(form, name, errors, 100) for name in
              ("first_name", "last_name", "email", "phone", "device_id", "account_id")}
    if fields["email"] and not EMAIL.match(fields["email"]):
        errors.append(("email", "邮箱格式不正确"))
    if fields["phone"] and not PHONE.match(fields["phone"]):
        errors.append(("phone", "电话号码格式不正确"))
    first, last = fields.pop("first_name"), fields.pop("last_name")
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in (first or "") + (last or ""))
    name = ("" if cjk else " ").join(p for p in ((last, first) if cjk else (first, last)) if p) or None
    contact = {k: v for k, v in {"name": name, **fields}.items() if v}
    return {**contact, "confidential": True} if contact else None


def submission(directory: Directory, form: Form) -> Submission:
    """Check a POST requests form against the service it names; 400 naming every wrong parameter,
    404 for an unknown service."""
    errors: list[tuple[str, str]] = []
    code = single(form, "service_code", errors)
    if code is None:
        raise Open311Error(400, errors or [("service_code", "必填")])
    category = category_of(directory, code)
    description = single(form, "description", errors, MAX_DESCRIPTION)
    if not present(form.get("description", [])):
        errors.append(("description", "请填写问题描述(本办要求必填)"))
    media_url = single(form, "media_url", errors, 2000)
    if media_url and not (urlsplit(media_url).scheme in ("http", "https") and urlsplit(media_url).netloc):
        errors.append(("media_url", "应为 http 或 https 链接"))
    location, address_id = _location(form, errors)
    complainant = _complainant(form, errors)
    known = {a.code: a for a in attributes(directory)}
    given = _attribute_values(form, errors, known)
    values: dict[str, Any] = {}
    for a in known.values():
        if not given.get(a.code):
            if a.required:
                errors.append((f"attribute[{a.code}]", f"必填:{a.description}"))
            continue
        values[a.code], why = _check_attribute(a, given[a.code])
        if why:
            errors.append((f"attribute[{a.code}]", why))
    if errors:
        raise Open311Error(400, errors)
    subject_unit, priority = values.pop("subject_unit"), values.pop("priority", "normal")
    extra = {k: v for k, v in {"service_code": code, "address_id": address_id, "media_url": media_url,
                               "attributes": values}.items() if v}
    return Submission(category, description, subject_unit, priority, location, complainant, extra)
