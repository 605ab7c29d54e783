"""notify's report tables (weekly: migration 0016; quarterly: 0056): the consumer's part (`apply`,
also run by the command that appended the events, so reads see them at once), the scheduler's
bookkeeping and the reads behind /v1/weekly-reports, /v1/quarterly-reports and /v1/spot-checks."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from zfcommon import eventstore
from zfcommon.events import Event

from ..domain import disclosure, quarterly, reports
from ..domain.reports import Week

log = logging.getLogger(__name__)
Row = dict[str, Any]


# -- the consumer ----------------------------------------------------------------------------------
def apply(conn: psycopg.Connection, event: Event) -> None:
    """Fold one report event into the tables (other events are ignored); every write is idempotent. A
    report event from notify's own store is first put back there if the store lacks it (a rebuild)."""
    if event.type not in reports.TYPES and event.type not in quarterly.TYPES:
        return
    if not eventstore.restore(conn, event, "notify"):
        log.warning("report_stream_diverged", extra={"stream": event.subject, "event_id": event.id})
    handler = _PROJECT.get(event.type)
    if handler is not None:
        handler(conn, event)


def _filed(conn: psycopg.Connection, event: Event) -> None:
    d = event.data
    conn.execute(
        "INSERT INTO weekly_reports (unit, week, week_start, status, id, revision, progress, self_found, note, due,"
        " late, filed_on, first_filed_at, filed_at, filed_by, version) VALUES (%(unit)s, %(week)s, %(start)s,"
        " %(status)s, %(id)s, %(revision)s, %(progress)s, %(self_found)s, %(note)s, %(due)s, %(late)s,"
        " %(filed_on)s, %(time)s, %(time)s, %(actor)s, %(version)s) ON CONFLICT (unit, week) DO UPDATE SET"
        " status = EXCLUDED.status, id = EXCLUDED.id, revision = EXCLUDED.revision, progress = EXCLUDED.progress,"
        " self_found = EXCLUDED.self_found, note = EXCLUDED.note, due = EXCLUDED.due, late = EXCLUDED.late,"
        " filed_on = EXCLUDED.filed_on, filed_at = EXCLUDED.filed_at, filed_by = EXCLUDED.filed_by,"
        " first_filed_at = coalesce(weekly_reports.first_filed_at, EXCLUDED.first_filed_at),"
        " version = EXCLUDED.version WHERE weekly_reports.version < EXCLUDED.version",
        {"unit": d["unit"], "week": d["week"], "start": Week.parse(d["week"]).monday,
         "status": "zero" if d["zero"] else "filed", "id": event.id, "revision": d["revision"],
         "progress": Jsonb(d["progress"]), "self_found": Jsonb(d["self_found"]), "note": d["note"], "due": d["due"],
         "late": d["late"], "filed_on": d["filed_on"], "time": event.time, "actor": event.actor,
         "version": event.streamversion})


def _missed(conn: psycopg.Connection, event: Event) -> None:
    _flagged(conn, event, "weekly_reports", "week", Week.parse(event.data["week"]).monday)


def _flagged(conn: psycopg.Connection, event: Event, table: str, key: str, start: Any) -> None:
    # A period is flagged only while nothing is filed for it, so the row is new; on a replay it exists.
    d = event.data
    conn.execute(sql.SQL("INSERT INTO {table} (unit, {key}, {start}, status, due, flagged_on, version)"
                         " VALUES (%s, %s, %s, 'missing', %s, %s, %s) ON CONFLICT (unit, {key}) DO NOTHING").format(
                     table=sql.Identifier(table), key=sql.Identifier(key), start=sql.Identifier(f"{key}_start")),
                 (d["unit"], d[key], start, d["due"], d["flagged_on"], event.streamversion))


def _escalated(conn: psycopg.Connection, event: Event) -> None:
    d = event.data
    conn.execute("INSERT INTO weekly_escalations (unit, version, week, step, consecutive_missed, threshold, event_id,"
                 " time) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                 (d["unit"], event.streamversion, d["week"], d["step"], d["consecutive_missed"], d["threshold"],
                  event.id, event.time))


def _drawn(conn: psycopg.Connection, event: Event) -> None:
    d = event.data
    conn.execute("INSERT INTO spot_checks (month, ratio, nonce, seed, weeks, candidates, draws, selected, drawn_at,"
                 " drawn_by, event_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                 (d["month"], d["ratio"], d["nonce"], d["seed"], Jsonb(d["weeks"]), Jsonb(d["candidates"]),
                  Jsonb(d["draws"]), Jsonb(d["selected"]), event.time, event.actor, event.id))


