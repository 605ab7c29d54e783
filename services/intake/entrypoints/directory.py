"""The office's directory and accountability records."""
from __future__ import annotations

from flask.views import MethodView

from zfcommon.blueprint import Blueprint
from zfcommon.events.catalogue import CALENDAR_YEARS
from zfcommon.problem import NotFound, Unprocessable
from zfcommon.workdays import ScheduleError, YearSchedule, local_date

from ..domain import directory as domain
from ..service_layer import handlers
from ..service_layer import robots
from .common import command, context, problems, uow
from ..domain import lifecycle
from .robot_schemas import RobotAddressesOut, RobotsIn, RobotsOut
from .schemas import (AccountabilityIn, CalendarYearIn, CategoryIn, DeadlinePreview, DeadlineQuery, DirectoryOut,
                      LimitsIn, UnitIn)

blp = Blueprint("directory", __name__, url_prefix="/v1", description="Directory and accountability")


def snapshot(d: domain.Directory) -> dict:
    units = [{**u, "robots": sorted(d.robots.get(u["name"], {}))} for u in d.units.values()]
    return {"version": d.version, "units": sorted(units, key=lambda u: u["name"]),
            "categories": d.categories, "limits": d.limits, "sign_for_days": d.sign_for_days,
            "recheck_ratio": d.recheck_ratio, "calendar_fallback": d.calendar_fallback,
            "calendar_years": sorted(d.years)}


def _change(decide, *args):
    return command(lambda u: (200, snapshot(handlers.change_directory(u, decide, context(), *args)), {}))


@blp.route("/directory")
class Directory(MethodView):
    @blp.roles("office", "auditor", "unit", "channel")
    @blp.response(200, DirectoryOut)
    def get(self):
        """Units, categories, limits and entered calendar years."""
        with uow() as u:
            return snapshot(handlers.load_directory(u))


@blp.route("/directory/deadline", methods=["GET"])
@blp.roles("office")
@blp.arguments(DeadlineQuery, location="query")
@blp.response(200, DeadlinePreview)
def deadline_preview(query):
    """The deadline and sign-for day an assignment today would get by the limits and the official calendar
    (a preview for the office before it assigns; 422 naming the year the calendar cannot count)."""
    today = local_date(context().now)
    with uow() as u:
        directory = handlers.load_directory(u)
    return problems(lambda: lifecycle.preview_assignment(directory, today, query["handling_mode"], query["priority"]))


@blp.route("/directory/units", methods=["POST"])
@blp.roles("office")
@blp.arguments(UnitIn)
@blp.response(200, DirectoryOut)
def register_unit(body):
    """Register a unit, or update it when the name exists."""
    return _change(domain.register_unit, body)


def _known_unit(u, name: str) -> None:
    if name not in handlers.load_directory(u).units:
        raise NotFound(f"名录中没有单位“{name}”", code="directory.unit_unknown")


@blp.route("/directory/units/<name>/robots")
class UnitRobots(MethodView):
    @blp.roles("office", "auditor")
    @blp.response(200, RobotsOut)
    def get(self, name):
        """Which group robots (企业微信, 钉钉) the unit's notices go to; never their addresses."""
        with uow() as u:
            _known_unit(u, name)
            return {"unit": name, "robots": robots.unit_robots(u, name)}

    @blp.roles("office")
    @blp.arguments(RobotsIn)
    @blp.response(200, RobotsOut)
    def put(self, body, name):
        """Set the unit's group robots: addresses sealed at rest, the directory event names them by
        reference only, and the robots replaced are deleted."""
        def change(u):
            _known_unit(u, name)
            return 200, {"unit": name, "robots": robots.set_unit_robots(u, name, body, context())}, {}
        return command(change)


@blp.route("/directory/units/<name>/robots/addresses", methods=["GET"])
@blp.roles("office")
@blp.response(200, RobotAddressesOut)
def robot_addresses(name):
    """The unit's robot addresses, opened: for notify's sender at send time (each read is logged)."""
    with uow() as u:
        _known_unit(u, name)
        return {"unit": name, **robots.robot_addresses(u, name, context().actor)}


@blp.route("/directory/categories", methods=["POST"])
@blp.roles("office")
@blp.arguments(CategoryIn)
@blp.response(200, DirectoryOut)
def add_category(body):
    """Add a category to the taxonomy."""
    return _change(domain.add_category, body["name"], body["group"])


@blp.route("/directory/categories/<name>", methods=["DELETE"])
@blp.roles("office")
@blp.response(200, DirectoryOut)
def remove_category(name):
    """Retire a category (cases keep theirs)."""
    return problems(lambda: _change(domain.remove_category, name))


@blp.route("/directory/limits", methods=["PUT"])
@blp.roles("office")
@blp.arguments(LimitsIn)
@blp.response(200, DirectoryOut)
def set_limits(body):
    """Working days per handling mode and priority, the sign-for limit, re-check ratio, calendar fallback."""
    missing = [f"{m}.{p}" for m in ("immediate", "deadline", "long_term")
               for p in ("normal", "urgent", "critical") if p not in body["limits"].get(m, {})]
    if missing:
        raise Unprocessable("每种处置方式的每个优先级都须设定时限", code="directory.limits_incomplete",
                            errors={"limits": [f"缺少：{'、'.join(missing)}"]})
    return _change(domain.set_limits, body)


@blp.route("/directory/calendar/<int:year>", methods=["PUT"])
@blp.roles("office")
@blp.arguments(CalendarYearIn)
@blp.response(200, DirectoryOut)
def set_calendar_year(body, year):
    """Enter a year's official schedule: all holidays, and the make-up working weekend days."""
    if year not in CALENDAR_YEARS:
        raise Unprocessable(f"年份须在 {CALENDAR_YEARS[0]} 到 {CALENDAR_YEARS[-1]} 之间", code="calendar.year_out_of_range",
                            errors={"year": [f"须在 {CALENDAR_YEARS[0]} 到 {CALENDAR_YEARS[-1]} 之间"]})
    try:
        schedule = YearSchedule(year, frozenset(body["holidays"]), frozenset(body["workdays"]))
    except ScheduleError as exc:
        raise Unprocessable(str(exc), code="calendar.schedule_invalid",
                            errors={field: [str(exc)] for field in exc.fields}) from None
    return _change(domain.set_calendar_year, schedule)


@blp.route("/accountability", methods=["POST"])
@blp.roles("office")
@blp.arguments(AccountabilityIn)
@blp.response(201)
def record_accountability(body):
    """Record an accountability measure (问责) against a unit or person, on the basis of cases."""
    return command(lambda u: (201, {"accountability_id": handlers.record_accountability(u, body, context())}, {}))
