"""/public/: what everyone may read without an account (DOMAIN.md "public"): published exposures of
typical cases and published bulletins and disclosures, as a server-rendered Chinese page that works
without JavaScript, one page per exposure, and feeds (JSON Feed 1.1, RSS 2.0, Atom).

Read-only and outside /v1/, so no token is asked for. Only published texts are read, exactly as their
published events carry them: a withdrawn exposure is gone from the page and the feeds (its own page
answers 410), and nothing unpublished is ever reachable here (404, as if it did not exist). Every
answer has an ETag (a hash of the body) and Last-Modified (the last publication or withdrawal), so
feed readers and proxies ask cheaply.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Mapping

from flask import Blueprint, Response, current_app, request, url_for
from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.exceptions import HTTPException

from zfcommon.problem import Problem

from zfcommon import ratelimit, trackingcode

from ..adapters import exposures as tables
from ..adapters import enforcement, feeds, tracking
from ..adapters.columns import cn_date
from ..domain import tracking as track

blp = Blueprint("public", __name__, url_prefix="/public")
SITE = "正风台账 · 公开信息"
DESCRIPTION = "典型案例曝光、月度工作通报、阶段性通报、12345热线群众诉求办理情况公布和民主评议结果"
AUTHOR = "正风办"
FEED_SIZE = 50
SUMMARY_CHARS = 120
KINDS = {"bulletin": "月通报", "interim": "阶段性通报", "disclosure": "热线办理情况公布", "appraisal": "民主评议结果"}
PATHS = {"bulletins": "bulletin", "interim-reports": "interim", "disclosures": "disclosure",   # /public/<path>/
         "appraisals": "appraisal"}
FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
NEVER = datetime(2000, 1, 1, tzinfo=timezone.utc)     # the feeds' `updated` before anything was published
TRACK_PER_MINUTE = 10     # look-ups per minute from one address: enough for a person, too few to walk receipts
# Codes tried on one case per hour, from any addresses: enough for its complainant, while guessing its
# 查询码 from many addresses at once would take centuries (10⁸ codes, 30 an hour).
CODE_TRIES_PER_HOUR = 30
_env = Environment(loader=PackageLoader("notify", "templates"), autoescape=select_autoescape(["html"]))
_env.filters["cn_date"] = cn_date


def _base() -> str:
    return current_app.extensions["zf_settings"].public_url or request.url_root.rstrip("/")


def _feed_urls(absolute: bool = False) -> dict[str, str]:
    urls = {fmt: url_for(f"public.feed_{fmt}") for fmt in ("json", "rss", "atom")}
    return {k: _base() + v for k, v in urls.items()} if absolute else urls


def _page(template: str, **context: Any) -> str:
    return _env.get_template(f"public/{template}").render(site=SITE, home=url_for("public.index"),
                                                          track=url_for("public.track_case"),
                                                          staff=url_for("public.enforcement_staff"),
                                                          feeds=_feed_urls(), **context)


def exposure_html(public: Mapping[str, Any], published_at: datetime | None, draft: str | None = None) -> str:
    """An exposure's page (also the office's preview of a draft, marked as such)."""
    return _page("exposure.html", public=public, published_at=published_at, draft=draft)


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[:SUMMARY_CHARS] + "……"


def _body_text(public: Mapping[str, Any]) -> str:
    number = f"【案件编号】{public['case_number']}\n\n" if public.get("case_number") else ""
    return number + public["text"] + (f"\n\n【警示点评】{public['lesson']}" if public["lesson"] else "")


def _links(row: Mapping[str, Any]) -> dict[str, str]:
    path = next(p for p, kind in PATHS.items() if kind == row["kind"])
    return {fmt: url_for("public.publication_file", path=path, key=row["key"], fmt=fmt) for fmt in FORMATS}


def _cached(body: str | bytes, content_type: str, status: int = 200) -> Response:
    """The answer with ETag and Last-Modified; 304 when the reader's copy is current."""
    with current_app.extensions["zf_pool"].connection() as conn:
        changed = tables.last_change(conn)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    resp = Response(raw, status=status, content_type=content_type)
    resp.headers["Cache-Control"] = "public, max-age=60"
    if status == 200:
        resp.set_etag(hashlib.sha256(raw).hexdigest()[:32])
        if changed is not None:
            resp.last_modified = changed
        resp.make_conditional(request)
    return resp


