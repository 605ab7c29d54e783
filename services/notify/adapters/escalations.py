"""notify's escalation tables: the consumer's part (`apply`), the scheduler's bookkeeping and the reads
behind /v1/escalations. Migration 0010 describes the tables."""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import sql

from psycopg.types.json import Jsonb

from zfcommon import escalationview, eventstore, ladderviews, officecalendar
from zfcommon.events import Event
from zfcommon.events.catalogue import CASE_TOPIC, DIRECTORY_TOPIC, ESCALATION_TOPIC, PROJECT_TOPIC, TASK_TOPIC

from ..domain import ladder, notices, reports

log = logging.getLogger(__name__)
Row = dict[str, Any]


# -- the consumer ----------------------------------------------------------------------------------
def apply(conn: psycopg.Connection, event: Event, checks: dict[str, int] | None = None) -> None:
    """In the consumer's (or the rebuild's) transaction: a case event makes the scheduler look at the
    case again, a directory event may change the calendar, an escalation event is projected.
    `checks`: a batch's cases to look at again, collected here and written once by `look_again`
    (only the scheduler reads them, in its own transaction)."""
    if event.topic == CASE_TOPIC:
        if checks is None:
            _look_again(conn, event.subject, event.streamversion)
        else:
            checks[event.subject] = max(checks.get(event.subject, 0), event.streamversion)
    elif event.topic == TASK_TOPIC:
        row = conn.execute("SELECT state FROM escalation_subjects WHERE subject_id = %s FOR UPDATE",
                           (event.subject,)).fetchone()
        after = ladderviews.after_task(row and row["state"], event)
        if after is not None:
            _keep_subject(conn, event.subject, "task", after[0], after[1], event.streamversion)
    elif event.topic == PROJECT_TOPIC:
        stored = {r["subject_id"]: r["view"] for r in conn.execute(
            "SELECT subject_id, view FROM escalation_subjects WHERE kind = 'stage' AND view->>'project_id' = %s"
            " AND version < %s FOR UPDATE", (event.subject, event.streamversion))}
        for subject, view in ladderviews.stage_views(stored, event).items():
            _keep_subject(conn, subject, "stage", None, view, event.streamversion)
    elif event.topic == DIRECTORY_TOPIC:
        officecalendar.apply(conn, event)
    elif event.topic == ESCALATION_TOPIC:
        # notify's own decision back into its store if a rebuild left it empty (a no-op live), so the
        # scheduler decides from the same history and issues nothing twice.
        if not eventstore.restore(conn, event, "notify"):
            log.warning("escalation_stream_diverged", extra={"case_id": event.subject, "event_id": event.id})
        escalationview.apply(conn, event)


# -- the scheduler: numbering supervision letters (migration 0055, service_layer.letters) -------------
LETTER_LOCK = "letter-numbers"
LETTER_TYPES = (ladder.STEP_ISSUED, reports.ESCALATED)       # the events a letter can be


