"""Inspections (明察暗访) and monitoring points (效能监测点): the office's own sources of leads.

Who may do what (docs/CHANNELS.md): the office plans, records and closes; auditors read everything;
a unit reads only the inspections that target it, and an unannounced one only once it is completed;
a monitoring point submits with a channel token for channel `monitoring_point` whose subject is its
point id; units never see monitoring points at all.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from flask import url_for
from flask.views import MethodView

from zfcommon.auth import Principal
from zfcommon.blueprint import Blueprint
from zfcommon.problem import Forbidden, NotFound
from zfcommon.web import principal
from zfcommon.workdays import local_date

from ..domain.inspection import Inspection, Lead, PlanInspection
from ..domain.monitoring import MonitoringPoint, RegisterPoint
from ..service_layer import aggregates
from ..service_layer import inspections as service
from .aggregate_http import aggregate_command, etag, evidence_wire, iso, read
from .cases import IDEMPOTENCY, IF_MATCH
from .common import context
from .inspection_schemas import (CompleteIn, InspectionIn, InspectionOut, InspectionPage, InspectionQuery, LeadIn,
                                 LeadRecorded, PointIn, PointOut, PointPage, PointQuery)
from .schemas import ReasonIn

blp = Blueprint("inspections", __name__, url_prefix="/v1/inspections", description="Inspections (明察暗访)")
points_blp = Blueprint("monitoring_points", __name__, url_prefix="/v1/monitoring-points",
                       description="Efficiency monitoring points (效能监测点)")
POINT_CHANNEL = "monitoring_point"


def _today():
    return local_date(context().now)


def _lead(body: dict) -> Lead:
    return Lead(**{**body, "evidence": tuple(evidence_wire(body["evidence"]))})


def _entries(entries: list[dict]) -> list[dict]:
    return [{**e, "recorded_at": iso(e["recorded_at"])} for e in entries]


# Answers are plain JSON (dates as ISO text): the Idempotency-Key store keeps them as JSONB.
def inspection_out(i: Inspection, who: Principal, with_findings: bool) -> dict:
    """What `who` may see of an inspection: a unit its own findings, no office note, and no team on 暗访."""
    today, f, unit_view = _today(), i.facts, who.role == "unit"
    findings = _entries([x for x in i.findings if not unit_view or x["unit"] == who.unit])
    hide_team = unit_view and f["mode"] == "unannounced"
    return {"inspection_id": i.inspection_id, "version": i.version, "status": i.phase(today),
            "title": f["title"], "mode": f["mode"], "target_units": f["target_units"],
            "team": None if hide_team else f["team"], "starts_on": f["starts_on"], "ends_on": f["ends_on"],
            "focus": f["focus"], "note": None if unit_view else f["note"], "summary": f.get("summary"),
            "campaign_id": f.get("campaign_id"),
            "cancel_reason": f.get("cancel_reason"), "planned_at": iso(i.planned_at), "closed_at": iso(i.closed_at),
            "finding_count": len(findings), **({"findings": findings} if with_findings else {}),
            "allowed_commands": i.allowed_commands(today) if who.role == "office" else []}


def _visible(i: Inspection, who: Principal) -> bool:
    return who.role != "unit" or i.visible_to_unit(who.unit)


@blp.route("")
class Inspections(MethodView):
    @blp.roles("office")
    @blp.arguments(InspectionIn)
    @blp.response(201, InspectionOut)
    @blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Plan an inspection: target units, team, dates, announced (明察) or unannounced (暗访)."""
        who = principal()
        cmd = PlanInspection(**{**body, "target_units": tuple(body["target_units"]),
                                "team": tuple(body["team"]), "focus": tuple(body["focus"])})

        def plan(u, _expected):
            i = service.plan_inspection(u, cmd, context())
            return 201, inspection_out(i, who, True), {
                "Location": url_for("inspections.OneInspection", inspection_id=i.inspection_id), **etag(i.version)}
        return aggregate_command(plan)

    @blp.roles("office", "auditor", "unit")
    @blp.arguments(InspectionQuery, location="query")
    @blp.response(200, InspectionPage)
    def get(self, query):
        """Inspections, newest first. A unit gets only those it may see (a page may then be short)."""
        who = principal()
        found, after = read(lambda u: aggregates.listing(u, Inspection, query["limit"], query.get("before")))
        items = [inspection_out(i, who, False) for i in found if _visible(i, who)
                 and query.get("unit") in (None, *i.facts["target_units"])]
        return {"items": [i for i in items if query.get("status") in (None, i["status"])], "next": after}


@blp.route("/<inspection_id>")
class OneInspection(MethodView):
    @blp.roles("office", "auditor", "unit")
    @blp.response(200, InspectionOut)
    def get(self, inspection_id):
        """One inspection with its findings and the case each became."""
        who = principal()
        i = read(lambda u: aggregates.load(u, Inspection, inspection_id))
        if not _visible(i, who):
            raise NotFound(f"没有检查 {inspection_id}", code="inspection.not_found")   # never reveal a 暗访 to its targets
        return inspection_out(i, who, True), 200, etag(i.version)


@blp.route("/<inspection_id>/findings", methods=["POST"])
@blp.roles("office")
@blp.arguments(LeadIn)
@blp.response(201, LeadRecorded)
@blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])
def record_finding(body, inspection_id):
    """Record a finding at a target unit: it becomes a case (channel `inspection`) in the same transaction."""
    return _record_lead(service.record_finding, inspection_id, _lead(body), "finding_id")


