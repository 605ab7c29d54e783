"""notify's tables of bulletins, disclosures, appraisals (and their ballots, migration 0057), scoring
rules and bulletin marks (migration 0025), kept from events by `apply` (the consumer, the rebuild, and
the command that appended them), and read back."""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from zfcommon import eventstore
from zfcommon.events import Event
from zfcommon.events.catalogue import PUBLICATION_TOPIC

from ..domain import marks, publication
from ..domain.bulletin import DEFAULT_RULES, Marks

log = logging.getLogger(__name__)
Row = dict[str, Any]
RULES_SET = "cn.zhengfeng.bulletin.rules_set.v1"
BALLOT = "cn.zhengfeng.appraisal.ballot_recorded.v1"
COLUMNS = ("kind", "key", "state", "version", "revision", "data", "drafted_at", "drafted_by", "reviews", "published_at",
           "published_by", "digest", "on_time", "document")
JSON = ("data", "reviews", "document")
NUMBERING_LOCK = "publication-numbers:{kind}"


def _kind(event_type: str) -> str | None:
    for kind in publication.KINDS:
        if event_type.startswith(f"{publication.PREFIX}{kind}.") and event_type != RULES_SET:
            return kind
    return None


_UPSERT = sql.SQL("INSERT INTO publications ({cols}) VALUES ({vals})"
                  " ON CONFLICT (kind, key) DO UPDATE SET {sets}").format(
    cols=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), vals=sql.SQL(", ").join(map(sql.Placeholder, COLUMNS)),
    sets=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in COLUMNS[2:]))


def apply(conn: psycopg.Connection, event: Event) -> None:
    """Fold one event into the tables; any other event changes nothing. Every write is idempotent:
    publications by stream version, rules by version, marks by event id. notify's own publication
    events are first put back into its store if it lacks them (a rebuild from the trail), so the next
    decision on a bulletin is taken on the same history and never forks its stream."""
    if event.topic == PUBLICATION_TOPIC and not eventstore.restore(conn, event, "notify"):
        log.warning("publication_stream_diverged", extra={"stream": event.subject, "event_id": event.id})
    if (kind := _kind(event.type)) is not None:
        key = event.subject.removeprefix(f"{kind}-")
        row = conn.execute("SELECT * FROM publications WHERE kind = %s AND key = %s FOR UPDATE", (kind, key)).fetchone()
        new = publication.evolve(row, kind, key, event.type, event.data, version=event.streamversion,
                                 time=event.time, actor=event.actor)
        if new is not None:
            jsons = {c: None if new[c] is None else Jsonb(new[c]) for c in JSON}
            conn.execute(_UPSERT, {**new, "kind": kind, **jsons})
        if event.type == BALLOT:
            d = event.data
            conn.execute("INSERT INTO appraisal_ballots (period, ballot_no, grp, ratings, recorded_at, recorded_by,"
                         " event_id) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                         (d["period"], d["ballot_no"], d["group"], Jsonb(d["ratings"]), event.time, event.actor,
                          event.id))
    elif event.type == RULES_SET:
        conn.execute("INSERT INTO bulletin_rules (rules, version, set_at, set_by) VALUES (%s, %s, %s, %s)"
                     " ON CONFLICT (singleton) DO UPDATE SET rules = EXCLUDED.rules, version = EXCLUDED.version,"
                     " set_at = EXCLUDED.set_at, set_by = EXCLUDED.set_by"
                     " WHERE bulletin_rules.version < EXCLUDED.version",
                     (Jsonb(event.data), event.streamversion, event.time, event.actor))
    elif event.type in marks.TYPES and (found := marks.mark(event.type, event.subject, event.data, event.time)):
        conn.execute("INSERT INTO bulletin_marks (event_id, kind, unit, day, month, entry)"
                     " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
                     (str(event.id), found["kind"], found["unit"], found["day"], found["month"], Jsonb(found["entry"])))


def get(conn: psycopg.Connection, kind: str, key: str) -> Row | None:
    return conn.execute("SELECT * FROM publications WHERE kind = %s AND key = %s", (kind, key)).fetchone()


def listing(conn: psycopg.Connection, kind: str, *, published_only: bool) -> list[Row]:
    """Newest first, without their data (a list stays small however many units a bulletin has)."""
    columns = sql.SQL(", ").join(map(sql.Identifier, (c for c in COLUMNS if c != "data")))
    published = sql.SQL(" AND state = 'published'" if published_only else "")
    return conn.execute(sql.SQL("SELECT {}, data->>'due' AS due FROM publications WHERE kind = %s{}"
                                " ORDER BY key DESC").format(columns, published), (kind,)).fetchall()


def ballots(conn: psycopg.Connection, period: str, limit: int, offset: int) -> list[Row]:
    """An appraisal's questionnaires as entered, by number."""
    return conn.execute("SELECT period, ballot_no, grp AS group, ratings, recorded_at, recorded_by, event_id"
                        " FROM appraisal_ballots WHERE period = %s ORDER BY ballot_no LIMIT %s OFFSET %s",
                        (period, limit, offset)).fetchall()


def rules(conn: psycopg.Connection) -> tuple[Row, int]:
    """The rules in force and the version of the rules stream they come from (0: the defaults)."""
    row = conn.execute("SELECT rules, version FROM bulletin_rules").fetchone()
    return (row["rules"], row["version"]) if row else (DEFAULT_RULES, 0)


def period_marks(conn: psycopg.Connection, first: date, last: date) -> dict[str, Marks]:
    """What notify counted against each unit on the days from `first` to `last`."""
    found: dict[str, Marks] = {}
    for r in conn.execute("SELECT kind, unit, entry FROM bulletin_marks WHERE day BETWEEN %s AND %s"
                          " ORDER BY event_id", (first, last)):
        m = found.setdefault(r["unit"], Marks())
        if r["kind"] == "weekly_missed":
            m.weekly_missed += 1
        else:
            m.criticisms += r["kind"] == "criticism"
            m.accountability += r["kind"] == "accountability"
            m.entries.append(r["entry"])
    return found


def next_sequence(conn: psycopg.Connection, kind: str, year: int) -> int:
    """The next document sequence number of `kind` in `year`. Takes a lock held until the transaction
    ends, so two publications committing at once cannot take the same number: the second waits, then
    reads the first's committed row (each statement sees what committed before it began)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (NUMBERING_LOCK.format(kind=kind),))
    row = conn.execute("SELECT coalesce(max((document->>'sequence')::int), 0) AS last FROM publications"
                       " WHERE kind = %s AND document IS NOT NULL AND (document->>'year')::int = %s",
                       (kind, year)).fetchone()
    return row["last"] + 1
