"""The ledger's tables: the consumer's `apply`, and reading one case, its timeline and the calendar."""
from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Mapping

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from zfcommon import caseview, db, officecalendar
from zfcommon.events import Event
from zfcommon.events.catalogue import ACCOUNTABILITY_TOPIC, CASE_TOPIC, DIRECTORY_TOPIC, ESCALATION_TOPIC

from ..domain import directory, figures
from . import escalations, plans, unit_figures
from .cursor import decode_cursor, encode_cursor  # noqa: F401  (its first home; tests/unit/test_cursor.py)
from .filters import Scope, scoped

Row = dict[str, Any]
JSON_COLUMNS = ("location", "origin", "redacted", "contacts", "data")


@functools.lru_cache(maxsize=None)
def upsert_sql(table: str, key: str, columns: tuple[str, ...], source: str | None = None) -> str:
    """The upsert of rows of these columns, rendered once per shape (composing it for every event,
    psycopg.sql and some forty identifiers, cost the consumer more than running it): the rows of the
    table `source` (SQL text, "{}" to be formatted later), or by default any number of rows given
    as one JSON array (db.json_rows)."""
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    source = source or db.rows_from_json(table)
    return sql.SQL("INSERT INTO {t} ({cols}) SELECT {cols} FROM {source} ON CONFLICT ({key}) DO UPDATE SET {upd}"
                   " WHERE {t}.version < EXCLUDED.version").format(
        t=sql.Identifier(table), key=sql.Identifier(key), cols=cols, source=sql.SQL(source),
        upd=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in columns
                               if c != key)).as_string(None)


def _upsert(conn: psycopg.Connection, table: str, key: str, row: Mapping[str, Any], version: int) -> None:
    """Insert or replace a row, unless the stored one comes from a newer version of its stream: a
    redelivered or replayed older event must never undo a newer one."""
    _upsert_many(conn, table, key, [{**row, "version": version}])


def _upsert_many(conn: psycopg.Connection, table: str, key: str, rows: list[Mapping[str, Any]]) -> None:
    """_upsert of rows of one shape (each with its `version`), in one statement. No two rows may have
    the same key (ON CONFLICT DO UPDATE changes a row once per statement)."""
    if rows:
        conn.execute(upsert_sql(table, key, tuple(rows[0])), (db.json_rows(rows),))


def _copy(conn: psycopg.Connection, table: str, rows: list[Mapping[str, Any]]) -> None:
    """COPY rows of one shape into `table`."""
    columns = tuple(rows[0])
    json_at = [i for i, c in enumerate(columns) if c in JSON_COLUMNS]
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))) as copy:
        for row in rows:
            values = list(row.values())
            for i in json_at:
                if values[i] is not None:
                    values[i] = Jsonb(values[i])
            copy.write_row(values)


def _copy_merged(conn: psycopg.Connection, table: str, rows: list[Mapping[str, Any]], merge: str,
                 new: bool = True) -> None:
    """Bulk writes (a rebuild's big batches): rows of one shape COPYed straight into `table` when none
    of them is there yet (`new`: a savepoint tries it), otherwise COPYed into a temporary table shaped
    like it, dropped at commit, and merged by `merge` (an INSERT … SELECT … ON CONFLICT with {} for
    the temporary table's name): the conflict rules of the row-by-row statements, one statement."""
    if not rows:
        return
    if new:
        try:
            with conn.transaction():
                _copy(conn, table, rows)
            return
        except psycopg.errors.UniqueViolation:
            pass
    staging = f"{table}_in"
    conn.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DROP").format(
        sql.Identifier(staging), sql.Identifier(table)))
    _copy(conn, staging, rows)
    conn.execute(merge.format(staging))
    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(staging)))


_TIMELINE_FROM = ("INSERT INTO case_events (case_id, version, event_id, type, time, actor, data)"
                  " SELECT case_id, version, event_id, type, time, actor, data FROM {}"
                  " ON CONFLICT (case_id, version) DO NOTHING")
_TIMELINE = _TIMELINE_FROM.format(db.rows_from_json("case_events"))


