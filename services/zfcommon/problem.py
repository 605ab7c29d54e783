"""RFC 9457 problem details, and the domain errors every service maps to them at the edge."""
from __future__ import annotations

from typing import Any

from flask import Response, json

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://zhengfeng.example.cn/problems/"


class Problem(Exception):
    status = 500
    slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str | None = None, **extensions: Any):
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions

    def body(self) -> dict[str, Any]:
        doc = {"type": TYPE_BASE + self.slug, "title": self.title, "status": self.status}
        if self.detail:
            doc["detail"] = self.detail
        doc.update(self.extensions)
        return doc


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    """409: a refused transition (extension `state`, `allowed`) or a lost concurrency race."""
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(Problem):
    """413: the body is over the endpoint's limit (say the limit); nothing was read further."""
    status, slug, title = 413, "too-large", "Payload too large"


class UnsupportedMediaType(Problem):
    """415: a Content-Type the endpoint does not take (say which it takes)."""
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(Problem):
    """422: validation failed; extension `errors` maps each bad field to its messages."""
    status, slug, title = 422, "validation", "Validation failed"


class Unavailable(Problem):
    status, slug, title = 503, "unavailable", "Service unavailable"


def response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE,
                    headers=headers)


def from_problem(exc: Problem) -> Response:
    return response(exc.status, exc.body())
