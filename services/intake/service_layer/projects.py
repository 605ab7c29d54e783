"""Key projects: project types, registration and stages, in the caller's unit of work. A stage that
becomes a case appends the stage's event and the new case in one transaction (docs/CAMPAIGNS.md)."""
from __future__ import annotations

from datetime import date
from typing import Any

from zfcommon.workdays import local_date

from ..domain import project as projects
from ..domain.case import NewEvent
from ..domain.project import Project
from . import aggregates, handlers
from .handlers import Context
from .uow import UnitOfWork


def types(uow: UnitOfWork) -> tuple[dict[str, list[dict[str, Any]]], int]:
    history = uow.events.load(projects.TYPES_STREAM)
    return projects.fold_types([(e.type, e.data) for e in history]), len(history)


def set_type(uow: UnitOfWork, name: str, stages: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
    known, version = types(uow)
    handlers._append(uow, {projects.TYPES_STREAM: version}, projects.set_type(name, stages), ctx,
                     projects.TYPES_STREAM)
    return {"name": name, "stages": stages}


def register(uow: UnitOfWork, cmd: projects.RegisterProject, ctx: Context) -> Project:
    decided = projects.register(cmd, types(uow)[0], handlers.load_directory(uow),
                                handlers.load_campaign(uow, cmd.campaign_id))
    return aggregates.new(uow, Project, decided, ctx)


def stage_command(uow: UnitOfWork, project_id: str, command: str, stage: str, on: date | None, ctx: Context,
                  expected_version: int | None = None) -> Project:
    decide = projects.enter_stage if command == "enter_stage" else projects.complete_stage
    calendar = handlers.load_directory(uow).calendar()
    return aggregates.decide(uow, Project, project_id, expected_version,
                             lambda p: decide(p, stage, on, ctx.role, ctx.unit, local_date(ctx.now), calendar), ctx)


def open_case(uow: UnitOfWork, project_id: str, stage: str, ctx: Context) -> tuple[Project, str]:
    """The stage past its grace becomes a case on channel project_monitoring (notify's scheduler asks)."""
    opened: list[str] = []

    def decide(p: Project) -> list[NewEvent]:
        overdue, cmd = projects.overdue_case(p, stage, local_date(ctx.now), handlers.load_directory(uow).calendar())
        opened.append(handlers.receive_case(cmd, uow, ctx).case_id)
        return projects.case_opened(stage, p.spec(stage)["unit"], opened[0], p.stages[stage]["due"], overdue)
    return aggregates.decide(uow, Project, project_id, None, decide, ctx), opened[0]