def _error(status: int, heading: str, message: str) -> Response:
    return Response(_page("error.html", heading=heading, message=message), status=status,
                    content_type="text/html; charset=utf-8", headers={"Cache-Control": "public, max-age=60"})


@blp.errorhandler(Problem)
def _refused(exc: Problem) -> Response:
    """What the request-validation layer refuses (a NUL in the path …) as this site's own page."""
    return _error(exc.status, exc.title, exc.detail or exc.title)


@blp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response:
    return _error(exc.code or 500, "无法显示该页面", "请求的页面不存在或无法处理，请从首页进入。")


@blp.get("/<path:rest>")
def unknown(rest: str) -> Response:
    """Any other path under /public/ gets this site's 404 page, not the API's problem+json."""
    return _error(404, "未找到该内容", "没有这个页面，请从首页进入。")


@blp.get("/")
def index() -> Response:
    with current_app.extensions["zf_pool"].connection() as conn:
        exposures, publications = tables.published(conn), tables.publications(conn)
    shown = [{**e, "url": url_for("public.exposure_page", exposure_id=e["id"]), "public": e["published"],
              "summary": _summary(e["published"]["text"])} for e in exposures]
    pubs = [{**p, **_links(p), "kind_name": KINDS[p["kind"]]} for p in publications]
    return _cached(_page("index.html", exposures=shown, publications=pubs), "text/html; charset=utf-8")


@blp.get("/enforcement-staff")
def enforcement_staff() -> Response:
    """公述民评: every unit's enforcement and supervision staff, with their posts and duties, for the public
    to appraise (seed 001), and how to give an opinion."""
    with current_app.extensions["zf_pool"].connection() as conn:
        rosters = enforcement.rosters(conn)
    return _cached(_page("staff.html", rosters=rosters), "text/html; charset=utf-8")


@blp.get("/exposures/<exposure_id>")
def exposure_page(exposure_id: str) -> Response:
    with current_app.extensions["zf_pool"].connection() as conn:
        row = tables.get(conn, exposure_id)
    if row is not None and row["state"] == "published":
        return _cached(exposure_html(row["published"], row["published_at"]), "text/html; charset=utf-8")
    if row is not None and row["state"] == "withdrawn" and row["published_at"] is not None:
        return _error(410, "该内容已撤回", "此典型案例曝光已由发布机关撤回，不再公开。")
    return _error(404, "未找到该内容", "没有这条已发布的典型案例曝光。")


def _feed() -> feeds.Feed:
    base = _base()
    with current_app.extensions["zf_pool"].connection() as conn:
        exposures, publications = tables.published(conn, FEED_SIZE), tables.publications(conn, FEED_SIZE)
        updated = tables.last_change(conn) or NEVER
    items = [feeds.Item(id=feeds.item_id(e["id"]), url=base + url_for("public.exposure_page", exposure_id=e["id"]),
                        title=e["published"]["title"], summary=_summary(e["published"]["text"]),
                        text=_body_text(e["published"]), published=e["published_at"],
                        category=f"典型案例曝光·{e['published']['category']}") for e in exposures]
    for p in publications:
        links = {fmt: base + url for fmt, url in _links(p).items()}
        items.append(feeds.Item(id=feeds.item_id(p["stream"]), url=links["html"], title=p["title"],
                                summary=f"{KINDS[p['kind']]}：{p['title']}", text=f"{p['title']}（{KINDS[p['kind']]}）",
                                published=p["published_at"], category=KINDS[p["kind"]],
                                attachments=((links["pdf"], FORMATS["pdf"]),)))
    items.sort(key=lambda i: i.published, reverse=True)
    return feeds.Feed(title=SITE, description=DESCRIPTION, home_url=base + url_for("public.index"),
                      urls=_feed_urls(absolute=True), author=AUTHOR, updated=updated, items=items[:FEED_SIZE])


