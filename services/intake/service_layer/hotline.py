"""Receiving a 12345 hotline work order: one case per order number, in the caller's unit of work."""
from __future__ import annotations

from ..adapters.hotline import HotlineOrders
from ..domain import hotline
from ..domain.case import Case
from . import handlers
from .uow import UnitOfWork


def receive_order(uow: UnitOfWork, order: hotline.WorkOrder, ctx: handlers.Context,
                  default_category: str) -> tuple[Case, bool]:
    """The case of a complaint or report work order, opened if the order is new: (the case, opened now).

    The index row is written beside the case's first event, so either both exist or neither does."""
    orders = HotlineOrders(uow.conn)
    orders.lock(order.order_no)
    known = orders.case_for(order.order_no)
    if known:
        return handlers.load_case(uow, known), False
    cmd = hotline.to_command(order, handlers.load_directory(uow).categories, default_category)
    case = handlers.receive_case(cmd, uow, ctx)
    orders.add(order.order_no, case.case_id)
    return case, True
