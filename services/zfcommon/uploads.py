"""An office's spreadsheet as a request carries it: a multipart form's `file`, or the raw CSV or XLSX
body, bounded before it is read (zfcommon.sheets then reads it safely). intake's imports and notify's
appraisal questionnaires take their files this way."""
from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from . import sheets
from .problem import PayloadTooLarge, Unprocessable, UnsupportedMediaType

MULTIPART_SLACK = 64 * 1024        # boundaries and part headers around the file


def too_large(what: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"{what}最大 {sheets.MAX_BYTES // (1024 * 1024)} MiB", code="import.too_large",
                           limit=sheets.MAX_BYTES)


def _file(what: str) -> tuple[bytes, str | None, str | None, str | None]:
    """(content, file name, declared type, charset) from a multipart form (field `file`) or the raw body."""
    if request.mimetype == "multipart/form-data":
        part = request.files.get("file")
        if part is None:
            raise Unprocessable(f"请在表单字段 file 中上传{what}", code="import.file_missing",
                                errors={"file": ["缺少文件"]})
        return (part.stream.read(sheets.MAX_BYTES + 1), part.filename, part.mimetype,
                part.mimetype_params.get("charset"))
    if request.mimetype not in (*sheets.CSV_TYPES, sheets.XLSX_TYPE):
        raise UnsupportedMediaType(
            f"请以 multipart/form-data（字段 file）上传，或直接发送 {sheets.CSV_TYPES[0]} 或 "
            f"{sheets.XLSX_TYPE} 内容，收到的是 {request.mimetype or '未声明类型的内容'}",
            code="request.unsupported_media_type", received=request.mimetype or None,
            expected=["multipart/form-data", sheets.CSV_TYPES[0], sheets.XLSX_TYPE])
    return request.get_data(), None, request.mimetype, request.mimetype_params.get("charset")


def upload(what: str) -> sheets.Upload:
    """The request's spreadsheet (`what` names it in the refusals: 台账文件, 评议票表 …): 413 past the
    size limit, 415 for what is neither CSV nor XLSX, 422 without a file."""
    limit = sheets.MAX_BYTES + MULTIPART_SLACK
    request.max_content_length = limit        # also bounds a chunked body that announces no length
    if (request.content_length or 0) > limit:
        raise too_large(what)
    try:
        data, filename, declared, charset = _file(what)
        if len(data) > sheets.MAX_BYTES:
            raise too_large(what)
        return sheets.Upload(data, sheets.format_of(declared, filename, data[:8]), filename, charset)
    except RequestEntityTooLarge:
        raise too_large(what) from None
    except sheets.UnsupportedType as exc:
        raise UnsupportedMediaType(str(exc), code="import.file_type_unsupported") from None
