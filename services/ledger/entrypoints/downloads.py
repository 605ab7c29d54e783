"""The ledger's exports: a reader's rows streamed from a pooled connection as the response is sent
(zfcommon.exports writes them as CSV or XLSX)."""
from __future__ import annotations

from itertools import chain
from typing import Callable, Iterator, Mapping, Sequence

from flask import Response

from zfcommon.exports import Column, export

from .access import calendar_checked, pool, reader_scope, today


def streamed(view: Callable[..., Iterator[dict]], *args) -> Iterator[dict]:
    """Rows of `view` from a pooled connection held only while the response is being sent."""
    connections = pool()
    with connections.connection() as conn:
        yield from view(conn, *args)


def exported(fmt: str, columns: Sequence[Column], view: Callable[..., Iterator[dict]], query: Mapping, *,
             title: str, slug: str) -> Response:
    """Every row a reader's `view` yields for `query`, as of today, in `fmt`."""
    scope, day = reader_scope(), today()
    rows = streamed(view, query, scope, day)
    # The first row before the answer starts: what the filters cannot ask (a due_within past the
    # calendar's known years) is a 422 naming the filter, not a download cut off or a 500.
    first = calendar_checked(lambda: next(rows, None))
    return export(fmt, columns, rows if first is None else chain((first,), rows), title=title, slug=slug, day=day)