def last_letter(conn: psycopg.Connection, year: int) -> int:
    """The last sequence given to a supervision letter of `year` (0: none yet). Takes a lock held until
    the transaction ends, so two schedulers issuing letters at once cannot give the same number: the
    second waits, then reads the first's committed letters. The letters are the store's own events."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (LETTER_LOCK,))
    return conn.execute(_LAST_LETTER, (year,)).fetchone()["last"]


# The types written out, not parameters, so the planner can always use the partial index.
_LETTERS = f" WHERE type IN ('{ladder.STEP_ISSUED}', '{reports.ESCALATED}') AND payload->'data' ? 'document'"
_YEAR = "((payload->'data'->'document'->>'year'))::int"
_SEQUENCE = "((payload->'data'->'document'->>'sequence'))::int"
_LAST_LETTER = f"SELECT coalesce(max({_SEQUENCE}), 0) AS last FROM events{_LETTERS} AND {_YEAR} = %s"
_REGISTER = (
    "SELECT d->'document'->>'number' AS number, (d->'document'->>'year')::int AS year,"
    " (d->'document'->>'sequence')::int AS sequence, d->'document'->>'issuer' AS issuer,"
    " (d->'document'->>'issued_on')::date AS issued_on, e.stream_id AS subject_id,"
    f" CASE WHEN e.type = '{reports.ESCALATED}' THEN 'weekly' ELSE s.kind END AS subject_kind,"
    " w.view->>'case_number' AS case_number, s.view->>'title' AS title, d->>'unit' AS unit, d->>'ladder' AS ladder,"
    " (d->>'round')::int AS round, (d->>'due')::date AS due, (d->>'working_days_overdue')::int AS working_days_overdue,"
    " d->>'week' AS week, (d->>'consecutive_missed')::int AS consecutive_missed,"
    # the letter as the unit got it: the first notice its event queued (notices.event_id is source#id)
    " (SELECT min(n.id) FROM notices n WHERE n.event_id = e.source || '#' || e.event_id"
    "  AND n.kind = ANY(%(letter_notices)s)) AS notice_id"
    f" FROM (SELECT stream_id, type, event_id::text AS event_id, payload->>'source' AS source, payload->'data' AS d,"
    f" {_YEAR} AS year, {_SEQUENCE} AS sequence FROM events{_LETTERS}"
    f" AND {_YEAR} = %(year)s AND (%(unit)s::text IS NULL OR payload->'data'->>'unit' = %(unit)s)"
    " ORDER BY year, sequence LIMIT %(limit)s OFFSET %(offset)s) e"
    " LEFT JOIN watched_cases w ON w.case_id = e.stream_id"
    " LEFT JOIN escalation_subjects s ON s.subject_id = e.stream_id ORDER BY e.year, e.sequence")


def letters(conn: psycopg.Connection, year: int, unit: str | None, *, limit: int, offset: int) -> list[Row]:
    """The register of supervision letters (督办函登记) of `year`, by number: each with the case (its
    number), task, project stage or run of missed weekly reports it was about and the unit it went to."""
    return conn.execute(_REGISTER, {"year": year, "unit": unit, "limit": limit, "offset": offset,
                                    "letter_notices": list(notices.LETTER_KINDS)}).fetchall()


_LOOK_AGAIN = ("INSERT INTO escalation_checks (case_id, seen_version) SELECT * FROM unnest(%s::text[], %s::int[])"
               " ON CONFLICT (case_id)"
               " DO UPDATE SET seen_version = greatest(escalation_checks.seen_version, EXCLUDED.seen_version)")


def _look_again(conn: psycopg.Connection, subject: str, version: int) -> None:
    """The subject changed: the scheduler decides it at its next pass."""
    look_again(conn, {subject: version})


def look_again(conn: psycopg.Connection, checks: dict[str, int]) -> None:
    """_look_again for a batch's cases (apply's `checks`), in one statement, in case_id order."""
    if checks:
        ordered = sorted(checks.items())
        conn.execute(_LOOK_AGAIN, ([c for c, _ in ordered], [v for _, v in ordered]))


def _keep_subject(conn: psycopg.Connection, subject: str, kind: str, state: Row | None, view: Row,
                  version: int) -> None:
    """A task's or a stage's ladder view (zfcommon.ladderviews), unless a newer event already set it."""
    changed = conn.execute(
        "INSERT INTO escalation_subjects (subject_id, kind, state, view, version) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (subject_id) DO UPDATE SET state = EXCLUDED.state, view = EXCLUDED.view,"
        " version = EXCLUDED.version WHERE escalation_subjects.version < EXCLUDED.version",
        (subject, kind, state and Jsonb(state), Jsonb(view), version)).rowcount
    if changed:
        _look_again(conn, subject, version)


def subject(conn: psycopg.Connection, subject_id: str) -> Row | None:
    """A task's or a stage's ladder view as {view}, like a watched case's row (None: no such subject)."""
    return conn.execute("SELECT view FROM escalation_subjects WHERE subject_id = %s", (subject_id,)).fetchone()


