"""The exports' columns: Chinese header, width in characters, and the value shown for a row."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from zfcommon.events.catalogue import CHANNELS, ESCALATION_STEPS, HANDLING_MODES, SATISFACTION
from zfcommon.exports import Column, Row
from zfcommon.workdays import SHANGHAI

from ..domain.statuses import STATUS_LABELS


def _text(key: str) -> Callable[[Row], Any]:
    return lambda r: r[key] if r[key] is not None else ""


def _label(labels: Mapping[str, str], key: str) -> Callable[[Row], str]:
    return lambda r: labels.get(r[key], r[key]) if r[key] else ""


def _day(key: str) -> Callable[[Row], str]:
    return lambda r: r[key].isoformat() if r[key] else ""


def _local_time(key: str) -> Callable[[Row], str]:
    return lambda r: r[key].astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if r[key] else ""


def _yes_no(key: str) -> Callable[[Row], str]:
    return lambda r: "是" if r[key] else "否"


def _rate(key: str) -> Callable[[Row], str]:
    def show(r: Row) -> str:
        rate = r[key]
        if rate["value"] is None:
            return "—"
        note = "" if rate["meaningful"] else "，样本不足"
        return f"{rate['value']:.1%}（{rate['numerator']}/{rate['denominator']}{note}）"
    return show


CASES = (
    Column("案件编号", 18, _text("case_number")),
    Column("状态", 10, _label(STATUS_LABELS, "status")),
    Column("来源渠道", 12, _label(CHANNELS, "channel")),
    Column("问题类别", 14, _text("category")),
    Column("问题描述", 60, _text("description")),
    Column("被反映单位", 20, _text("subject_unit")),
    Column("牵头单位", 20, _text("lead_unit")),
    Column("配合单位", 30, lambda r: "、".join(r["cooperating_units"])),
    Column("处置方式", 10, _label(HANDLING_MODES, "handling_mode")),
    Column("整改时限", 12, _day("deadline")),
    Column("签收时限", 12, _day("sign_for_due")),
    Column("受理时间", 17, _local_time("received_at")),
    Column("交办时间", 17, _local_time("assigned_at")),
    Column("签收时间", 17, _local_time("accepted_at")),
    Column("销号时间", 17, _local_time("closed_at")),
    Column("是否超期", 8, _yes_no("overdue")),
    Column("超期工作日", 10, _text("working_days_overdue")),
    Column("签收超期", 8, _yes_no("sign_for_overdue")),
    Column("延期次数", 8, _text("extension_count")),
    Column("重办次数", 8, _text("rework_count")),
    Column("满意度", 10, _label(SATISFACTION, "satisfaction")),
    Column("案件ID", 38, _text("case_id")),           # the API's id, to find the case in the system
)
# The overdue list also shows how far each case has escalated (notify's ladder, docs/ESCALATION.md).
ESCALATION_STEP = Column("督办层级", 10, _label(ESCALATION_STEPS, "escalation_step"))
_BY_HEADER = {c.header: c for c in (*CASES, ESCALATION_STEP)}
OVERDUE = tuple(_BY_HEADER[h] for h in (
    "案件编号", "状态", "牵头单位", "配合单位", "处置方式", "整改时限", "超期工作日", "签收时限", "签收超期",
    "督办层级", "来源渠道", "问题类别", "问题描述", "受理时间", "案件ID"))
UNIT_STATS = (
    Column("单位", 24, _text("unit")),
    Column("在办", 8, _text("open")),
    Column("超期", 8, _text("overdue")),
    Column("已销号", 8, _text("closed")),
    Column("按时签收率", 22, _rate("sign_for_on_time_rate")),
    Column("按时办结率", 22, _rate("closure_on_time_rate")),
    Column("重办次数", 8, _text("rework_count")),
    Column("延期次数", 8, _text("extension_count")),
    Column("满意率", 22, _rate("satisfaction_rate")),
    Column("任务超期", 8, _text("tasks_overdue")),
    Column("回头看反弹", 10, _text("lookback_rebounds")),
)
