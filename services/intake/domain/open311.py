"""Open311 GeoReport v2 (docs/OPEN311.md), the office's side: its problem categories as services, the
attributes each service asks for, discovery, and reading form parameters. Pure: the entrypoint reads
the request and the directory and writes the answer in XML or JSON.

Every error names the parameter it is about (`attribute[subject_unit]`, `lat` …) in a message for the
person using the client app, in Chinese.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from zfcommon.events.catalogue import PRIORITIES
from zfcommon.workdays import SHANGHAI

from .directory import Directory

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_DESCRIPTION = 4000
CONTACT = "正风台账由本级正风办(督查室)运行,接入与技术支持请联系正风办。"
KEY_SERVICE = "api_key 由正风办签发给渠道接入单位(以 zfk_ 开头),请向正风办申请。"
SERVICE_NOTICE = ("正风办受理后将交办承办单位限期办理,可凭 service_request_id 或案件编号查询办理进展,"
                  "凭查询码查看办理结果;反映人信息严格保密。")


def receipt_notice(case_number: str, tracking_code: str | None) -> str:
    """The service_notice of a POST answer: the fixed notice, after the number people quote (案件编号) and
    the 查询码 that goes with it (zfcommon.trackingcode), when there is one."""
    return f"案件编号 {case_number}" + (f",查询码 {tracking_code}" if tracking_code else "") + "。" + SERVICE_NOTICE
PRIORITY_NAMES = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
EVIDENCE = {"photo": "照片", "audio": "录音", "video": "视频", "document": "书面材料", "witness": "证人证言"}


class Open311Error(Exception):
    """An answer other than success: the HTTP status and, per problem, the parameter and why."""

    def __init__(self, status: int, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{p}: {m}" for p, m in errors))
        self.status, self.errors = status, errors


def discovery(url: str, changeset: str) -> dict[str, Any]:
    """The Service Discovery document: one production GeoReport v2 endpoint in both formats.
    `changeset` moves whenever the services or their definitions may have changed."""
    return {"changeset": changeset, "contact": CONTACT, "key_service": KEY_SERVICE, "endpoints": [
        {"specification": SPECIFICATION, "url": url, "changeset": changeset, "type": "production",
         "formats": ["text/xml", "application/json"]}]}


def service_code(category: str) -> str:
    """A category's service code: derived from its name, so it never changes while the category
    exists, is the same in every process and database, and needs no table of its own."""
    return "zf-" + hashlib.sha256(category.encode()).hexdigest()[:8]


def services(directory: Directory) -> list[dict[str, Any]]:
    return [{"service_code": service_code(name), "service_name": name,
             "description": f"反映{group}中的“{name}”问题", "metadata": True, "type": "realtime",
             "keywords": f"{name},{group}", "group": group}
            for name, group in directory.categories.items()]


def category_of(directory: Directory, code: str) -> str:
    """The category a service code names; 404 when the office has no such service (any more)."""
    for name in directory.categories:
        if service_code(name) == code:
            return name
    raise Open311Error(404, [("service_code", f"没有编码为 {code} 的服务类型")])


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str              # string, number, datetime, text, singlevaluelist, multivaluelist
    required: bool
    description: str
    datatype_description: str | None = None
    values: tuple[tuple[str, str], ...] = ()     # (key, name) for the list types
    variable: bool = True      # false: shown to the user, never submitted


def attributes(directory: Directory) -> list[Attribute]:
    """What every service asks for besides the description and the location. subject_unit and
    priority become the lead's fields; the others travel in its origin (docs/OPEN311.md)."""
    units = tuple((n, n) for n, u in directory.units.items() if u["active"])
    return [
        Attribute("subject_unit", "singlevaluelist" if units else "string", True, "被反映单位:问题涉及的单位",
                  "从列表中选择被反映的单位" if units else "填写被反映单位的全称", units),
        Attribute("priority", "singlevaluelist", False, "紧急程度(默认一般)", None,
                  tuple((p, PRIORITY_NAMES[p]) for p in PRIORITIES)),
        Attribute("window", "string", False, "涉及的窗口、科室或岗位", "如:不动产登记窗口"),
        Attribute("occurred_at", "datetime", False, "问题发生的时间", "ISO 8601,如 2026-11-20T10:30:00+08:00"),
        Attribute("evidence", "multivaluelist", False, "现有证据(可多选)", None, tuple(EVIDENCE.items())),
        Attribute("protection", "string", False, "依法保护反映人:姓名、电话、邮箱等信息加密保存,不对外公开,"
                                                 "承办单位也无法查看。", None, variable=False),
    ]


def definition(directory: Directory, code: str) -> dict[str, Any]:
    category_of(directory, code)
    return {"service_code": code, "attributes": [
        {"variable": a.variable, "code": a.code, "datatype": a.datatype, "required": a.required,
         "datatype_description": a.datatype_description, "order": i, "description": a.description,
         "values": [{"key": k, "name": n} for k, n in a.values]}
        for i, a in enumerate(attributes(directory), start=1)]}


Form = Mapping[str, list[str]]


def present(values: list[str]) -> list[str]:
    # "An empty parameter equals an absent one" (the spec's Optional Arguments).
    return [v for v in values if v.strip()]


def single(form: Form, name: str, errors: list[tuple[str, str]], max_length: int = 200) -> str | None:
    """The parameter's one value, or None when absent or wrong (then `errors` says why)."""
    values = present(form.get(name, []))
    if len(values) > 1:
        errors.append((name, "只能提供一个值"))
        return None
    if values and len(values[0]) > max_length:
        errors.append((name, f"不能超过{max_length}个字符"))
        return None
    return values[0].strip() if values else None


def parse_datetime(raw: str) -> datetime:
    """ISO 8601 (the w3 subset); a datetime without a zone is China time. ValueError otherwise."""
    value = datetime.fromisoformat(raw)
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
