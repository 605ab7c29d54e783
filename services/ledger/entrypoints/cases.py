"""/v1/cases: the ledger's cases, one case, its timeline, its state at a past instant, and exports."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from zfcommon import casenumbers
from zfcommon.blueprint import Blueprint
from zfcommon.exports import export_doc
from zfcommon.problem import NotFound, Unprocessable

from ..adapters.cursor import decode_cursor
from ..service_layer import views
from . import columns
from .access import READERS, calendar_checked, pool, reader_scope, today
from .downloads import exported
from .responses import CaseAsOf, CaseDetail, CasePage, Timeline
from .schemas import IN_QUERY, AsOfQuery, CaseFilter, CaseQuery

blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="The ledger's view of cases (台账)")


def visible(view, case_id: str, *args, when: str = ""):
    """What `view` finds of a case the reader may see; 404 alike for a missing and a hidden case."""
    with pool().connection() as conn:
        found = view(conn, case_id, reader_scope(), *args)
    if found is None:
        raise NotFound(f"台账中没有案件 {case_id}{when}", code="case.not_found")
    return found


MAX_NUMBER_MATCHES = 30           # a serial in each year since 2000, and the number as typed


def searched(query: dict) -> dict:
    """The filters with the case numbers a search `q` may mean (a serial alone: in each year)."""
    if not query.get("q"):
        return query
    prefix = current_app.extensions["zf_settings"].case_number_prefix
    return {**query, "numbers": casenumbers.meant(query["q"], prefix, today())}


@blp.route("")
class Cases(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(CaseQuery, **IN_QUERY)
    @blp.response(200, CasePage)
    def get(self, query):
        """Cases newest first (keyset paging: follow next_cursor with the same filters)."""
        scope = reader_scope()
        try:
            after = decode_cursor(query["cursor"]) if query.get("cursor") else None
        except ValueError:
            raise Unprocessable("cursor 无效：须原样使用上一页返回的 next_cursor", code="ledger.cursor_invalid",
                                errors={"cursor": ["不是本接口返回的游标"]}) from None
        query = searched(query)
        with pool().connection() as conn:
            items, next_cursor = calendar_checked(lambda: views.case_page(conn, query, scope, today(),
                                                                          limit=query["limit"], after=after))
            # A search that names cases by number: those cases first, whatever their place in the list.
            named = {k: v for k, v in query.items() if k not in ("q", "numbers")}
            matches = calendar_checked(lambda: views.case_page(
                conn, {**named, "number_in": query["numbers"]}, scope, today(), limit=MAX_NUMBER_MATCHES,
                after=None)[0]) if query.get("numbers") and after is None else []
        return {"items": items, "next_cursor": next_cursor, "number_matches": matches}


@blp.route("/export.<any(csv, xlsx):fmt>")
class CasesExport(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(CaseFilter, **IN_QUERY)
    @blp.doc(**export_doc("Every matching case"))
    def get(self, query, fmt):
        """All cases matching the list's filters, newest first, as a spreadsheet."""
        return exported(fmt, columns.CASES, views.all_cases, searched(query), title="台账", slug="ledger-cases")


@blp.route("/<case_id>")
class Case(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, CaseDetail)
    def get(self, case_id):
        """One case as the ledger projects it, with overdue facts computed for today and its escalations."""
        return visible(views.case_detail, case_id, today())


@blp.route("/<case_id>/timeline")
class CaseTimeline(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, Timeline)
    def get(self, case_id):
        """Every event of the case in order: who did what, when, and what changed."""
        case_number, items = visible(views.case_timeline, case_id)
        return {"case_id": case_id, "case_number": case_number, "items": items}


@blp.route("/<case_id>/as-of")
class CaseAsOfView(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(AsOfQuery, **IN_QUERY)
    @blp.response(200, CaseAsOf)
    def get(self, query, case_id):
        """The case as it stood at `at`, rebuilt from its events up to then."""
        row = visible(views.case_as_of, case_id, query["at"], when=f"（截至 {query['at'].isoformat()}）")
        return {**row, "as_of": query["at"]}
