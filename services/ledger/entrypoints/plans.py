"""The ledger's campaign machinery (docs/CAMPAIGNS.md): campaigns with their phase and figures, tasks,
key projects, approval times, look-backs. The office and auditors read everything; a unit only its
own tasks (lead or cooperating) and the projects it approves for; channels and the public nothing."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from zfcommon.problem import Forbidden, NotFound
from zfcommon.web import principal

from ..service_layer import plan_views as views
from .access import pool, today
from .plan_schemas import TaskDetail, TaskPage, TaskQuery
from .schemas import IN_QUERY

tasks_blp = Blueprint("ledger_tasks", __name__, url_prefix="/v1/tasks", description="Tasks (任务分解)")


def unit_scope(*roles: str) -> str | None:
    """None for the office and auditors (everything), the unit's name for a unit; 403 for the rest."""
    who = principal()
    allowed = roles or ("office", "auditor", "unit")
    if who.role not in allowed:
        raise Forbidden(f"角色“{who.role}”不能查看专项行动的内容", code="plans.forbidden")
    return who.unit if who.role == "unit" else None


@tasks_blp.route("")
class Tasks(MethodView):
    @tasks_blp.arguments(TaskQuery, **IN_QUERY)
    @tasks_blp.response(200, TaskPage)
    def get(self, query):
        """Tasks by deadline, with overdue facts for today and their escalation ladders."""
        scope = unit_scope()
        with pool().connection() as conn:
            items = views.task_rows(conn, query, scope, today(), query["limit"], query["offset"])
        full = len(items) == query["limit"]
        return {"items": items, "next_offset": query["offset"] + len(items) if full else None}


@tasks_blp.route("/<task_id>")
class OneTask(MethodView):
    @tasks_blp.response(200, TaskDetail)
    def get(self, task_id):
        """One task, its milestones, its escalation history and its timeline (every event in order)."""
        scope = unit_scope()
        with pool().connection() as conn:
            found = views.task_detail(conn, task_id, scope, today())
        if found is None:
            raise NotFound(f"台账中没有这个任务：{task_id}", code="not_found")
        return found
BLUEPRINTS = (tasks_blp,)