class CaseFold:
    """Case events applied set-wise (a poll's, or one): the cases they touch read and locked in one statement
    (in case_id order, so two consumers lock in the same order), each event folded in memory in its
    order, then the changed cases and the timeline entries written by one statement each (as JSON
    arrays), the unit figures' differences in one pipelined round trip. The same result as _apply_case
    event by event: a case's figures change by the difference between its first and last row, the sum
    of the steps between."""

    def __init__(self, conn: psycopg.Connection, case_ids: set[str]):
        self.conn = conn
        # FOR UPDATE: a case's events come on one partition, yet during a consumer-group rebalance the
        # old owner may still be committing a batch the new owner rereads; the lock makes
        # read-evolve-write one step, so the version check and the figures' difference are taken from
        # the rows being replaced.
        self.before = {r["case_id"]: r for r in conn.execute(
            "SELECT * FROM cases WHERE case_id = ANY(%s) ORDER BY case_id FOR UPDATE", (sorted(case_ids),))}
        self.rows: dict[str, Row] = dict(self.before)
        self.changed: dict[str, Row] = {}
        self.entries: list[dict[str, Any]] = []

    def fold(self, event: Event) -> None:
        new = caseview.evolve(self.rows.get(event.subject), event)
        if new is not None:
            self.rows[event.subject] = self.changed[event.subject] = new
        self.entries.append(caseview.timeline_entry(event))

    def write(self, bulk: bool = False) -> None:
        """Write what was folded: one statement per table, or (`bulk`, outside pipeline mode) each
        table's rows COPYed into a temporary table and merged by one statement, with the same
        conflict rules."""
        cases = [{**{c: new[c] for c in caseview.COLUMNS}, "version": new["version"]} for new in self.changed.values()]
        if bulk and cases:      # cases not read by __init__ are not there: COPYed straight in
            merge = upsert_sql("cases", "case_id", tuple(cases[0]), "{}")
            _copy_merged(self.conn, "cases", [r for r in cases if r["case_id"] not in self.before], merge)
            _copy_merged(self.conn, "cases", [r for r in cases if r["case_id"] in self.before], merge, new=False)
        else:
            _upsert_many(self.conn, "cases", "case_id", cases)
        deltas: dict = {}
        for case_id, new in self.changed.items():
            for key, values in figures.changes(self.before.get(case_id), new).items():
                figures.accumulate(deltas, (key, values))
        unit_figures.add(self.conn, {k: v for k, v in deltas.items() if any(v.values())})
        if bulk:
            _copy_merged(self.conn, "case_events", self.entries, _TIMELINE_FROM)
        elif self.entries:
            self.conn.execute(_TIMELINE, (db.json_rows(self.entries),))


def _apply_case(conn: psycopg.Connection, event: Event) -> None:
    cases = CaseFold(conn, {event.subject})
    cases.fold(event)
    cases.write()


def _apply_accountability(conn: psycopg.Connection, event: Event) -> None:
    row = directory.accountability_row(event.subject, event.data, event.time)
    conn.execute(sql.SQL("INSERT INTO accountability ({}) VALUES ({}) ON CONFLICT (id) DO NOTHING").format(
        sql.SQL(", ").join(map(sql.Identifier, row)), sql.SQL(", ").join(sql.Placeholder() * len(row))),
        list(row.values()))


def _apply_directory(conn: psycopg.Connection, event: Event) -> None:
    entry = directory.directory_entry(event.type, event.data)
    if entry is not None:
        _upsert(conn, entry.table, entry.key, entry.row, event.streamversion)


APPLY = {CASE_TOPIC: _apply_case, ACCOUNTABILITY_TOPIC: _apply_accountability, DIRECTORY_TOPIC: _apply_directory,
         ESCALATION_TOPIC: escalations.apply, **dict.fromkeys(plans.TOPICS, plans.apply)}


def apply(conn: psycopg.Connection, event: Event) -> None:
    """Consumer callback: runs inside the consumer's transaction, with the tracking insert. The consumer
    subscribes to APPLY's topics only; an event of another topic (a rebuild reads them all) is tracked
    and changes nothing, never dead-lettered."""
    handler = APPLY.get(event.topic)
    if handler is not None:
        handler(conn, event)


def apply_batch(conn: psycopg.Connection, events: list[Event], bulk: bool = False) -> None:
    """Consumer callback for a poll's fresh events, in order: the case events set-wise (CaseFold),
    the others one by one (none of them reads the cases table), in pipeline mode; `bulk` (the
    rebuild's big batches, rebuild_batch) writes the folded cases and timeline with COPY."""
    with conn.pipeline():
        cases = CaseFold(conn, {e.subject for e in events if e.topic == CASE_TOPIC})
        for event in events:
            if event.topic == CASE_TOPIC:
                cases.fold(event)
            else:
                apply(conn, event)
        if not bulk:
            cases.write()
    if bulk:
        cases.write(bulk=True)


def rebuild_batch(conn: psycopg.Connection, events: list[Event]) -> None:
    """apply_batch for a rebuild's batches of thousands of events: the same fold, written with COPY."""
    apply_batch(conn, events, bulk=True)


def get_case(conn: psycopg.Connection, case_id: str, scope: Scope = Scope()) -> dict[str, Any] | None:
    """The case if it exists and `scope` may see it; None either way, so existence never leaks."""
    where = scoped(scope).add("case_id = %s", case_id)
    return conn.execute(sql.SQL("SELECT * FROM cases ") + where.sql(), where.params).fetchone()


def timeline(conn: psycopg.Connection, case_id: str, until: datetime | None = None) -> list[dict[str, Any]]:
    """The case's stored events in stream order, optionally only those at or before `until`."""
    return conn.execute("SELECT version, event_id, type, time, actor, data FROM case_events"
                        " WHERE case_id = %s AND (%s::timestamptz IS NULL OR time <= %s) ORDER BY version",
                        (case_id, until, until)).fetchall()


def recorded(case_id: str, entries: list[dict[str, Any]]) -> list[caseview.Recorded]:
    return [caseview.Recorded(type=e["type"], subject=case_id, time=e["time"], streamversion=e["version"],
                              actor=e["actor"], data=e["data"]) for e in entries]


# The office's calendar from the directory tables (shared with notify: zfcommon.officecalendar).
calendar = officecalendar.calendar
