"""CSV and XLSX writers for the exports: a header row and rows of plain values, streamed.

Both guard against formula injection: a complainant's text that starts like a formula must reach
the office's spreadsheet as text, never run as a formula.
"""
from __future__ import annotations

import csv
import io
import tempfile
from typing import IO, Any, Iterable, Iterator, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

BOM = "\ufeff"   # Excel opens a UTF-8 CSV as UTF-8 only when it starts with a byte-order mark
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOLD = Font(bold=True)


def _csv_safe(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]], rows_per_chunk: int = 500) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(headers)
    for i, row in enumerate(rows, 1):
        writer.writerow([_csv_safe(v) for v in row])
        if i % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_file(title: str, headers: Sequence[str], widths: Sequence[int], rows: Iterable[Sequence[Any]]) -> IO[bytes]:
    """The workbook in a temporary file, rewound. write_only keeps memory flat however many rows come."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_cell(sheet, h, font=BOLD) for h in headers])
    try:
        for row in rows:
            sheet.append([_cell(sheet, v) if isinstance(v, str) and v.startswith("=") else v for v in row])
    except BaseException:
        # openpyxl keeps the sheet's rows in a temporary file of its own, removed when the book is saved
        # or the process exits: a build given up (too many rows, the database gone) removes it now.
        sheet.close()
        sheet._writer.cleanup()
        raise
    out = tempfile.TemporaryFile()
    book.save(out)
    out.seek(0)
    return out


def _cell(sheet, value: str, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"   # openpyxl reads a string starting with "=" as a formula otherwise
    if font is not None:
        cell.font = font
    return cell
