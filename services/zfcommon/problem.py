"""RFC 9457 problem details, and the domain errors every service maps to them at the edge.

What an office reads is Chinese: `title` and `detail` are zh-CN. What a program reads is the stable
machine `code` (a default per class, e.g. `not_found`; a raise names a finer one, e.g.
`case.transition_refused`) and the extension members (`errors` per field, `state`, `allowed` …).
The English or technical reason, when there is one, goes to the log (`reason=`), never to the body.
"""
from __future__ import annotations

from typing import Any

from flask import Response, json

from .messages import translate_errors

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://zhengfeng.example.cn/problems/"


class Problem(Exception):
    status = 500
    slug = "internal"
    title = "服务器内部错误"
    code = "internal_error"

    def __init__(self, detail: str | None = None, *, code: str | None = None, reason: str | None = None,
                 **extensions: Any):
        super().__init__(detail or self.title)
        self.detail = detail
        if code is not None:
            self.code = code
        self.reason = reason          # for the log only: the technical reason, in English
        self.extensions = extensions

    def body(self) -> dict[str, Any]:
        doc = {"type": TYPE_BASE + self.slug, "title": self.title, "status": self.status, "code": self.code}
        if self.detail:
            doc["detail"] = self.detail
        doc.update(self.extensions)
        return doc


class BadRequest(Problem):
    status, slug, title, code = 400, "bad-request", "请求无法解析", "bad_request"


class Unauthorized(Problem):
    status, slug, title, code = 401, "unauthorized", "需要身份认证", "unauthorized"


class Forbidden(Problem):
    status, slug, title, code = 403, "forbidden", "无权进行此操作", "forbidden"


class NotFound(Problem):
    status, slug, title, code = 404, "not-found", "未找到", "not_found"


class Conflict(Problem):
    """409: a refused transition (extension `state`, `allowed`) or a lost concurrency race."""
    status, slug, title, code = 409, "conflict", "与当前状态冲突", "conflict"


class PayloadTooLarge(Problem):
    """413: the body is over the endpoint's limit (say the limit); nothing was read further."""
    status, slug, title, code = 413, "too-large", "请求内容过大", "payload_too_large"


class UnsupportedMediaType(Problem):
    """415: a Content-Type the endpoint does not take (say which it takes)."""
    status, slug, title, code = 415, "unsupported-media-type", "不支持的内容类型", "unsupported_media_type"


class Unprocessable(Problem):
    """422: validation failed; extension `errors` maps each bad field to its messages (marshmallow's
    standard English messages are put into Chinese here, in one place: zfcommon.messages)."""
    status, slug, title, code = 422, "validation", "输入未通过校验", "validation_failed"

    def __init__(self, detail: str | None = None, **kwargs: Any):
        if "errors" in kwargs:
            kwargs["errors"] = translate_errors(kwargs["errors"])
        super().__init__(detail, **kwargs)


class TooManyRequests(Problem):
    """429: a client over its rate limit (extensions `limit`, `retry_after`)."""
    status, slug, title, code = 429, "rate-limited", "请求过于频繁", "rate_limited"


class Unavailable(Problem):
    status, slug, title, code = 503, "unavailable", "服务暂时不可用", "unavailable"


def response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE,
                    headers=headers)


def from_problem(exc: Problem, headers: dict[str, str] | None = None) -> Response:
    return response(exc.status, exc.body(), headers)
