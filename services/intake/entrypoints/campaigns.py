"""Campaigns (专项行动) and their tasks (任务分解) on the write side (docs/CAMPAIGNS.md).

The office launches campaigns and issues tasks; a task's units report progress, milestones and
completion; the office signs off, sends back or withdraws. Units read only their own tasks (lead or
cooperating); auditors read everything; channels and the public nothing. The lists and figures are
the ledger's; intake answers for one aggregate, straight from its events, with `allowed_commands`.
"""
from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from zfcommon.auth import Principal
from zfcommon.blueprint import Blueprint
from zfcommon.campaigns import phase_on
from zfcommon.problem import NotFound
from zfcommon.web import principal
from zfcommon.workdays import local_date

from ..domain import campaign as campaigns
from ..domain import task as tasks
from ..domain.campaign import Campaign
from ..domain.task import Task
from ..service_layer import aggregates
from ..service_layer import campaigns as service
from .aggregate_http import aggregate_command, etag, evidence_wire, iso, read
from .campaign_schemas import TASK_COMMANDS, CampaignIn, CampaignOut, CampaignRevisionIn, TaskIn, TaskOut
from .cases import IDEMPOTENCY, IF_MATCH
from .common import context

blp = Blueprint("campaigns", __name__, url_prefix="/v1/campaigns", description="Campaigns (专项行动)")
tasks_blp = Blueprint("tasks", __name__, url_prefix="/v1/tasks", description="Tasks with the five haves (任务分解)")


def campaign_out(c: Campaign) -> dict:
    f = c.facts
    return {"campaign_id": c.campaign_id, "version": c.version, **{k: f[k] for k in (
        "name", "lead_office", "starts_on", "ends_on", "phases", "categories", "description")},
        "phase": phase_on(f, local_date(context().now)).as_dict(), "launched_at": iso(c.launched_at),
        "revisions": [{**r, "at": iso(r["at"])} for r in c.revisions]}


def _plan(body: dict) -> campaigns.LaunchCampaign:
    return campaigns.LaunchCampaign(**{**{k: v for k, v in body.items() if k != "reason"},
                                       "phases": tuple(body["phases"]), "categories": tuple(body["categories"])})


@blp.route("")
class Campaigns(MethodView):
    @blp.roles("office")
    @blp.arguments(CampaignIn)
    @blp.response(201, CampaignOut)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Launch a campaign with its dated phases and categories (the list is the ledger's /v1/campaigns)."""
        cmd = _plan(body)

        def launch(u, _expected):
            c = service.launch_campaign(u, cmd, context())
            return 201, campaign_out(c), {"Location": url_for("campaigns.OneCampaign", campaign_id=c.campaign_id),
                                          **etag(c.version)}
        return aggregate_command(launch)


@blp.route("/<campaign_id>")
class OneCampaign(MethodView):
    @blp.roles("office", "auditor", "unit")
    @blp.response(200, CampaignOut)
    def get(self, campaign_id):
        """One campaign and the phase it is in today (derived from the calendar, never set by hand)."""
        c = read(lambda u: aggregates.load(u, Campaign, campaign_id))
        return campaign_out(c), 200, etag(c.version)


@blp.route("/<campaign_id>/revise", methods=["POST"])
@blp.roles("office")
@blp.arguments(CampaignRevisionIn)
@blp.response(200, CampaignOut)
@blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])
def revise(body, campaign_id):
    """Revise the plan (调整方案): the whole plan as it should stand, and why. A phase already over keeps
    its dates, no phase is removed, a campaign that has begun keeps its start date (422 naming the field)."""
    cmd = _plan(body)

    def decide(u, expected):
        c = service.revise_campaign(u, campaign_id, cmd, body["reason"], context(), expected)
        return 200, campaign_out(c), etag(c.version)
    return aggregate_command(decide)


def _allowed(t: Task, who: Principal) -> list[str]:
    """The commands this principal may give now (the console asks, never decides)."""
    mine = []
    for name in t.allowed_commands():
        try:
            t.check(name, who.role, who.unit)
            mine.append(name)
        except tasks.NotYours:
            continue
    return mine


def task_out(t: Task, who: Principal) -> dict:
    f = t.facts
    return {"task_id": t.task_id, "version": t.version, "status": t.status, **{k: f.get(k) for k in (
        "campaign_id", "phase", "number", "title", "target", "lead_unit", "cooperating_units", "responsible_leader",
        "measures", "monitor", "handling_mode")}, "deadline": t.deadline.isoformat(), "milestones": t.milestones(),
        "progress": [{**p, "at": iso(p["at"])} for p in t.progress],
        "completion": t.completion and {**t.completion, "at": iso(t.completion["at"])},
        "sent_back_count": t.sent_back_count, "issued_at": iso(t.issued_at), "allowed_commands": _allowed(t, who)}


def visible_task(t: Task, who: Principal) -> bool:
    """The office and auditors read every task; a unit the tasks it leads or cooperates on."""
    return who.role in ("office", "auditor") or (who.role == "unit" and t.is_unit_of(who.unit))


@tasks_blp.route("")
class Tasks(MethodView):
    @tasks_blp.roles("office")
    @tasks_blp.arguments(TaskIn)
    @tasks_blp.response(201, TaskOut)
    @tasks_blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Issue a task: without all five haves it is refused (422 task.five_haves_missing, naming each)."""
        who = principal()
        cmd = tasks.IssueTask(**{**body, "cooperating_units": tuple(body["cooperating_units"]),
                                 "milestones": tuple(body["milestones"])})

        def issue(u, _expected):
            t = service.issue_task(u, cmd, context())
            return 201, task_out(t, who), {"Location": url_for("tasks.OneTask", task_id=t.task_id), **etag(t.version)}
        return aggregate_command(issue)


@tasks_blp.route("/<task_id>")
class OneTask(MethodView):
    @tasks_blp.roles("office", "auditor", "unit")
    @tasks_blp.response(200, TaskOut)
    def get(self, task_id):
        """One task straight from its events, with what the caller may do next."""
        who = principal()
        t = read(lambda u: aggregates.load(u, Task, task_id))
        if not visible_task(t, who):
            raise NotFound(f"没有这个任务：{task_id}", code="task.not_found")   # never reveal another unit's task
        return task_out(t, who), 200, etag(t.version)


def _task_command(name: str, schema):
    @tasks_blp.route(f"/<task_id>/{name.replace('_', '-')}", methods=["POST"], endpoint=f"task_{name}")
    @tasks_blp.roles("office", "unit")
    @tasks_blp.arguments(schema)
    @tasks_blp.response(200, TaskOut)
    @tasks_blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])
    def view(body, task_id):
        who = principal()

        def decide(u, expected):
            if who.role == "unit" and not visible_task(aggregates.load(u, Task, task_id), who):
                raise aggregates.SourceNotFound(f"没有这个任务：{task_id}", "task.not_found")
            args = {**body, **({"evidence": evidence_wire(body["evidence"])} if "evidence" in body else {})}
            t = service.task_command(u, task_id, name, args, context(), expected)
            return 200, task_out(t, who), etag(t.version)
        return aggregate_command(decide)
    view.__doc__ = f"Task command `{name}` ({tasks.COMMAND_NAMES[name]}; docs/CAMPAIGNS.md)."


for _name, _schema in TASK_COMMANDS.items():
    _task_command(_name, _schema)
