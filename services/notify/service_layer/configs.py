"""The office's stored rules (the weekly-report rules, the escalation thresholds): every event of such a
stream sets them whole, so the last one is in force.

An event stored past the catalogue's checks (written before a check existed: the API once accepted
`start_week: 0000-W01`; or by hand) must not take the readers and the scheduler down with it. It is
reported as ConfigUnusable instead: a 409 naming the fields on the API, a skipped and counted part
of the scheduler's pass (notify.entrypoints.scheduler), until the office sets the rules again, which
appends a good event after it."""
from __future__ import annotations

from typing import Any, Mapping

from zfcommon.events import Event, InvalidEvent

from .uow import UnitOfWork


class ConfigUnusable(Exception):
    def __init__(self, name: str, version: int, problems: Mapping[str, Any]):
        super().__init__(f"第 {version} 版{name}无法使用（{'、'.join(map(str, problems))}），请正风办重新设置")
        self.version, self.problems = version, problems


def last(uow: UnitOfWork, stream: str, name: str) -> Event | None:
    """The stream's last event (None: never set); ConfigUnusable when it does not fit the catalogue."""
    version = uow.events.version(stream)
    if not version:
        return None
    try:
        return uow.events.load(stream, after=version - 1)[-1]
    except InvalidEvent as exc:
        raise ConfigUnusable(name, version, exc.errors.get("data", exc.errors)) from None
