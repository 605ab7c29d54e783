"""Jinja filters and globals: dates in China's time, Chinese labels, case numbers, the lights."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from flask import Flask, current_app, request, url_for
from flask_wtf.csrf import generate_csrf

from zfcommon.periods import quarter_label
from zfcommon.workdays import SHANGHAI

from ..domain import lights, messages
from . import web


def local_time(value: Any) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, SHANGHAI)


def day(value: Any) -> str:
    if not value:
        return "—"
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    return str(value)[:10]


def case_no(case: Mapping[str, Any] | str | None) -> str:
    """The human case number (案件编号, e.g. ZF-2026-000123) where the services give one, else the short id."""
    if not case:
        return "—"
    if isinstance(case, str):
        return case[:8]
    return case.get("case_number") or str(case.get("case_id", ""))[:8]


def light_of(case: Mapping[str, Any]) -> str | None:
    return lights.light(case, web.yellow_days())


def actor(value: str | None) -> str:
    """role:login as people read it: 正风办 zhangsan; services' own processes as 系统."""
    role, _, who = (value or "").partition(":")
    if role in messages.ROLES:
        return f"{messages.ROLES[role]} {who}"
    return f"系统（{who or role}）" if value else "—"


FILE_PAGES = {"cases": ("cases.file", "case_id"), "tasks": ("tasks.file", "task_id")}


def attachment_link(url: str, item_id: str, what: str = "cases") -> str:
    """A report's attachment (a case's) or evidence (a task's): a file intake keeps is read through the
    console, with the person's token; any other link is shown as it is."""
    marker = f"/v1/{what}/{item_id}/files/"
    if marker in (url or ""):
        endpoint, key = FILE_PAGES[what]
        return url_for(endpoint, **{key: item_id}, file_id=url.split(marker, 1)[1].split("?")[0])
    return url


NAV = {
    "office": (("cases.dashboard", "今日工作"), ("cases.ledger_list", "台账"), ("cases.receive", "受理登记"),
               ("campaigns.index", "专项行动"), ("tasks.index", "任务"), ("projects.index", "重点项目"),
               ("lookbacks.index", "回头看"), ("directory.index", "名录与时限"), ("directory.settings", "督办与亮灯"), ("reports.imports", "台账导入"),
               ("reports.inspections", "明察暗访"), ("reports.points", "监测点"), ("reports.weekly", "周报告"),
               ("reports.quarterly", "季度报送"), ("reports.appraisals", "民主评议"), ("reports.enforcement", "短信评议"),
               ("reports.letters", "督办函登记"), ("reports.bulletins", "月通报"), ("reports.exposures", "典型曝光"),
               ("integrations.index", "接口与订阅"),
               ("accounts.index", "账号管理"), ("trail.events", "审计追溯")),
    "unit": (("units.mine", "我的案件"), ("units.tasks", "我的任务"), ("units.stages", "审批事项"),
             ("units.weekly", "周报告"), ("units.quarterly", "季度报送"), ("units.enforcement", "执法评议"),
             ("units.notices", "我的通知"), ("reports.letters", "督办函")),
    "auditor": (("trail.events", "审计追溯"), ("cases.ledger_list", "台账"), ("campaigns.index", "专项行动"),
                ("tasks.index", "任务"), ("projects.index", "重点项目"), ("lookbacks.index", "回头看"),
                ("reports.letters", "督办函登记"), ("reports.quarterly", "季度报送"), ("reports.appraisals", "民主评议"),
                ("reports.enforcement", "短信评议"), ("trail.log", "签名树头"),
                ("trail.reconciliation", "对账"), ("accounts.activity", "工作台操作记录")),
}


def nav_items(role: str) -> list[tuple[str, str]]:
    return [(e, t) for e, t in NAV.get(role, ()) if e in current_app.view_functions]


def page_url(**changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(local=local_time, day=day, timestamp=timestamp, case_no=case_no, light=light_of, actor=actor,
                                 attachment_link=attachment_link, zip_self=lambda xs: [(x, x) for x in xs],
                                 label=messages.label, event_label=messages.event_label,
                                 field_message=messages.field_message, quarter_label=quarter_label)
    app.jinja_env.globals.update(m=messages, account=web.account, csrf_token=generate_csrf, page_url=page_url,
                                 yellow_days=web.yellow_days, nav_items=nav_items,
                                 activity_label=messages.activity_label,
                                 publication_state=lambda v: messages.label(messages.PUBLICATION_STATES, v))