def _recorded(conn: psycopg.Connection, event: Event) -> None:
    d = event.data
    conn.execute("INSERT INTO spot_check_results (month, unit, finding, note, recorded_at, recorded_by, event_id)"
                 " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                 (d["month"], d["unit"], d["finding"], d["note"], event.time, event.actor, event.id))


def _quarterly_filed(conn: psycopg.Connection, event: Event) -> None:
    d = event.data
    conn.execute(
        "INSERT INTO quarterly_reports (unit, quarter, quarter_start, status, id, revision, summary, progress,"
        " self_found, next_steps, note, due, late, filed_on, first_filed_at, filed_at, filed_by, version) VALUES"
        " (%(unit)s, %(quarter)s, %(start)s, 'filed', %(id)s, %(revision)s, %(summary)s, %(progress)s,"
        " %(self_found)s, %(next_steps)s, %(note)s, %(due)s, %(late)s, %(filed_on)s, %(time)s, %(time)s, %(actor)s,"
        " %(version)s) ON CONFLICT (unit, quarter) DO UPDATE SET status = 'filed', id = EXCLUDED.id,"
        " revision = EXCLUDED.revision, summary = EXCLUDED.summary, progress = EXCLUDED.progress,"
        " self_found = EXCLUDED.self_found, next_steps = EXCLUDED.next_steps, note = EXCLUDED.note,"
        " due = EXCLUDED.due, late = EXCLUDED.late, filed_on = EXCLUDED.filed_on, filed_at = EXCLUDED.filed_at,"
        " filed_by = EXCLUDED.filed_by, first_filed_at = coalesce(quarterly_reports.first_filed_at,"
        " EXCLUDED.first_filed_at), version = EXCLUDED.version WHERE quarterly_reports.version < EXCLUDED.version",
        {"unit": d["unit"], "quarter": d["quarter"], "start": disclosure.period(d["quarter"])[0], "id": event.id,
         "revision": d["revision"], "summary": d["summary"], "progress": Jsonb(d["progress"]),
         "self_found": Jsonb(d["self_found"]), "next_steps": d["next_steps"], "note": d["note"], "due": d["due"],
         "late": d["late"], "filed_on": d["filed_on"], "time": event.time, "actor": event.actor,
         "version": event.streamversion})


def _quarterly_missed(conn: psycopg.Connection, event: Event) -> None:
    _flagged(conn, event, "quarterly_reports", "quarter", disclosure.period(event.data["quarter"])[0])


# The rules (config_set) are read from notify's store, the authority, not projected.
_PROJECT = {reports.FILED: _filed, reports.MISSED: _missed, reports.ESCALATED: _escalated,
            reports.SPOT_CHECK_DRAWN: _drawn, reports.SPOT_CHECK_RECORDED: _recorded,
            quarterly.FILED: _quarterly_filed, quarterly.MISSED: _quarterly_missed}


# -- the scheduler -------------------------------------------------------------------------------
# The bookkeeping of each cadence: its table and the column of the last period decided. Periods are
# compared as text: "2026-W09" < "2026-W10" and "2026-Q3" < "2026-Q4", as their order.
_CHECKS = {"week": ("weekly_checks", "checked_week"), "quarter": ("quarterly_checks", "checked_quarter")}


def units_to_check(conn: psycopg.Connection, through: Week | str, basis: str, cadence: str = "week") -> list[Row]:
    """Active units not yet decided through `through`, or decided with other rules or another calendar."""
    table, column = map(sql.Identifier, _CHECKS[cadence])
    return conn.execute(sql.SQL(
        "SELECT u.name, u.active_since FROM units u LEFT JOIN {table} c ON c.unit = u.name"
        " WHERE u.active AND (c.unit IS NULL OR c.{column} < %s OR c.basis <> %s) ORDER BY u.name").format(
            table=table, column=column), (str(through), basis)).fetchall()


def checked(conn: psycopg.Connection, unit: str, through: Week | str, basis: str, at: datetime,
            cadence: str = "week") -> None:
    table, column = map(sql.Identifier, _CHECKS[cadence])
    conn.execute(sql.SQL("INSERT INTO {table} (unit, {column}, basis, checked_at) VALUES (%s, %s, %s, %s)"
                         " ON CONFLICT (unit) DO UPDATE SET {column} = EXCLUDED.{column}, basis = EXCLUDED.basis,"
                         " checked_at = EXCLUDED.checked_at").format(table=table, column=column),
                 (unit, str(through), basis, at))


def zero_reporters(conn: psycopg.Connection, weeks: list[Week]) -> list[str]:
    """Units whose report (as last corrected) for one of `weeks` is a zero report."""
    rows = conn.execute("SELECT DISTINCT unit FROM weekly_reports WHERE status = 'zero' AND week = ANY(%s)"
                        " ORDER BY unit", ([str(w) for w in weeks],)).fetchall()
    return [r["unit"] for r in rows]


# -- the API ---------------------------------------------------------------------------------------
STATUS_FILTERS = {"filed": "status = 'filed'", "zero": "status = 'zero'", "missing": "status = 'missing'",
                  "late": "late"}


def listed(conn: psycopg.Connection, *, unit: str | None, week: str | None, status: str | None, limit: int,
           offset: int) -> list[Row]:
    """Reports and flags, newest week first, filtered on unit, week and status (late: filed late)."""
    where = [sql.SQL("true")]
    params: list[Any] = []
    for column, value in (("unit", unit), ("week", week)):
        if value is not None:
            where.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if status is not None:
        where.append(sql.SQL(STATUS_FILTERS[status]))
    return numbered(conn, conn.execute(sql.SQL("SELECT * FROM weekly_reports WHERE {} ORDER BY week_start DESC, unit"
                                               " LIMIT %s OFFSET %s").format(sql.SQL(" AND ").join(where)),
                                       [*params, limit, offset]).fetchall())


def one(conn: psycopg.Connection, unit: str, week: str) -> Row | None:
    return _one(conn, conn.execute("SELECT * FROM weekly_reports WHERE unit = %s AND week = %s", (unit, week)))


def numbered(conn: psycopg.Connection, rows: list[Row]) -> list[Row]:
    """The rows with each progress item's case number (案件编号, as notify watches the case; None for a
    case it has no number for), read in one statement."""
    ids = sorted({p["case_id"] for r in rows for p in r.get("progress") or []})
    if not ids:
        return rows
    numbers = {r["case_id"]: r["number"] for r in conn.execute(
        "SELECT case_id, view->>'case_number' AS number FROM watched_cases WHERE case_id = ANY(%s)", (ids,))}
    return [{**r, "progress": [{**p, "case_number": numbers.get(p["case_id"])} for p in r.get("progress") or []]}
            for r in rows]


def _one(conn: psycopg.Connection, cursor: psycopg.Cursor) -> Row | None:
    row = cursor.fetchone()
    return row and numbered(conn, [row])[0]


QUARTERLY_FILTERS = {"filed": "status = 'filed'", "missing": "status = 'missing'", "late": "late"}


def quarterly_listed(conn: psycopg.Connection, *, unit: str | None, quarter: str | None, status: str | None,
                     limit: int, offset: int) -> list[Row]:
    """Quarterly reports and flags, newest quarter first, filtered on unit, quarter and status."""
    return numbered(conn, conn.execute(sql.SQL(
        "SELECT * FROM quarterly_reports WHERE (%(unit)s::text IS NULL OR unit = %(unit)s)"
        " AND (%(quarter)s::text IS NULL OR quarter = %(quarter)s) AND {status}"
        " ORDER BY quarter_start DESC, unit LIMIT %(limit)s OFFSET %(offset)s").format(
            status=sql.SQL(QUARTERLY_FILTERS.get(status, "true"))),
        {"unit": unit, "quarter": quarter, "limit": limit, "offset": offset}).fetchall())


def quarterly_one(conn: psycopg.Connection, unit: str, quarter: str) -> Row | None:
    return _one(conn, conn.execute("SELECT * FROM quarterly_reports WHERE unit = %s AND quarter = %s",
                                   (unit, quarter)))


def of_quarter(conn: psycopg.Connection, quarter: str) -> dict[str, Row]:
    rows = conn.execute("SELECT * FROM quarterly_reports WHERE quarter = %s", (quarter,)).fetchall()
    return {r["unit"]: r for r in numbered(conn, rows)}


def of_week(conn: psycopg.Connection, week: str) -> dict[str, Row]:
    return {r["unit"]: r for r in conn.execute("SELECT * FROM weekly_reports WHERE week = %s", (week,))}


def units_since(conn: psycopg.Connection) -> list[Row]:
    """Every unit with since when it is active (None: inactive) and its supervising channel (归口)."""
    return conn.execute("SELECT name, active, active_since, supervising_channel FROM units ORDER BY name").fetchall()


def escalations_of(conn: psycopg.Connection, unit: str | None) -> list[Row]:
    return conn.execute("SELECT * FROM weekly_escalations WHERE %(unit)s::text IS NULL OR unit = %(unit)s"
                        " ORDER BY time DESC, unit, version DESC", {"unit": unit}).fetchall()


def spot_checks(conn: psycopg.Connection, month: str | None) -> list[Row]:
    """Draws newest month first, each with the findings recorded so far."""
    draws = conn.execute("SELECT * FROM spot_checks WHERE %(m)s::text IS NULL OR month = %(m)s ORDER BY month DESC",
                         {"m": month}).fetchall()
    results: dict[str, list[Row]] = {}
    for r in conn.execute("SELECT * FROM spot_check_results WHERE month = ANY(%s) ORDER BY unit",
                          ([d["month"] for d in draws],)):
        results.setdefault(r["month"], []).append(r)
    return [{**d, "results": results.get(d["month"], [])} for d in draws]