def _record_lead(record: Callable, source_id: str, lead: Lead, own_id: str):
    """A finding or submission: 201 with its id and its case's, Location the case."""
    def run(u, expected):
        source, entry = record(u, source_id, lead, context(), expected)
        return 201, {own_id: entry[own_id], "case_id": entry["case_id"], "case_number": entry["case_number"],
                     "source_id": source_id, "version": source.version}, {
            "Location": url_for("cases.Case", case_id=entry["case_id"]), **etag(source.version)}
    return aggregate_command(run)


def _inspectionrun(name: str, schema, run):
    @blp.route(f"/<inspection_id>/{name}", methods=["POST"], endpoint=name)
    @blp.roles("office")
    @blp.arguments(schema)
    @blp.response(200, InspectionOut)
    @blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])
    def view(body, inspection_id):
        who = principal()

        def decide(u, expected):
            i = run(u, inspection_id, body, expected)
            return 200, inspection_out(i, who, True), etag(i.version)
        return aggregate_command(decide)
    view.__doc__ = run.__doc__


def _complete(u, inspection_id, body, expected):
    """Complete an inspection under way: no more findings; an unannounced one becomes visible to its targets."""
    return service.complete_inspection(u, inspection_id, body["summary"], context(), expected)


def _cancel(u, inspection_id, body, expected):
    """Call off an inspection that has no findings yet."""
    return service.cancel_inspection(u, inspection_id, body["reason"], context(), expected)


_inspectionrun("complete", CompleteIn, _complete)
_inspectionrun("cancel", ReasonIn, _cancel)


# ---- monitoring points ----

def point_out(p: MonitoringPoint, with_submissions: bool) -> dict:
    f = p.facts
    return {"point_id": p.point_id, "version": p.version, "status": p.status, "name": f["name"], "kind": f["kind"],
            "organisation": f["organisation"], "location": f["location"], "watched_units": f["watched_units"],
            "note": f["note"], "deactivation_reason": f.get("deactivation_reason"),
            "registered_at": iso(p.registered_at), "deactivated_at": iso(p.deactivated_at),
            "submission_count": len(p.submissions),
            **({"submissions": _entries(p.submissions)} if with_submissions else {}),
            "allowed_commands": p.allowed_commands()}


def _point_itself(who: Principal, path: Mapping[str, Any]) -> None:
    """Of the channel tokens, only the point's own: channel `monitoring_point`, subject this point's id
    (checked with the declared roles, before the body is read)."""
    if who.role == "channel" and (who.channel != POINT_CHANNEL or who.sub != path.get("point_id")):
        raise Forbidden(f"只有正风办或该监测点自己的令牌（渠道 {POINT_CHANNEL}，主体为监测点编号）可以访问",
                        code="monitoring_point.not_this_point")


@points_blp.route("")
class Points(MethodView):
    @points_blp.roles("office")
    @points_blp.arguments(PointIn)
    @points_blp.response(201, PointOut)
    @points_blp.doc(parameters=[IDEMPOTENCY])
    def post(self, body):
        """Appoint a monitoring point; issue it a token with `zf token channel <point_id> --channel monitoring_point`."""
        cmd = RegisterPoint(**{**body, "watched_units": tuple(body["watched_units"])})

        def register(u, _expected):
            p = service.register_point(u, cmd, context())
            return 201, point_out(p, True), {
                "Location": url_for("monitoring_points.Point", point_id=p.point_id), **etag(p.version)}
        return aggregate_command(register)

    @points_blp.roles("office", "auditor")
    @points_blp.arguments(PointQuery, location="query")
    @points_blp.response(200, PointPage)
    def get(self, query):
        """Monitoring points, newest first (office and auditors: units never see who watches them)."""
        found, after = read(lambda u: aggregates.listing(u, MonitoringPoint, query["limit"], query.get("before")))
        return {"items": [point_out(p, False) for p in found if query.get("status") in (None, p.status)],
                "next": after}


@points_blp.route("/<point_id>")
class Point(MethodView):
    @points_blp.roles("office", "auditor", "channel", also=_point_itself)
    @points_blp.response(200, PointOut)
    def get(self, point_id):
        """One monitoring point with its submissions and the case each became."""
        p = read(lambda u: aggregates.load(u, MonitoringPoint, point_id))
        return point_out(p, True), 200, etag(p.version)


@points_blp.route("/<point_id>/submissions", methods=["POST"])
@points_blp.roles("office", "channel", also=_point_itself)
@points_blp.arguments(LeadIn)
@points_blp.response(201, LeadRecorded)
@points_blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])
def record_submission(body, point_id):
    """A point reports a problem: it becomes a case (channel `monitoring_point`) in the same transaction."""
    return _record_lead(service.record_submission, point_id, _lead(body), "submission_id")


@points_blp.route("/<point_id>/deactivate", methods=["POST"])
@points_blp.roles("office")
@points_blp.arguments(ReasonIn)
@points_blp.response(200, PointOut)
@points_blp.doc(parameters=[IDEMPOTENCY, IF_MATCH])
def deactivate(body, point_id):
    """Stop a point: its later submissions are refused (409)."""

    def run(u, expected):
        p = service.deactivate_point(u, point_id, body["reason"], context(), expected)
        return 200, point_out(p, True), etag(p.version)
    return aggregate_command(run)
