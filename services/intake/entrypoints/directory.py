"""The office's directory and accountability records."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from zfcommon.auth import require_role
from zfcommon.problem import Unprocessable
from zfcommon.web import principal
from zfcommon.workdays import YearSchedule, local_date

from ..domain import directory as domain
from ..service_layer import handlers
from .common import command, context, problems, uow
from ..domain import lifecycle
from .schemas import (AccountabilityIn, CalendarYearIn, CategoryIn, DeadlinePreview, DeadlineQuery, DirectoryOut,
                      LimitsIn, UnitIn)

blp = Blueprint("directory", __name__, url_prefix="/v1", description="Directory and accountability")


def snapshot(d: domain.Directory) -> dict:
    return {"version": d.version, "units": sorted(d.units.values(), key=lambda u: u["name"]),
            "categories": d.categories, "limits": d.limits, "sign_for_days": d.sign_for_days,
            "recheck_ratio": d.recheck_ratio, "calendar_fallback": d.calendar_fallback,
            "calendar_years": sorted(d.years)}


def _change(decide, *args):
    require_role(principal(), "office")
    return command(lambda u: (200, snapshot(handlers.change_directory(u, decide, context(), *args)), {}))


@blp.route("/directory")
class Directory(MethodView):
    @blp.response(200, DirectoryOut)
    def get(self):
        """Units, categories, limits and entered calendar years."""
        require_role(principal(), "office", "auditor", "unit", "channel")
        with uow() as u:
            return snapshot(handlers.load_directory(u))


@blp.route("/directory/deadline", methods=["GET"])
@blp.arguments(DeadlineQuery, location="query")
@blp.response(200, DeadlinePreview)
def deadline_preview(query):
    """The deadline and sign-for day an assignment today would get by the limits and the official calendar
    (a preview for the office before it assigns; 422 naming the year the calendar cannot count)."""
    require_role(principal(), "office")
    today = local_date(context().now)
    with uow() as u:
        directory = handlers.load_directory(u)
    return problems(lambda: lifecycle.preview_assignment(directory, today, query["handling_mode"], query["priority"]))


@blp.route("/directory/units", methods=["POST"])
@blp.arguments(UnitIn)
@blp.response(200, DirectoryOut)
def register_unit(body):
    """Register a unit, or update it when the name exists."""
    return _change(domain.register_unit, body)


@blp.route("/directory/categories", methods=["POST"])
@blp.arguments(CategoryIn)
@blp.response(200, DirectoryOut)
def add_category(body):
    """Add a category to the taxonomy."""
    return _change(domain.add_category, body["name"], body["group"])


@blp.route("/directory/categories/<name>", methods=["DELETE"])
@blp.response(200, DirectoryOut)
def remove_category(name):
    """Retire a category (cases keep theirs)."""
    return problems(lambda: _change(domain.remove_category, name))


@blp.route("/directory/limits", methods=["PUT"])
@blp.arguments(LimitsIn)
@blp.response(200, DirectoryOut)
def set_limits(body):
    """Working days per handling mode and priority, the sign-for limit, re-check ratio, calendar fallback."""
    missing = [f"{m}.{p}" for m in ("immediate", "deadline", "long_term")
               for p in ("normal", "urgent", "critical") if p not in body["limits"].get(m, {})]
    if missing:
        raise Unprocessable("every handling mode needs a limit per priority",
                            errors={"limits": [f"missing: {', '.join(missing)}"]})
    return _change(domain.set_limits, body)


@blp.route("/directory/calendar/<int:year>", methods=["PUT"])
@blp.arguments(CalendarYearIn)
@blp.response(200, DirectoryOut)
def set_calendar_year(body, year):
    """Enter a year's official schedule: all holidays, and the make-up working weekend days."""
    try:
        schedule = YearSchedule(year, frozenset(body["holidays"]), frozenset(body["workdays"]))
    except ValueError as exc:
        raise Unprocessable(str(exc), errors={"holidays": [str(exc)]}) from None
    return _change(domain.set_calendar_year, schedule)


@blp.route("/accountability", methods=["POST"])
@blp.arguments(AccountabilityIn)
@blp.response(201)
def record_accountability(body):
    """Record an accountability measure (问责) against a unit or person, on the basis of cases."""
    require_role(principal(), "office")
    return command(lambda u: (201, {"accountability_id": handlers.record_accountability(u, body, context())}, {}))
