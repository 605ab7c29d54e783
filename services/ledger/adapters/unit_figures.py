"""The unit_month_figures table: kept by the projection, or rebuilt from every case."""
from __future__ import annotations

from typing import Mapping

import psycopg
from psycopg import sql

from zfcommon import db

from ..domain.figures import FIGURES, READS, Key, accumulate, figures

KEY = ("lead_unit", "channel", "month")
_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, (*KEY, *FIGURES)))
# One statement for any number of rows, given as one JSON array (db.json_rows), in the order given.
_ADD = sql.SQL("INSERT INTO unit_month_figures ({cols}) SELECT {cols} FROM {rows} "
               "ON CONFLICT ({key}) DO UPDATE SET {add}").format(
    cols=_COLUMNS, rows=sql.SQL(db.rows_from_json("unit_month_figures")),
    key=sql.SQL(", ").join(map(sql.Identifier, KEY)),
    add=sql.SQL(", ").join(sql.SQL("{0} = unit_month_figures.{0} + EXCLUDED.{0}").format(sql.Identifier(f))
                           for f in FIGURES)).as_string(None)   # rendered once, not at every execute


def add(conn: psycopg.Connection, deltas: Mapping[Key, Mapping[str, int]]) -> None:
    """Add `deltas` in the caller's transaction, keys in a fixed order, by one statement. Two consumers
    could still lock two rows in opposite orders across their batches; PostgreSQL then aborts one with
    a deadlock, an OperationalError, on which the consumer loop rereads its batch later: no update is
    lost or doubled."""
    if deltas:
        conn.execute(_ADD, (db.json_rows({**dict(zip(KEY, key)), **{f: deltas[key][f] for f in FIGURES}}
                                         for key in sorted(deltas)),))


def rebuild(conn: psycopg.Connection) -> int:
    """Recount the whole table from the cases (after a bulk load, or to check the running sums);
    returns the number of rows written."""
    totals: dict[Key, dict[str, int]] = {}
    with conn.cursor(name="ledger_figures") as cur:
        cur.itersize = 5000
        cur.execute(sql.SQL("SELECT {} FROM cases WHERE lead_unit IS NOT NULL").format(
            sql.SQL(", ").join(map(sql.Identifier, READS))))
        for row in cur:
            accumulate(totals, figures(row))
    conn.execute("DELETE FROM unit_month_figures")
    add(conn, totals)
    return len(totals)