# -- the scheduler -------------------------------------------------------------------------------
def due(conn: psycopg.Connection, today: date, basis: str, limit: int, skip: list[str] = ()) -> list[str]:
    """Cases to decide on now: changed since the scheduler last looked, or waiting on the clock and
    either due today or decided with other thresholds or another calendar. Each half reads its own
    partial index; `skip` leaves out cases that failed earlier in the same pass."""
    rows = conn.execute(
        "(SELECT case_id FROM escalation_checks WHERE checked_version < seen_version"
        " AND case_id <> ALL(%(skip)s) LIMIT %(limit)s)"
        " UNION (SELECT case_id FROM escalation_checks WHERE NOT settled"
        " AND (next_check <= %(today)s OR basis IS DISTINCT FROM %(basis)s) AND case_id <> ALL(%(skip)s)"
        " LIMIT %(limit)s) LIMIT %(limit)s",
        {"today": today, "basis": basis, "limit": limit, "skip": list(skip)}).fetchall()
    return [r["case_id"] for r in rows]


_WATCHED = ("SELECT c.case_id, c.seen_version, coalesce(w.view, s.view) AS view FROM escalation_checks c"
            " LEFT JOIN watched_cases w USING (case_id)"
            " LEFT JOIN escalation_subjects s ON s.subject_id = c.case_id")


def watched(conn: psycopg.Connection, case_id: str) -> Row:
    """The case (or task, or project stage: zfcommon.ladderviews) as notify projects it (view: None when
    notify has no view of it) and the latest version the consumer applied, read in one statement: they
    commit together."""
    return conn.execute(_WATCHED + " WHERE c.case_id = %s", (case_id,)).fetchone()


def watched_many(conn: psycopg.Connection, case_ids: list[str]) -> dict[str, Row]:
    """watched for many cases, by case_id in case_id order, their bookkeeping rows locked in that order
    until the transaction ends (the consumer's look_again takes them in the same order)."""
    return {r["case_id"]: r for r in conn.execute(_WATCHED + " WHERE c.case_id = ANY(%s) ORDER BY c.case_id"
                                                  " FOR UPDATE OF c", (sorted(case_ids),))}


_CHECKED = ("UPDATE escalation_checks c SET checked_version = greatest(c.checked_version, d.seen_version),"
            " basis = %s, next_check = d.next_check, gap = d.gap, settled = d.settled, checked_at = %s"
            " FROM unnest(%s::text[], %s::int[], %s::date[], %s::text[], %s::bool[])"
            " AS d (case_id, seen_version, next_check, gap, settled) WHERE c.case_id = d.case_id")


def checked(conn: psycopg.Connection, decided: list[tuple[str, int, ladder.Decision]], basis: str,
            at: datetime) -> None:
    """Record what the scheduler decided for each (case_id, the seen_version it decided on, decision),
    with the basis it decided with, in one statement."""
    if decided:
        conn.execute(_CHECKED, (basis, at, [c for c, _, _ in decided], [v for _, v, _ in decided],
                                [d.next_check for _, _, d in decided], [d.gap for _, _, d in decided],
                                [d.settled for _, _, d in decided]))


# -- the API ---------------------------------------------------------------------------------------
FILTERS = {"unit": "unit = %s", "step": "step = %s", "ladder": "ladder = %s", "state": "state = %s"}


def ladders(conn: psycopg.Connection, filters: dict[str, Any], *, limit: int, offset: int) -> list[Row]:
    """Ladders most recently changed first, filtered on unit, current step, ladder and state."""
    given = [(FILTERS[k], v) for k, v in filters.items() if k in FILTERS and v is not None]
    where = sql.SQL(" AND ").join(sql.SQL(c) for c, _ in given) if given else sql.SQL("true")
    return conn.execute(sql.SQL("SELECT * FROM escalation_ladders WHERE {} ORDER BY updated_at DESC, case_id, ladder"
                                " LIMIT %s OFFSET %s").format(where),
                        [v for _, v in given] + [limit, offset]).fetchall()


def of_case(conn: psycopg.Connection, case_id: str) -> tuple[list[Row], list[Row], Row | None]:
    """A case's ladders, its escalation history in order, and the scheduler's last look at it."""
    check = conn.execute("SELECT next_check, gap, checked_at FROM escalation_checks WHERE case_id = %s",
                         (case_id,)).fetchone()
    return (*escalationview.of_case(conn, case_id), check)
