"""The accountability trail for auditors (and the office): events filtered by case, unit, actor, type and
time; any event's inclusion proof in the signed tree, verified in the page; tree heads; reconciliation; the
export bundle; a case as of any time, rebuilt from the trail."""
from __future__ import annotations

import base64
import hashlib
import json

from flask import Blueprint, flash, redirect, request, url_for

from ..adapters import audit
from ..adapters.services import ServiceError
from . import casepage, web
from .web import FormErrors, roles

bp = Blueprint("trail", __name__, url_prefix="/trail")
READERS = ("auditor", "office")
FILTERS = ("subject", "unit", "actor", "type", "since", "until")


@bp.get("")
@roles(*READERS)
def events():
    query = {k: request.args.get(k, "").strip() for k in FILTERS if request.args.get(k, "").strip()}
    params = {k: (casepage.instant(v) if k in ("since", "until") else v) for k, v in query.items()}
    if query.get("type") and not query["type"].startswith("cn."):
        params["type"] = f"cn.zhengfeng.{query['type']}.v1"
    errors, page = None, {"items": [], "next_after": None}
    try:
        page = audit.events(web.services(), **params, after=request.args.get("after", type=int), limit=50)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        errors = FormErrors.of(exc, FILTERS)
    return web.page("trail/events.html", 422 if errors else 200, page=page, query=query, errors=errors)


@bp.get("/proof/<int:seq>")
@roles(*READERS)
def proof(seq: int):
    """The event at trail position `seq` (leaf seq - 1), its leaf hash, and its inclusion proof in the latest
    signed tree; the page's script recomputes the root from them (RFC 9162 §2.1.3.2)."""
    s = web.services()
    found = audit.entry(s, seq - 1)
    if not found:
        return web.page("error.html", 404, status=404, message="审计日志中没有这一位置的事件")
    leaf_input = base64.b64decode(found["leaf_input"])
    leaf_hash = base64.b64encode(hashlib.sha256(b"\x00" + leaf_input).digest()).decode()
    head = audit.sth(s)
    path = None
    if found["leaf_index"] < head["tree_size"]:
        path = audit.proof(s, leaf_hash, head["tree_size"])["audit_path"]
    return web.page("trail/proof.html", seq=seq, entry=found, leaf_hash=leaf_hash, head=head, path=path,
                    path_json=json.dumps(path or []))


@bp.get("/log")
@roles(*READERS)
def log():
    s = web.services()
    return web.page("trail/log.html", head=audit.sth(s), checkpoint=audit.checkpoint(s))


@bp.get("/bundle.tar")
@roles(*READERS)
def bundle():
    return web.passthrough(audit.bundle(web.services(), request.args.get("start", type=int),
                                        request.args.get("end", type=int)))


@bp.get("/reconciliation")
@roles(*READERS)
def reconciliation():
    return web.page("trail/reconciliation.html", result=audit.reconciliation(web.services()))


@bp.post("/reconciliation")
@roles(*READERS)
def reconcile():
    audit.reconcile_now(web.services())
    flash("已完成一次对账")
    return redirect(url_for("trail.reconciliation"))


@bp.get("/cases/<case_id>/as-of")
@roles(*READERS)
def case_as_of(case_id: str):
    return casepage.as_of_page(audit.case_as_of, "trail/as_of.html", case_id)
