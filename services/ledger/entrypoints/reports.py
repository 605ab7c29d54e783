"""/v1/overdue, /v1/units/stats and /v1/summary: the overdue list, the per-unit figures with their exports,
and today's counts for a dashboard."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from zfcommon.blueprint import Blueprint
from zfcommon.exports import export, export_doc
from zfcommon.problem import Forbidden

from ..service_layer import views
from . import columns
from .access import READERS, calendar_checked, pool, reader_scope, today
from .downloads import exported
from .responses import OverduePage, StatsOut, SummaryOut
from .schemas import IN_QUERY, OverdueFilter, OverdueQuery, StatsQuery, SummaryQuery

overdue_blp = Blueprint("overdue", __name__, url_prefix="/v1/overdue", description="Overdue cases (超期)")
stats_blp = Blueprint("units", __name__, url_prefix="/v1/units", description="Per-unit figures")
summary_blp = Blueprint("summary", __name__, url_prefix="/v1/summary", description="Today's counts (dashboards)")


@summary_blp.route("")
class Summary(MethodView):
    @summary_blp.roles(*READERS)
    @summary_blp.arguments(SummaryQuery, **IN_QUERY)
    @summary_blp.response(200, SummaryOut)
    def get(self, query):
        """Counts of the cases the reader may see: new leads, due within `due_within` working days (黄灯),
        overdue (红灯), waiting past the sign-for day, awaiting verification, extension requests pending."""
        scope = reader_scope()
        with pool().connection() as conn:
            return calendar_checked(lambda: views.summary(conn, scope, today(), query["due_within"]))


@overdue_blp.route("")
class Overdue(MethodView):
    @overdue_blp.roles(*READERS)
    @overdue_blp.arguments(OverdueQuery, **IN_QUERY)
    @overdue_blp.response(200, OverduePage)
    def get(self, query):
        """Overdue and sign-for overdue open cases, most working days overdue first (limit/offset paging)."""
        scope = reader_scope()
        with pool().connection() as conn:
            items = views.overdue_page(conn, query, scope, today(), limit=query["limit"], offset=query["offset"])
        full = len(items) == query["limit"]
        return {"items": items, "next_offset": query["offset"] + len(items) if full else None}


@overdue_blp.route("/export.<any(csv, xlsx):fmt>")
class OverdueExport(MethodView):
    @overdue_blp.roles(*READERS)
    @overdue_blp.arguments(OverdueFilter, **IN_QUERY)
    @overdue_blp.doc(**export_doc("Every overdue case"))
    def get(self, query, fmt):
        """The whole overdue list as a spreadsheet."""
        return exported(fmt, columns.OVERDUE, views.all_overdue, query, title="超期案件", slug="ledger-overdue")


def _min_base() -> int:
    return current_app.extensions["zf_settings"].min_rate_base


def _stats(query) -> list[dict]:
    scope = reader_scope()
    if scope.source is not None or scope.submitter is not None:
        # The figures are kept per channel: they cannot be narrowed to one system's submissions, and a
        # system may not read beyond those (zfcommon.auth.channel_reach).
        raise Forbidden("单位统计按渠道汇总，本令牌只能查阅本系统报送的案件，不能查阅全渠道统计",
                        code="ledger.stats_channel_wide_only")
    with pool().connection() as conn:
        return views.unit_stats(conn, query, scope, today(), _min_base())


@stats_blp.route("/stats")
class UnitStats(MethodView):
    @stats_blp.roles(*READERS)
    @stats_blp.arguments(StatsQuery, **IN_QUERY)
    @stats_blp.response(200, StatsOut)
    def get(self, query):
        """Per lead unit: open, overdue, closed, and the on-time, rework, extension and satisfaction figures."""
        return {"today": today(), "min_rate_base": _min_base(), "items": _stats(query)}


@stats_blp.route("/stats/export.<any(csv, xlsx):fmt>")
class UnitStatsExport(MethodView):
    @stats_blp.roles(*READERS)
    @stats_blp.arguments(StatsQuery, **IN_QUERY)
    @stats_blp.doc(**export_doc("The per-unit figures"))
    def get(self, query, fmt):
        """The per-unit figures as a spreadsheet."""
        return export(fmt, columns.UNIT_STATS, _stats(query), title="单位统计", slug="ledger-unit-stats", day=today())
