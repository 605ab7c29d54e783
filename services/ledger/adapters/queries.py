"""The ledger's read queries. Case rows come back as dicts with every case column."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterator, Sequence

import psycopg
from psycopg import sql

from ..domain.figures import FIGURES, READS
from ..domain.statuses import AWAITING_SIGN_FOR
from .filters import Where, due_soon_clause, overdue_clause, sign_for_overdue_clause

Query = tuple[sql.Composable, list[Any]]
NEWEST_FIRST = sql.SQL(" ORDER BY received_at DESC, case_id DESC")


def _limited(query: sql.Composable, params: list[Any], limit: int | None, offset: int = 0) -> Query:
    if limit is None:
        return query, params
    return query + sql.SQL(" LIMIT %s OFFSET %s"), [*params, limit, offset]


def cases(where: Where, *, statuses: Sequence[str] = (), after: tuple[datetime, str] | None = None,
          limit: int | None = None) -> Query:
    """Newest first, keyset paging on (received_at, case_id): a page never shifts when cases arrive."""
    statuses = list(dict.fromkeys(statuses))     # a status asked twice must not list its cases twice
    if after is not None:
        where.add("(received_at, case_id) < (%s, %s)", *after)
    if limit is None or not statuses:
        if statuses:
            where.add("status = ANY(%s)", list(statuses))
        return _limited(sql.SQL("SELECT * FROM cases ") + where.sql() + NEWEST_FIRST, where.params, limit)
    # A page of several statuses: one ordered, limited scan per status, merged. A single scan with
    # status = ANY(...) can only walk the received-order index and filter, which crawls through every
    # recent case when the statuses asked for are the old ones (closed, dismissed).
    parts = [_limited(sql.SQL("SELECT * FROM cases ") + where.copy().add("status = %s", s).sql() + NEWEST_FIRST,
                      [*where.params, s], limit) for s in statuses]
    merged = sql.SQL("SELECT * FROM ({}) picked").format(
        sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(q) for q, _ in parts))
    return _limited(merged + NEWEST_FIRST, [p for _, params in parts for p in params], limit)


def overdue(where: Where, today: date, *, limit: int | None = None, offset: int = 0) -> Query:
    """Cases past their deadline, most working days overdue first, then cases only late to be signed
    for, longest waiting first. Working days overdue only grow as the deadline gets earlier, so
    deadline order is their order without computing each one; and each half reads its partial index
    in that order, so a page costs `limit + offset` rows of each, never a sort of every overdue case."""
    head = None if limit is None else limit + offset
    late = _limited(sql.SQL("SELECT *, 0 AS late_part, deadline AS late_since FROM cases ")
                    + where.copy().add(overdue_clause(today)).sql() + sql.SQL(" ORDER BY deadline, case_id"),
                    where.params, head)
    unsigned_where = where.copy().add(sign_for_overdue_clause(today)).add(
        sql.SQL("deadline >= {}").format(sql.Literal(today)))
    unsigned = _limited(sql.SQL("SELECT *, 1 AS late_part, sign_for_due AS late_since FROM cases ")
                        + unsigned_where.sql() + sql.SQL(" ORDER BY sign_for_due, case_id"), where.params, head)
    both = sql.SQL("SELECT * FROM (({}) UNION ALL ({})) late ORDER BY late_part, late_since, case_id").format(
        late[0], unsigned[0])
    return _limited(both, late[1] + unsigned[1], limit, offset)


def month_sums(*, unit: str | None, channel: str | None, first: date | None, last: date | None) -> Query:
    """Per lead unit, its figures (domain/figures.py) summed over the months from `first` to `last`,
    for one unit or channel when given. Units whose figures are all zero (their cases were moved
    to another unit) are left out."""
    where = Where()
    for clause, value in (("lead_unit = %s", unit), ("channel = %s", channel), ("month >= %s", first),
                          ("month <= %s", last)):
        if value is not None:
            where.add(clause, value)
    sums = sql.SQL(", ").join(sql.SQL("sum({0})::int AS {0}").format(sql.Identifier(f)) for f in FIGURES)
    any_figure = sql.SQL(" + ").join(sql.SQL("sum(abs({}))").format(sql.Identifier(f)) for f in FIGURES)
    query = (sql.SQL("SELECT lead_unit AS unit, {} FROM unit_month_figures ").format(sums) + where.sql()
             + sql.SQL(" GROUP BY lead_unit HAVING {} > 0").format(any_figure))
    return query, where.params


def case_figures(where: Where) -> Query:
    """What domain/figures.py reads of each case `where` selects that has a lead unit: a period that is
    not whole months is summed from its cases, by the same rule the monthly sums are kept with."""
    columns = sql.SQL(", ").join(map(sql.Identifier, READS))
    return sql.SQL("SELECT {} FROM cases ").format(columns) + where.copy().add("lead_unit IS NOT NULL").sql(), \
        list(where.params)


def late_counts(where: Where, today: date) -> Query:
    """Per lead unit, how many of the cases `where` selects are overdue and how many wait past their
    sign-for day: each count reads only its partial index, whose INCLUDE columns hold what it needs."""
    parts = [(sql.SQL("SELECT lead_unit AS unit, {} AS kind, count(*)::int AS n FROM cases ").format(sql.Literal(kind))
              + where.copy().add(clause).sql() + sql.SQL(" GROUP BY lead_unit"))
             for kind, clause in (("overdue", overdue_clause(today)), ("sign_for_pending", sign_for_overdue_clause(today)))]
    return sql.SQL(" UNION ALL ").join(parts), where.params * 2


def summary(where: Where, today: date, until: date) -> Query:
    """One row of counts over the cases `where` selects. Each count is its own scalar subquery, so each
    reads the index that fits it (status, the running-deadline and sign-for partial indexes) instead of
    one scan of every case."""
    parts = {
        "received": sql.SQL("status = 'received'"),
        "due_soon": due_soon_clause(today, until),
        "overdue": overdue_clause(today),
        "sign_for_overdue": sign_for_overdue_clause(today),
        "awaiting_sign_for": sql.SQL("status = {}").format(sql.Literal(AWAITING_SIGN_FOR)),
        "rectification_reported": sql.SQL("status = 'rectification_reported'"),
        "dismissal_reported": sql.SQL("status = 'dismissal_reported'"),
        "extension_pending": sql.SQL("status = 'in_progress' AND extension_pending"),
    }
    selects = [sql.SQL("(SELECT count(*) FROM cases {})::int AS {}").format(where.copy().add(clause).sql(),
                                                                             sql.Identifier(name))
               for name, clause in parts.items()]
    return sql.SQL("SELECT ") + sql.SQL(", ").join(selects), where.params * len(parts)


def fetch(conn: psycopg.Connection, query: Query) -> list[dict[str, Any]]:
    return conn.execute(*query).fetchall()


def stream(conn: psycopg.Connection, query: Query, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every row through a server-side cursor, `batch` at a time: an export of a million cases never
    holds them all in memory. Runs inside the connection's transaction, which the cursor needs."""
    with conn.cursor(name="ledger_export") as cur:
        cur.itersize = batch
        cur.execute(*query)
        yield from cur
