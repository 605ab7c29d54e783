"""Export responses shared by the services: a table of rows as CSV (streamed as the rows come) or XLSX
(built, then sent), with Chinese headers and a Content-Disposition naming the file in Chinese."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence
from urllib.parse import quote

from flask import Response, stream_with_context
from werkzeug.wsgi import FileWrapper

from . import liveness
from .problem import Unprocessable
from .spreadsheets import csv_chunks, xlsx_file

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel and WPS open at most 1,048,576 rows a sheet; the header takes one.
XLSX_MAX_ROWS = 1_048_575

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Column:
    """One column of an export: its Chinese header, its width in characters, and a row's value."""
    header: str
    width: int
    value: Callable[[Row], Any]


def export_doc(what: str) -> dict:
    """The OpenAPI answer of an export endpoint: `what`, as CSV or XLSX."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {"200": {"description": f"{what}; CSV: UTF-8 with BOM; XLSX: one sheet; Chinese headers",
                                  "content": {"text/csv": binary, XLSX: binary}}}}


def disposition(name: str, fallback: str, *, inline: bool = False) -> str:
    """Content-Disposition with the Chinese name as RFC 5987 filename* and an ASCII one for old clients."""
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def export(fmt: str, columns: Sequence[Column], rows: Iterable[Row], *, title: str, slug: str,
           day: date) -> Response:
    """`rows` may hold a database connection open: it is consumed while the response is sent."""
    headers = [c.header for c in columns]
    values = ([c.value(r) for c in columns] for r in rows)
    named = disposition(f"{title}-{day:%Y%m%d}.{fmt}", f"{slug}-{day:%Y%m%d}.{fmt}")
    if fmt == "csv":
        return Response(stream_with_context(csv_chunks(headers, values)), mimetype="text/csv",
                        headers={"Content-Disposition": named})
    # A CSV beats as its pieces go out (create_base_app); an XLSX of a large table is built for longer than
    # a worker's timeout before its first byte, so its rows beat as they are read (zfcommon.liveness).
    book = xlsx_file(title, headers, [c.width for c in columns], _fits_a_sheet(liveness.beating(values)))
    return Response(FileWrapper(book), mimetype=XLSX, direct_passthrough=True,
                    headers={"Content-Disposition": named})


def _fits_a_sheet(values: Iterable[list]) -> Iterator[list]:
    """The rows, refused (422, before the first byte: the XLSX is built first) once there are more than
    a spreadsheet shows: a sheet cut short would look complete."""
    for n, row in enumerate(values, 1):
        if n > XLSX_MAX_ROWS:
            raise Unprocessable(f"Excel 表格最多容纳 {XLSX_MAX_ROWS:,} 行，符合条件的记录超过此数：请缩小筛选范围，"
                                "或导出 CSV", code="export.too_many_rows", limit=XLSX_MAX_ROWS)
        yield row
