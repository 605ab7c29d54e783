"""Status callbacks to the 12345 hotline, pure: when a case that came from a hotline work order
changes status, the hotline hears it in its own terms (Chinese field names, as its work orders are
written, keyed by its own order number 工单编号). docs/CHANNELS.md shows the body. The result and the
office's comment are masked as every outsider reads them (zfcommon.outsiders, docs/PRIVACY.md).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from zfcommon import outsiders
from zfcommon.caseview import STATUS_LABELS
from zfcommon.events import Event
from zfcommon.workdays import SHANGHAI

from . import watch

SYSTEM = "hotline"
CONTENT_TYPE = "application/json; charset=utf-8"
# Statuses in which the case is finished as far as the hotline is concerned (办结); the rest are progress.
FINISHED = ("closed", "dismissed", "merged")
# Where the office's own words on finishing a case are.
VERDICT_FIELDS = {"cn.zhengfeng.case.closed.v1": "comment", "cn.zhengfeng.case.dismissal_accepted.v1": "comment",
                  "cn.zhengfeng.case.merged.v1": "reason"}


def order_number(row: dict[str, Any] | None) -> str | None:
    origin = (row or {}).get("origin") or {}
    return origin.get("ref") if origin.get("system") == SYSTEM else None


def _local(at: datetime) -> str:
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _result(after: dict[str, Any], joined: str | None) -> str | None:
    if after["status"] == "merged":
        return f"与案件{joined or after['view']['merged_into']}反映问题相同，已并入该案件办理"
    return after["last_report"]


def callback(before: dict[str, Any] | None, after: dict[str, Any], event: Event,
             joined: dict[str, Any] | None = None) -> str | None:
    """The callback body for `event`, or None when the hotline is not told: the case is not one of its
    work orders, or its status did not change (receipt itself is answered when the order comes in).
    `joined` is the watched case a merged case joined, named by its number."""
    order = order_number(after)
    if order is None or before is None or before["status"] == after["status"]:
        return None
    status = after["status"]
    finished = status in FINISHED
    body = {"工单编号": order, "案件编号": watch.case_number(after), "案件ID": after["case_id"], "状态代码": status,
            "状态名称": STATUS_LABELS[status], "变更时间": _local(event.time), "承办单位": after["lead_unit"],
            "是否办结": finished}
    if finished:
        body["办理结果"] = _result(after, watch.case_number(joined))
        body["办结意见"] = outsiders.event_data(event.type, event.data).get(VERDICT_FIELDS.get(event.type, ""))
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
