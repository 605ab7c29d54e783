"""What the bulletin and disclosure endpoints share: who sees what, the command wrapper, error mapping
and the rendered files.

Drafts are read by the office and auditors only; a published bulletin or disclosure by every role,
the public included. To anyone else a draft does not exist (404), as a case a unit may not see.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from flask import Response, current_app, url_for

from zfcommon import jwks, logs
from zfcommon.clock import clock_for
from zfcommon.eventstore import ConcurrencyConflict
from zfcommon.exports import XLSX, disposition
from zfcommon.problem import Conflict, Forbidden, NotFound, Unavailable, Unprocessable
from zfcommon.web import principal

from ..adapters import bulletin_projection as tables
from ..adapters import render, workbook
from ..adapters.complainants import ComplainantClient, IntakeUnavailable
from ..adapters.figures_client import LedgerClient, LedgerUnavailable
from ..domain import appraisal, document, publication
from ..service_layer import bulletins as handlers
from ..service_layer.uow import UnitOfWork
from .bulletin_schemas import Publication
from .commands import idempotent

IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}
INSIDERS = ("office", "auditor")
KEYS = {"bulletin": re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "disclosure": re.compile(r"^\d{4}-Q[1-4]$"),
        "interim": re.compile(r"^\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}$"), "appraisal": appraisal.KEY}
BLUEPRINTS = {"bulletin": "bulletins", "disclosure": "disclosures", "interim": "interims", "appraisal": "appraisals"}
FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "xlsx": XLSX}
NAMES = {"bulletin": ("月通报", "bulletin"), "disclosure": ("热线办理情况公布", "disclosure"),
         "interim": ("阶段性通报", "interim-report"), "appraisal": ("民主评议结果", "appraisal")}
FILES_DOC = {"responses": {"200": {"description": "the rendering (HTML, PDF or XLSX), in Chinese",
                                   "content": {t.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                                               for t in FORMATS.values()}}}}


def context() -> handlers.Context:
    return handlers.Context(actor=principal().actor, correlation_id=logs.correlation_id.get() or "",
                            now=clock_for(current_app.extensions["zf_settings"].clock_file).now())


def ledger() -> LedgerClient:
    settings = current_app.extensions["zf_settings"]
    if "zf_ledger" not in current_app.extensions:
        current_app.extensions["zf_ledger"] = LedgerClient(settings.ledger_url, jwks.signer(settings))
    return current_app.extensions["zf_ledger"]


def office() -> document.Office:
    """Who issues the publications and how they are numbered (made and checked by create_app)."""
    return current_app.extensions["zf_office"]


def complainants() -> ComplainantClient:
    """intake, asked for complainants' identities only to mask them in what notify publishes."""
    settings = current_app.extensions["zf_settings"]
    if "zf_complainants" not in current_app.extensions:
        current_app.extensions["zf_complainants"] = ComplainantClient(settings.intake_url, jwks.signer(settings))
    return current_app.extensions["zf_complainants"]


def problems(fn: Callable[[], Any]) -> Any:
    """Map the domain's and the adapters' errors to problem+json (409 names the state)."""
    try:
        return fn()
    except publication.Refused as exc:
        raise Conflict(str(exc), code=exc.code, state=exc.state, allowed=exc.allowed) from None
    except publication.SameReviewer as exc:
        raise Forbidden(str(exc), code="bulletin.four_eyes") from None
    except ConcurrencyConflict as exc:
        raise Conflict(f"{exc.stream_id} 刚被他人修改：请重新读取后再试", code="publication.version_conflict",
                       state="changed") from None
    except handlers.NotFound as exc:
        raise NotFound(str(exc), code=exc.code) from None
    except handlers.Invalid as exc:
        raise Unprocessable(str(exc), code=exc.code, errors=exc.errors) from None
    except LedgerUnavailable as exc:
        raise Unavailable("台账服务暂时无法访问，本次未保存任何内容，请稍后重试", code="ledger_unavailable",
                          reason=str(exc)) from None
    except IntakeUnavailable as exc:
        raise Unavailable("受理服务暂时无法访问，无法遮盖举报人身份，本次未保存任何内容，请稍后重试",
                          code="intake_unavailable", reason=str(exc)) from None
    except render.FontMissing as exc:
        raise Unavailable("服务器缺少中文字体，暂时无法生成文件，请联系系统管理员", code="font_missing",
                          reason=str(exc)) from None


def command(fn: Callable[[UnitOfWork], tuple[int, dict]]) -> tuple[dict, int, dict]:
    """fn(uow) -> (status, body already dumped), in one transaction under the request's Idempotency-Key
    (a retry with the same key answers the first answer, storing nothing again). The views declare office."""

    def run(u: UnitOfWork) -> tuple[int, dict, dict]:
        status, body = problems(lambda: fn(u))
        return status, body, {}
    return idempotent(run)


def publication_command(kind: str, fn: Callable[[UnitOfWork], dict], status: int = 200):
    return command(lambda u: (status, Publication().dump(shown(kind, fn(u)))))


def links(kind: str, key: str) -> dict[str, str]:
    return {fmt: url_for(f"{BLUEPRINTS[kind]}.File", key=key, fmt=fmt) for fmt in FORMATS}


def shown(kind: str, row: dict) -> dict:
    """The row as the API shows it; outsiders are not told who drafted or reviewed it."""
    out = {**row, "id": row["key"], "kind": kind, "title": publication.title(kind, row["key"]),
           "links": links(kind, row["key"])}
    if principal().role not in INSIDERS:
        for name in ("drafted_by", "reviews", "published_by", "version", "revision"):
            out.pop(name, None)
    return out


def listed(kind: str) -> dict:
    """Newest first: every one of `kind` for the office and auditors, the published ones for others."""
    with current_app.extensions["zf_pool"].connection() as conn:
        rows = tables.listing(conn, kind, published_only=principal().role not in INSIDERS)
    return {"items": [shown(kind, r) for r in rows]}


def visible(kind: str, key: str) -> dict:
    if KEYS[kind].match(key):
        with current_app.extensions["zf_pool"].connection() as conn:
            row = tables.get(conn, kind, key)
        if row is not None and (row["state"] == "published" or principal().role in INSIDERS):
            return row
    raise NotFound(f"没有 {key} 的{publication.KIND_NAMES[kind]}", code="publication.not_found")


def rendered(kind: str, key: str, fmt: str) -> Response:
    row = visible(kind, key)
    body = problems(lambda: {"html": render.html, "pdf": render.pdf, "xlsx": workbook.xlsx}[fmt](kind, row))
    name, slug = NAMES[kind]
    return Response(body, content_type=FORMATS[fmt],
                    headers={"Content-Disposition": disposition(f"{name}-{key}.{fmt}", f"{slug}-{key}.{fmt}",
                                                                inline=True)})
