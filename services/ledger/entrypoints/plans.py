"""The ledger's campaign machinery (docs/CAMPAIGNS.md): campaigns with their phase and figures, tasks,
key projects, approval times, look-backs. The office and auditors read everything; a unit only its
own tasks (lead or cooperating) and the projects it approves for; channels and the public nothing."""
from __future__ import annotations

from flask.views import MethodView

from zfcommon.blueprint import Blueprint
from zfcommon.problem import Forbidden, NotFound
from zfcommon.web import principal

from ..adapters import plan_queries
from ..domain import similarity
from ..service_layer import plan_views as views
from .access import pool, today
from .plan_schemas import (ApprovalQuery, ApprovalTimes, CampaignOut, CampaignPage, CampaignReport, Candidates,
                           CandidateQuery, LookbackOut, LookbackPage, ProjectDetail, ProjectPage, ProjectQuery,
                           ReportPeriod, SuggestionQuery, Suggestions, TaskDetail, TaskPage, TaskQuery)
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
    @tasks_blp.roles("office", "auditor", "unit")
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
    @tasks_blp.roles("office", "auditor", "unit")
    @tasks_blp.response(200, TaskDetail)
    def get(self, task_id):
        """One task, its milestones, its escalation history and its timeline (every event in order)."""
        scope = unit_scope()
        with pool().connection() as conn:
            found = views.task_detail(conn, task_id, scope, today())
        if found is None:
            raise NotFound(f"台账中没有这个任务：{task_id}", code="task.not_found")
        return found
campaigns_blp = Blueprint("ledger_campaigns", __name__, url_prefix="/v1/campaigns", description="Campaigns (专项行动)")
projects_blp = Blueprint("ledger_projects", __name__, url_prefix="/v1/projects", description="Key projects (重点项目)")
approval_blp = Blueprint("approval_times", __name__, url_prefix="/v1/units/approval-times",
                         description="Per-unit approval times of project stages")
lookbacks_blp = Blueprint("ledger_lookbacks", __name__, url_prefix="/v1/lookbacks", description="Look-backs (回头看)")
candidates_blp = Blueprint("lookback_candidates", __name__, url_prefix="/v1/lookback-candidates",
                           description="What a look-back may draw (intake asks)")


@campaigns_blp.route("")
class Campaigns(MethodView):
    @campaigns_blp.roles("office", "auditor", "unit")
    @campaigns_blp.response(200, CampaignPage)
    def get(self):
        """Every campaign, newest first, with the phase it is in today and its figures (a unit: its own)."""
        scope = unit_scope()
        with pool().connection() as conn:
            return {"today": today(), "items": views.campaigns(conn, today(), scope)}


@campaigns_blp.route("/report")
class CampaignReportView(MethodView):
    @campaigns_blp.roles("office", "auditor")
    @campaigns_blp.arguments(ReportPeriod, **IN_QUERY)
    @campaigns_blp.response(200, CampaignReport)
    def get(self, query):
        """The campaigns that ran in the period with their figures over it and per unit (the bulletin's
        per-campaign section asks this)."""
        unit_scope("office", "auditor")
        with pool().connection() as conn:
            return {"today": today(), "items": views.campaign_report(conn, query["start"], query["end"], today())}


@campaigns_blp.route("/<campaign_id>")
class OneCampaign(MethodView):
    @campaigns_blp.roles("office", "auditor", "unit")
    @campaigns_blp.response(200, CampaignOut)
    def get(self, campaign_id):
        """One campaign: its phase today and its figures, in total and per lead unit."""
        scope = unit_scope()
        with pool().connection() as conn:
            found = views.campaign_detail(conn, campaign_id, today(), scope)
        if found is None:
            raise NotFound(f"台账中没有这个专项行动：{campaign_id}", code="campaign.not_found")
        return found