@blp.get("/feed.json")
def feed_json() -> Response:
    return _cached(feeds.json_feed(_feed()), "application/feed+json; charset=utf-8")


@blp.get("/feed.rss")
def feed_rss() -> Response:
    return _cached(feeds.rss(_feed()), "application/rss+xml; charset=utf-8")


@blp.get("/feed.atom")
def feed_atom() -> Response:
    return _cached(feeds.atom(_feed()), "application/atom+xml; charset=utf-8")


@blp.get("/<any(bulletins, \"interim-reports\", disclosures, appraisals):path>/<key>.<any(html, pdf):fmt>")
def publication_file(path: str, key: str, fmt: str) -> Response:
    """A published bulletin, interim report or disclosure as HTML or PDF, rendered as /v1/ renders it for
    readers with a token: here for everyone, once published."""
    kind = PATHS[path]
    with current_app.extensions["zf_pool"].connection() as conn:
        listed = tables.publication(conn, kind, key)
        if listed is None:
            return _error(404, "未找到该内容", f"没有已发布的{KINDS[kind]} {key}。")
        from ..adapters import bulletin_projection        # the bulletins feature's own tables
        record = bulletin_projection.get(conn, kind, key)
    if record is None or record["state"] != "published":
        return _error(404, "未找到该内容", f"没有已发布的{KINDS[kind]} {key}。")
    from ..adapters import render         # matplotlib and WeasyPrint: loaded only when a file is asked for
    try:
        body = render.html(kind, record) if fmt == "html" else render.pdf(kind, record)
    except render.FontMissing as exc:
        return _error(503, "暂时无法生成", str(exc))
    return _cached(body, FORMATS[fmt])


@blp.get("/track")
def track_case() -> Response:
    """A complainant's own case by its receipt (受理回执: the case's id, number or 12345 order number): its
    status and dates, which Open311 publishes for every case anyway, and, once closed and with the case's
    查询码 (zfcommon.trackingcode), the handling unit's reply with personal data removed: numbers run in
    sequence, so the reply takes what only the complainant was given. Counted per address (429 with
    Retry-After)."""
    raw, code = request.args.get("receipt"), request.args.get("code")
    if raw is None:
        return _tracked(None, None, 200)
    address = request.remote_addr or "unknown"
    with current_app.extensions["zf_pool"].connection() as conn:
        verdict = ratelimit.hit(conn, f"public-track:{address}", TRACK_PER_MINUTE)
        if not verdict.allowed:
            resp = _error(429, "查询过于频繁", f"请在 {verdict.reset} 秒后再查询。")
            resp.headers["Retry-After"] = str(verdict.reset)
            return resp
        number = track.receipt(raw)
        row = tracking.find(conn, number) if number else None
        given = row is not None and bool((code or "").strip())
        tries = ratelimit.hit(conn, f"public-track-code:{row['case_id']}", CODE_TRIES_PER_HOUR, 3600) if given else None
    if row is None:
        return _tracked(raw, None, 404, code=code)
    if tries is not None and not tries.allowed:
        # The status still shows; the code is not even checked until the hour is over.
        resp = _tracked(raw, track.answer(row, with_reply=False), 429, code=code, locked=tries.reset)
        resp.headers["Retry-After"] = str(tries.reset)
        return resp
    opened = given and trackingcode.of_app().matches(row["case_id"], code)
    return _tracked(raw, track.answer(row, with_reply=opened), 200, code=code, wrong_code=given and not opened)


def _tracked(receipt: str | None, found: dict | None, status: int, *, code: str | None = None,
             wrong_code: bool = False, locked: int | None = None) -> Response:
    # Never cached by proxies: the answer is one person's, and it changes as the case moves.
    page = _page("track.html", receipt=receipt, found=found, code=code, wrong_code=wrong_code,
                 locked_minutes=None if locked is None else -(-locked // 60))
    return Response(page, status=status, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})
