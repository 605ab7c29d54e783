"""12345 hotline work orders (工单) as leads. Pure: the entrypoint validates the hotline's JSON into a
WorkOrder; this module decides whether it is a lead at all and what case it becomes.

Rules (docs/CHANNELS.md, "Hotline webhook (inbound)"):
- only 诉求类型 投诉 (complaint) and 举报 (report) are leads; 咨询, 建议, 求助 … stay the hotline's business;
- category: the order's optional 问题类别 when the office's taxonomy has it, otherwise the configured
  default (ZF_HOTLINE_DEFAULT_CATEGORY). The hotline's own classification differs from the office's, so an
  unknown 问题类别 is kept in origin.extra rather than bouncing the order: a refused order would be re-sent
  for days and the complaint would never reach the ledger;
- description: 诉求标题 and 诉求内容, cut to the ledger's 4,000 characters (the full text stays with the
  hotline under its order number; origin.extra says it was cut).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .case import DomainError, ReceiveComplaint

SYSTEM = "hotline"                  # both the case's channel and its origin system
CASE_KINDS = ("投诉", "举报")
PRIORITIES = {"一般": "normal", "紧急": "urgent", "特急": "critical"}
DESCRIPTION_LIMIT = 4000


class NoDefaultCategory(DomainError):
    """The configured default category is not (or no longer) in the office's taxonomy: the office must
    fix its configuration; the order itself is fine and will be accepted once it has."""
    code = "hotline.default_category_missing"


@dataclass(frozen=True)
class Attachment:
    name: str
    url: str


@dataclass(frozen=True)
class WorkOrder:
    order_no: str                       # 工单编号: the hotline's own reference, one case per order
    kind: str                           # 诉求类型
    received_at: datetime               # 受理时间
    content: str                        # 诉求内容
    suggested_unit: str                 # 建议承办单位: becomes the case's subject unit
    title: str | None = None            # 诉求标题
    intake_channel: str | None = None   # 受理渠道: 电话, 网站, 微信 … (how the hotline heard of it)
    caller: str | None = None           # 来电人
    phone: str | None = None            # 联系电话
    id_number: str | None = None        # 证件号码 (the caller's ID number, when the hotline took it)
    confidential: bool = True           # 是否保密: the identity never leaves the office
    address: str | None = None          # 事发地址
    lat: float | None = None            # 纬度
    lon: float | None = None            # 经度
    urgency: str = "一般"                # 紧急程度
    time_limit_workdays: int | None = None   # 办理时限(工作日): the hotline's own time limit
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    category: str | None = None         # 问题类别 (optional)


def not_a_case_reason(kind: str) -> str | None:
    """Why an order of this 诉求类型 opens no case, or None when it is a lead."""
    if kind in CASE_KINDS:
        return None
    return (f"诉求类型“{kind}”不是投诉或举报，未立案：只有反映作风问题的投诉和举报才记入台账")


def description(order: WorkOrder) -> tuple[str, int | None]:
    """Title and content as one text of at most 4,000 characters; the original length when it was cut."""
    text = f"{order.title}\n{order.content}" if order.title else order.content
    if len(text) <= DESCRIPTION_LIMIT:
        return text, None
    return text[:DESCRIPTION_LIMIT - 1] + "…", len(text)


def category(order: WorkOrder, taxonomy: Mapping[str, str], default: str) -> str:
    if order.category in taxonomy:
        return order.category
    if default not in taxonomy:
        raise NoDefaultCategory(f"热线工单的默认问题类别“{default}”不在正风办的问题类别中：请添加该类别，"
                                "或将 ZF_HOTLINE_DEFAULT_CATEGORY 设为已有的类别")
    return default


def to_command(order: WorkOrder, taxonomy: Mapping[str, str], default_category: str) -> ReceiveComplaint:
    """The lead a complaint or report work order becomes."""
    text, cut_from = description(order)
    chosen = category(order, taxonomy, default_category)
    identity = {k: v for k, v in (("name", order.caller), ("phone", order.phone), ("id_number", order.id_number)) if v}
    location = {"address": order.address, "lat": order.lat, "lon": order.lon}
    extra: dict[str, Any] = {
        "received_at": order.received_at.isoformat(),
        "intake_channel": order.intake_channel,
        "time_limit_workdays": order.time_limit_workdays,
        "attachments": [{"name": a.name, "url": a.url} for a in order.attachments],
    }
    if order.category and order.category != chosen:
        extra["hotline_category"] = order.category
    if cut_from:
        extra["description_cut_from"] = cut_from
    return ReceiveComplaint(
        channel=SYSTEM, category=chosen, description=text, subject_unit=order.suggested_unit,
        priority=PRIORITIES[order.urgency],
        location=location if any(v is not None for v in location.values()) else None,
        # 是否保密 travels inside the sealed data: only the office can read it, as it can the identity.
        complainant={**identity, "confidential": order.confidential} if identity else None,
        origin={"system": SYSTEM, "ref": order.order_no, "parent": None, "extra": extra})
