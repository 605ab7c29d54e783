"""Export responses: CSV streamed as rows come from the database, XLSX built then sent."""
from __future__ import annotations

from datetime import date
from itertools import chain
from typing import Callable, Iterable, Iterator, Mapping, Sequence
from urllib.parse import quote

from flask import Response, stream_with_context
from werkzeug.wsgi import FileWrapper

from zfcommon import liveness
from zfcommon.problem import Unprocessable

from ..adapters.spreadsheets import csv_chunks, xlsx_file
from .access import calendar_checked, pool, reader_scope, today
from .columns import Column

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel and WPS open at most 1,048,576 rows a sheet; the header takes one.
XLSX_MAX_ROWS = 1_048_575


def export_doc(what: str) -> dict:
    """The OpenAPI answer of an export endpoint: `what`, as CSV or XLSX."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {"200": {"description": f"{what}; CSV: UTF-8 with BOM; XLSX: one sheet; Chinese headers",
                                  "content": {"text/csv": binary, XLSX: binary}}}}


def attachment(name: str, fallback: str) -> str:
    """Content-Disposition with the Chinese name as RFC 5987 filename* and an ASCII one for old clients."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def export(fmt: str, columns: Sequence[Column], rows: Iterable[Mapping], *, title: str, slug: str,
           day: date) -> Response:
    """`rows` may hold a database connection open: it is consumed while the response is sent."""
    headers = [c.header for c in columns]
    values = ([c.value(r) for c in columns] for r in rows)
    disposition = attachment(f"{title}-{day:%Y%m%d}.{fmt}", f"{slug}-{day:%Y%m%d}.{fmt}")
    if fmt == "csv":
        return Response(stream_with_context(csv_chunks(headers, values)), mimetype="text/csv",
                        headers={"Content-Disposition": disposition})
    # A CSV beats as its pieces go out (create_base_app); an XLSX of a large 台账 is built for longer than
    # a worker's timeout before its first byte, so its rows beat as they are read (zfcommon.liveness).
    book = xlsx_file(title, headers, [c.width for c in columns], _fits_a_sheet(liveness.beating(values)))
    return Response(FileWrapper(book), mimetype=XLSX, direct_passthrough=True,
                    headers={"Content-Disposition": disposition})


def _fits_a_sheet(values: Iterable[list]) -> Iterator[list]:
    """The rows, refused (422, before the first byte: the XLSX is built first) once there are more than
    a spreadsheet shows: a sheet cut short would look complete."""
    for n, row in enumerate(values, 1):
        if n > XLSX_MAX_ROWS:
            raise Unprocessable(f"Excel 表格最多容纳 {XLSX_MAX_ROWS:,} 行，符合条件的记录超过此数：请缩小筛选范围，"
                                "或导出 CSV", code="export.too_many_rows", limit=XLSX_MAX_ROWS)
        yield row


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
