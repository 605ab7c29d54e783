"""marshmallow's (and webargs') standard field messages in Chinese: one table for every service, so no
schema has to spell its messages out per field. A message the table does not know (the project's own,
already Chinese) passes through unchanged; tests/unit/test_messages.py checks that every standard
message marshmallow can produce is in the table."""
from __future__ import annotations

import re
from typing import Any

# What marshmallow calls a type in "Not a valid {type}." (fields' `invalid` messages).
TYPES = {
    "string": "字符串", "utf-8 string": "UTF-8 字符串", "integer": "整数", "number": "数字", "boolean": "布尔值",
    "date": "日期（YYYY-MM-DD）", "datetime": "日期时间（RFC 3339）", "time": "时间",
    "aware datetime": "带时区的日期时间（RFC 3339，如 2026-11-23T09:00:00+08:00）",
    "naive datetime": "不带时区的日期时间", "mapping type": "JSON 对象", "list": "列表（JSON 数组）",
    "tuple": "元组", "email address": "电子邮件地址", "URL": "网址（URL）", "UUID": "UUID",
    "period of time": "时间段", "IP address": "IP 地址", "IPv4 address": "IPv4 地址", "IPv6 address": "IPv6 地址",
    "IP interface": "IP 接口", "IPv4 interface": "IPv4 接口", "IPv6 interface": "IPv6 接口",
}
COMPARISONS = {"greater than or equal to": "≥", "greater than": ">", "less than or equal to": "≤", "less than": "<"}
_OP = "(greater than or equal to|greater than|less than or equal to|less than)"


def _type(match: re.Match) -> str:
    return "不是有效的" + TYPES.get(match[1], match[1])


def _range(match: re.Match) -> str:
    return f"须{COMPARISONS[match[1]]} {match[2]} 且{COMPARISONS[match[3]]} {match[4]}"


TABLE: list[tuple[re.Pattern, Any]] = [(re.compile(p), r) for p, r in [
    (r"^Missing data for required field\.$", "缺少必填字段"),
    (r"^Field may not be null\.$", "不能为空值（null）"),
    (r"^Invalid value\.$", "取值无效"),
    (r"^Unknown field\.$", "未知字段（不接受此字段）"),
    (r"^Invalid input type\.$", "输入类型无效：须为 JSON 对象"),
    (r"^Invalid type\.$", "类型无效：须为 JSON 对象"),
    (r"^Invalid input\.$", "输入无效"),
    (r"^Not a valid (.+)\.$", _type),
    (r'^"(.*)" cannot be formatted as an? (.+)\.$', lambda m: f"“{m[1]}”无法表示为{TYPES.get(m[2], m[2])}"),
    (r"^'(.*)' cannot be formatted as a timedelta\.$", lambda m: f"“{m[1]}”无法表示为时间段"),
    (r"^Must be one of: (.*)\.$", lambda m: f"须为以下之一：{m[1]}"),
    (r"^Length must be between (\S+) and (\S+)\.$", lambda m: f"长度须在 {m[1]} 到 {m[2]} 之间"),
    (r"^Length must be (\S+)\.$", lambda m: f"长度须为 {m[1]}"),
    (r"^Longer than maximum length (\S+)\.$", lambda m: f"长度不能超过 {m[1]}"),
    (r"^Shorter than minimum length (\S+)\.$", lambda m: f"长度不能少于 {m[1]}"),
    (rf"^Must be {_OP} (\S+) and {_OP} (\S+)\.$", _range),
    (rf"^Must be {_OP} (\S+)\.$", lambda m: f"须{COMPARISONS[m[1]]} {m[2]}"),
    (r"^String does not match expected pattern\.$", "格式不符合要求"),
    (r"^Number too large\.$", "数值过大"),
    (r"^Special numeric values \(nan or infinity\) are not permitted\.$", "不接受 NaN 或无穷大"),
    (r"^Must be equal to (.*)\.$", lambda m: f"须等于 {m[1]}"),
    (r"^One or more of the choices you made was not in: (.*)\.$", lambda m: f"有选项不在以下范围内：{m[1]}"),
    (r"^One or more of the choices you made was in: (.*)\.$", lambda m: f"有选项属于不允许的：{m[1]}"),
    (r"^Invalid JSON body\.$", "请求体不是有效的 JSON"),
]]


def translate(message: str) -> str:
    for pattern, replacement in TABLE:
        match = pattern.match(message)
        if match:
            return replacement if isinstance(replacement, str) else replacement(match)
    return message


def translate_errors(errors: Any) -> Any:
    """marshmallow's error structure (field -> messages, nested dicts for nested fields and list
    indices) with every standard message in Chinese; keys stay as the client sent them."""
    if isinstance(errors, dict):
        return {key: translate_errors(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [translate_errors(item) for item in errors]
    return translate(errors) if isinstance(errors, str) else errors
