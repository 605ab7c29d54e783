"""Campaigns and their tasks: load, decide, append — in the caller's unit of work (docs/CAMPAIGNS.md)."""
from __future__ import annotations

from typing import Any

from zfcommon.workdays import local_date

from ..domain import campaign as campaigns
from ..domain import task as tasks
from ..domain.campaign import Campaign
from ..domain.task import Task
from . import aggregates, handlers
from .handlers import Context
from .uow import UnitOfWork


def launch_campaign(uow: UnitOfWork, cmd: campaigns.LaunchCampaign, ctx: Context) -> Campaign:
    return aggregates.new(uow, Campaign, campaigns.launch(cmd, handlers.load_directory(uow)), ctx)


def revise_campaign(uow: UnitOfWork, campaign_id: str, cmd: campaigns.LaunchCampaign, reason: str, ctx: Context,
                    expected_version: int | None = None) -> Campaign:
    directory = handlers.load_directory(uow)
    return aggregates.decide(uow, Campaign, campaign_id, expected_version,
                             lambda c: campaigns.revise(c, cmd, reason, directory, local_date(ctx.now)), ctx)


def issue_task(uow: UnitOfWork, cmd: tasks.IssueTask, ctx: Context) -> Task:
    decided = tasks.issue(cmd, handlers.load_directory(uow), handlers.load_campaign(uow, cmd.campaign_id),
                          local_date(ctx.now))
    return aggregates.new(uow, Task, decided, ctx)


def task_command(uow: UnitOfWork, task_id: str, command: str, args: dict[str, Any], ctx: Context,
                 expected_version: int | None = None) -> Task:
    return aggregates.decide(uow, Task, task_id, expected_version,
                             lambda t: tasks.decide(t, command, args, ctx.role, ctx.unit, local_date(ctx.now)), ctx)
