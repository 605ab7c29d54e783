"""Key projects (重点项目) on the write side: project types with their stages and time limits, projects,
stages entered and completed, and a stage past its grace opened as a case (docs/CAMPAIGNS.md).

The office does everything; a stage's approving unit records its own stage; units read the projects
they approve for; notify's scheduler asks for the case (office token). Lists, timelines and the
approval-time figures are the ledger's.
"""
from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from zfcommon.auth import Principal
from zfcommon.blueprint import Blueprint
from zfcommon.problem import NotFound
from zfcommon.web import principal

from ..domain.project import Project, RegisterProject
from ..service_layer import aggregates
from ..service_layer import projects as service
from .aggregate_http import aggregate_command, etag, iso, read
from .campaign_schemas import (ProjectIn, ProjectOut, ProjectTypeIn, ProjectTypeOut, ProjectTypes, StageCaseOut,
                               StageIn)
from .cases import IDEMPOTENCY, IF_MATCH
from .common import context

blp = Blueprint("projects", __name__, url_prefix="/v1/projects", description="Key projects (重点项目)")
types_blp = Blueprint("project_types", __name__, url_prefix="/v1/project-types",
                      description="Project types: stages and time limits")


@types_blp.route("")
class Types(MethodView):
    @types_blp.roles("office", "auditor", "unit")
    @types_blp.response(200, ProjectTypes)
    def get(self):
        """Every project type with its stages and time limits (working days)."""
        known, _ = read(service.types)
        return {"items": [{"name": n, "stages": s} for n, s in sorted(known.items())]}


@types_blp.route("/<name>", methods=["PUT"])
@types_blp.roles("office")
@types_blp.arguments(ProjectTypeIn)
@types_blp.response(200, ProjectTypeOut)
@types_blp.doc(parameters=[IDEMPOTENCY])
def set_type(body, name):
    """Set a project type's stages (e.g. 立项, 用地, 规划许可, 施工许可, 开工, 竣工) and their limits."""
    return aggregate_command(lambda u, _e: (200, service.set_type(u, name, body["stages"], context()), {}))


def project_out(p: Project, who: Principal) -> dict:
    f = p.facts
    return {"project_id": p.project_id, "version": p.version, **{k: f.get(k) for k in (
        "name", "owner", "project_type", "campaign_id", "handling_mode", "case_grace_days", "case_category", "note")},
        "stages": p.view(who.role, who.unit), "registered_at": iso(p.registered_at),
        "allowed_commands": p.allowed_commands()}


def _visible(p: Project, who: Principal) -> bool:
    return who.role in ("office", "auditor") or (who.role == "unit" and who.unit in p.units())


@blp.route("")
class Projects(MethodView):
    @blp.roles("office")
    @blp.arguments(ProjectIn)
    @blp.response(201, ProjectOut)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Put a key project under whole-process monitoring: its type's stages, each with its approving unit."""
        cmd, who = RegisterProject(**body), principal()

        def register(u, _expected):
            p = service.register(u, cmd, context())
            return 201, project_out(p, who), {"Location": url_for("projects.OneProject", project_id=p.project_id),
                                              **etag(p.version)}
        return aggregate_command(register)


@blp.route("/<project_id>")
class OneProject(MethodView):
    @blp.roles("office", "auditor", "unit")
    @blp.response(200, ProjectOut)
    def get(self, project_id):
        """One project and each stage's state, dates and case, straight from its events."""
        who = principal()
        p = read(lambda u: aggregates.load(u, Project, project_id))
        if not _visible(p, who):
            raise NotFound(f"没有这个重点项目：{project_id}", code="project.not_found")
        return project_out(p, who), 200, etag(p.version)


def _stage_command(name: str):
    @blp.route(f"/<project_id>/{name.replace('_', '-')}", methods=["POST"], endpoint=name)
    @blp.roles("office", "unit")
    @blp.arguments(StageIn)
    @blp.response(200, ProjectOut)
    @blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])
    def view(body, project_id):
        who = principal()

        def decide(u, expected):
            if who.role == "unit" and not _visible(aggregates.load(u, Project, project_id), who):
                raise aggregates.SourceNotFound(f"没有这个重点项目：{project_id}", "project.not_found")
            p = service.stage_command(u, project_id, name, body["stage"], body["on"], context(), expected)
            return 200, project_out(p, who), etag(p.version)
        return aggregate_command(decide)
    view.__doc__ = {"enter_stage": "A stage is entered (on a day, default today): its time limit runs from then.",
                    "complete_stage": "A stage is completed: the working days it took are recorded."}[name]


_stage_command("enter_stage")
_stage_command("complete_stage")


@blp.route("/<project_id>/stages/<stage>/open-case", methods=["POST"])
@blp.roles("office")
@blp.response(201, StageCaseOut)
@blp.doc(parameters=[IDEMPOTENCY])
def open_case(project_id, stage):
    """A stage past its limit by the project's grace becomes a case on channel project_monitoring, linked
    to the project (notify's scheduler asks; 422 project.within_grace before, 409 once it is a case)."""

    def decide(u, _expected):
        p, case_id = service.open_case(u, project_id, stage, context())
        return 201, {"project_id": project_id, "stage": stage, "case_id": case_id, "version": p.version}, {
            "Location": url_for("cases.Case", case_id=case_id)}
    return aggregate_command(decide)