@projects_blp.route("")
class Projects(MethodView):
    @projects_blp.roles("office", "auditor", "unit")
    @projects_blp.arguments(ProjectQuery, **IN_QUERY)
    @projects_blp.response(200, ProjectPage)
    def get(self, query):
        """Key projects, newest first, each stage with its dates and whether it is past its limit today."""
        scope = unit_scope()
        with pool().connection() as conn:
            return {"items": views.projects(conn, query, scope, today())}


@projects_blp.route("/<project_id>")
class OneProject(MethodView):
    @projects_blp.roles("office", "auditor", "unit")
    @projects_blp.response(200, ProjectDetail)
    def get(self, project_id):
        """One project: its stages with their escalation ladders, and its timeline."""
        scope = unit_scope()
        with pool().connection() as conn:
            found = views.project_detail(conn, project_id, scope, today())
        if found is None:
            raise NotFound(f"台账中没有这个重点项目：{project_id}", code="project.not_found")
        return found


@approval_blp.route("")
class ApprovalTimesView(MethodView):
    @approval_blp.roles("office", "auditor", "unit")
    @approval_blp.arguments(ApprovalQuery, **IN_QUERY)
    @approval_blp.response(200, ApprovalTimes)
    def get(self, query):
        """Per approving unit and stage: median and worst working days of the stages completed in the
        period, and the stages open now (a unit: its own rows)."""
        scope = unit_scope()
        with pool().connection() as conn:
            return {"today": today(), "items": views.approval_times(conn, query, scope, today())}


@lookbacks_blp.route("")
class Lookbacks(MethodView):
    @lookbacks_blp.roles("office", "auditor")
    @lookbacks_blp.response(200, LookbackPage)
    def get(self):
        """Every look-back, newest first, with how many were drawn, held and rebounded."""
        unit_scope("office", "auditor")
        with pool().connection() as conn:
            return {"items": views.lookbacks(conn)}


@lookbacks_blp.route("/<lookback_id>")
class OneLookback(MethodView):
    @lookbacks_blp.roles("office", "auditor")
    @lookbacks_blp.response(200, LookbackOut)
    def get(self, lookback_id):
        """One look-back with its drawn items and their findings."""
        unit_scope("office", "auditor")
        with pool().connection() as conn:
            found = views.lookbacks(conn, lookback_id)
        if not found:
            raise NotFound(f"台账中没有这个回头看：{lookback_id}", code="lookback.not_found")
        return found[0]


@candidates_blp.route("")
class CandidatesView(MethodView):
    @candidates_blp.roles("office")
    @candidates_blp.arguments(CandidateQuery, **IN_QUERY)
    @candidates_blp.response(200, Candidates)
    def get(self, query):
        """Closed cases and signed-off tasks matching a look-back's filters (office only: intake draws)."""
        unit_scope("office")
        with pool().connection() as conn:
            return {"items": plan_queries.lookback_candidates(conn, query)}


suggestions_blp = Blueprint("duplicate_suggestions", __name__, url_prefix="/v1/cases",
                            description="Duplicate suggestions (并单建议)")


@suggestions_blp.route("/<case_id>/duplicate-suggestions")
class DuplicateSuggestions(MethodView):
    @suggestions_blp.roles("office")
    @suggestions_blp.arguments(SuggestionQuery, **IN_QUERY)
    @suggestions_blp.response(200, Suggestions)
    def get(self, query, case_id):
        """Up to five open cases that look like the same matter, each with its score and why (office only):
        confirm with intake's `merge`, or record `dismiss-duplicate` so it is not suggested again."""
        unit_scope("office")
        threshold = query.get("threshold", similarity.DEFAULT_THRESHOLD)
        with pool().connection() as conn:
            found = views.duplicate_suggestions(conn, case_id, query["window_days"], threshold)
        if found is None:
            raise NotFound(f"台账中没有这件案件：{case_id}", code="case.not_found")
        return {"case_id": case_id, "threshold": threshold, "items": found}


BLUEPRINTS = (tasks_blp, suggestions_blp, campaigns_blp, projects_blp, approval_blp, lookbacks_blp, candidates_blp)
