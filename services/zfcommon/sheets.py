"""Reading an office's spreadsheet (CSV or XLSX) into rows of cell values, safely (intake's ledger and
task imports, notify's appraisal questionnaires).

Uploaded files are untrusted: sizes are checked before anything is decompressed or parsed, XLSX is read
with openpyxl in read-only mode (streamed, no formulas evaluated), and every way a file can be wrong ends
in a SpreadsheetError that says what is wrong with it. Row numbers are the ones the office sees in Excel.
"""
from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

MAX_BYTES = 10 * 1024 * 1024           # the upload itself
MAX_ROWS = 2000                        # non-empty rows with the header: one import ~5 s, inside request timeouts
MAX_COLUMNS = 100
MAX_UNCOMPRESSED = 100 * 1024 * 1024   # all XLSX parts together, as the zip directory declares them
MAX_RATIO = 200                        # uncompressed / compressed for any large part: beyond is a zip bomb
MAX_PARTS = 10_000
CSV_TYPES = ("text/csv", "application/csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")   # compound file: an encrypted .xlsx or a legacy .xls
Cell = str | date | None


@dataclass(frozen=True)
class Upload:
    data: bytes
    format: str                  # csv | xlsx
    filename: str | None = None
    charset: str | None = None   # a CSV's declared charset, if any


class SpreadsheetError(Exception):
    """422: the file is not a readable ledger (malformed, encrypted, empty, too many rows …)."""


class UnsupportedType(Exception):
    """415: neither CSV nor XLSX."""


@dataclass(frozen=True)
class Sheet:
    name: str | None                          # the worksheet's name (XLSX)
    rows: list[tuple[int, list[Cell]]]        # non-empty rows: (Excel row number, cells)


def format_of(content_type: str | None, filename: str | None, head: bytes) -> str:
    """csv or xlsx, from the file name first (browsers send CSV as application/vnd.ms-excel on Windows),
    then the declared type, then the content's own signature for an undeclared upload."""
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if ext in ("csv", "xlsx"):
        return ext
    if ext in ("xls", "xlsm", "xlsb", "et", "wps"):
        raise UnsupportedType(f"不支持 .{ext} 文件：请将台账另存为 .xlsx 或 .csv")
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in CSV_TYPES:
        return "csv"
    if kind == XLSX_TYPE:
        return "xlsx"
    if kind in ("", "application/octet-stream"):
        return "xlsx" if head.startswith(b"PK") else "csv"
    raise UnsupportedType(f"不支持的文件类型 {kind or '（未知）'}：请上传 .csv（{CSV_TYPES[0]}）"
                          f"或 .xlsx（{XLSX_TYPE}）文件")


def read(data: bytes, fmt: str, charset: str | None = None) -> list[Sheet]:
    if not data.strip():
        raise SpreadsheetError("文件是空的")
    if len(data) > MAX_BYTES:
        raise SpreadsheetError(f"文件超过 {MAX_BYTES} 字节")
    return read_xlsx(data) if fmt == "xlsx" else [read_csv(data, charset)]


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _collect(records, name: str | None) -> Sheet:
    rows: list[tuple[int, list[Cell]]] = []
    for number, values in records:
        cells = [_cell(v) for v in values]
        if all(_blank(c) for c in cells):
            continue
        if not all(_blank(c) for c in cells[MAX_COLUMNS:]):
            raise SpreadsheetError(f"第 {number} 行超过 {MAX_COLUMNS} 列")
        rows.append((number, cells[:MAX_COLUMNS]))
        if len(rows) > MAX_ROWS:
            raise SpreadsheetError(f"超过 {MAX_ROWS} 行：请把台账拆成几个文件")
    return Sheet(name, rows)


def _decode(data: bytes, charset: str | None) -> str:
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SpreadsheetError("文件是二进制内容，不是 CSV 文本")
    if charset:
        try:
            return data.decode(charset)
        except LookupError:
            raise SpreadsheetError(f"无法识别的字符集 {charset}") from None
        except UnicodeDecodeError as exc:
            raise SpreadsheetError(f"第 {exc.start} 字节处不是有效的 {charset} 文本") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")          # Excel's "Unicode text" export
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")         # Excel's "CSV" on a Chinese Windows: GBK
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(f"既不是 UTF-8 也不是 GBK 文本（第 {exc.start} 字节）；请另存为“CSV UTF-8”") from None


def read_csv(data: bytes, charset: str | None = None) -> Sheet:
    content = _decode(data, charset)
    head = content[:4096]
    delimiter = max(",\t;", key=head.count) if any(d in head for d in ",\t;") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        # Excel shows a quoted multi-line cell in one row, so a record's index is its Excel row number.
        return _collect(enumerate(reader, start=1), None)
    except csv.Error as exc:
        raise SpreadsheetError(f"CSV 格式有误，在第 {reader.line_num} 行附近（{exc}）") from None


def _check_zip(data: bytes) -> None:
    if data.startswith(OLE_MAGIC):
        raise SpreadsheetError("工作簿已加密（设有密码）或是旧版 .xls 文件：请去掉密码并另存为 .xlsx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SpreadsheetError("XLSX 文件损坏：不是 zip 压缩包") from None
    parts = archive.infolist()
    names = {p.filename for p in parts}
    if len(parts) > MAX_PARTS:
        raise SpreadsheetError(f"XLSX 文件异常：超过 {MAX_PARTS} 个部件")
    if any(p.flag_bits & 0x1 for p in parts):
        raise SpreadsheetError("XLSX 文件异常：压缩包已加密")
    # zipfile stops reading a part at its declared size (and fails its CRC beyond it), so the
    # declared sizes bound what decompression can produce.
    if sum(p.file_size for p in parts) > MAX_UNCOMPRESSED:
        raise SpreadsheetError(f"XLSX 文件异常：解压后超过 {MAX_UNCOMPRESSED} 字节")
    if any(p.file_size > 1024 * 1024 and p.file_size > MAX_RATIO * max(p.compress_size, 1) for p in parts):
        raise SpreadsheetError("XLSX 文件异常：某个部件的压缩比远超正常表格（疑似压缩炸弹）")
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError("XLSX 文件异常：没有 xl/workbook.xml，不是 Excel 工作簿")
    if not any(n.startswith("xl/worksheets/") and n.endswith(".xml") for n in names):
        raise SpreadsheetError("工作簿中没有工作表")


def read_xlsx(data: bytes) -> list[Sheet]:
    from openpyxl import load_workbook      # imported here: CSV imports and the domain never need it

    _check_zip(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, XML errors, ValueError…) on bad parts
        raise SpreadsheetError(f"XLSX 文件无法读取（{type(exc).__name__}：{str(exc)[:200]}）") from None
    try:
        sheets = [_collect(enumerate(ws.iter_rows(values_only=True), start=1), ws.title) for ws in book.worksheets]
    except SpreadsheetError:
        raise
    except Exception as exc:  # a part that only fails when streamed (truncated XML, bad cell values)
        raise SpreadsheetError(f"XLSX 文件无法读取（{type(exc).__name__}：{str(exc)[:200]}）") from None
    finally:
        book.close()
    if not sheets:
        raise SpreadsheetError("工作簿中没有工作表")
    return sheets
