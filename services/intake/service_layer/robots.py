"""Setting and reading a unit's group robots (docs/NOTICES.md "Group robots"): the addresses are sealed
in `unit_robots`, the directory event names them by ref, and only the office reads them back."""
from __future__ import annotations

import logging
from typing import Any

from zfcommon.events.catalogue import ROBOT_KINDS

from ..domain import directory as directory_domain
from ..domain import robots as robots_domain
from . import handlers
from .uow import UnitOfWork

log = logging.getLogger(__name__)
Robots = dict[str, dict[str, Any] | None]


def set_unit_robots(uow: UnitOfWork, unit: str, robots: Robots, ctx: handlers.Context) -> list[str]:
    """Replace the unit's robots with `robots` (kind -> address, None: none); the kinds it has now.
    The addresses replaced are deleted in the same transaction."""
    robots_domain.check(robots)
    refs = {kind: uow.robots.store(unit, kind, config) for kind, config in robots.items() if config}
    directory = handlers.change_directory(uow, directory_domain.set_unit_robots, ctx, unit, refs)
    uow.robots.forget(unit, keep=refs.values())
    log.info("unit_robots_set", extra={"unit": unit, "robots": sorted(refs), "actor": ctx.actor})
    return sorted(directory.robots.get(unit, {}))


def unit_robots(uow: UnitOfWork, unit: str) -> list[str]:
    """The kinds of robot the unit's notices go to."""
    return sorted(handlers.load_directory(uow).robots.get(unit, {}))


def robot_addresses(uow: UnitOfWork, unit: str, actor: str) -> Robots:
    """The unit's robot addresses, opened (the office's read for sending: notify's sender). Each read
    is logged with who read it; the addresses themselves never are."""
    refs = handlers.load_directory(uow).robots.get(unit, {})
    log.info("unit_robot_addresses_read", extra={"unit": unit, "robots": sorted(refs), "actor": actor})
    found = uow.robots.addresses(refs)
    return {kind: found.get(kind) for kind in ROBOT_KINDS}
