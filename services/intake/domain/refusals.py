"""The refusals of the campaign machinery (campaigns, tasks, projects, look-backs), in words an office
reads (zh-CN `detail`) with a stable machine `code`: a 422 names each field in `errors`, a 409 names the
state and what is allowed in it. They subclass the case's refusals, so every mapping to problem+json
that knows those knows these."""
from __future__ import annotations

from typing import Any

from .case import InvalidCommand, NotYourCase
from .inspection import StateRefused


class Invalid(InvalidCommand):
    """422 with a Chinese detail, a code, `errors` per field and any extra members."""

    def __init__(self, detail: str, errors: dict[str, list[str]], code: str, **extra: Any):
        super().__init__(errors)
        self.detail, self.code, self.extra = detail, code, extra


class Refused(StateRefused):
    """409: the aggregate's state does not allow the command."""

    def __init__(self, state: str, command: str, allowed: list[str], detail: str, code: str):
        super().__init__(state, command, allowed, detail)
        self.detail, self.code = detail, code


class NotYours(NotYourCase):
    """403: a unit acting on a task or a stage that is not its own."""

    def __init__(self, detail: str, code: str):
        super().__init__(detail)
        self.detail, self.code = detail, code


def field_error(field: str, message: str, code: str, detail: str | None = None) -> Invalid:
    return Invalid(detail or message, {field: [message]}, code)
