"""The OpenAPI document says what the services really answer: every error as application/problem+json
(RFC 9457, zfcommon.problem), and for each operation the error statuses its shape can produce, derived
once here instead of repeated on every view:

| status | when |
| --- | --- |
| 400 | the operation takes a JSON body (not valid JSON) |
| 401 | every /v1 operation (no or a bad token; a bad signature on the signed webhooks) |
| 403 | the operation's declared roles (`x-roles`, zfcommon.blueprint) are not everyone |
| 404 | the path has parameters (what they name may not exist) |
| 409 | every /v1 write (a refused transition, naming the state; a version changed since it was read; a key already taken) |
| 413, 415 | the operation takes a body (too large; another content type) |
| 422 | the operation has parameters or a body (zfcommon.inputs, marshmallow) |
| 429 | the operation takes bearer tokens (API clients have rate limits) |
| 503 | every operation (its database unreachable) |

A view documents any other error itself; its body is made problem+json here too. Open311
and the OAuth token exchange answer errors in their own standards' formats and document them so.
"""
from __future__ import annotations

from typing import Any

import flask_smorest
from apispec import BasePlugin

from .auth import ROLES
from .problem import PROBLEM_TYPE

OWN_ERROR_FORMATS = ("/open311/", "/v1/token")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA = {
    "type": "object", "required": ["type", "title", "status", "code"],
    "description": "RFC 9457 problem details; title and detail in Chinese, code stable for programs",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable machine code, e.g. case.transition_refused"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "description": "422: field or parameter -> messages (nested for nested fields)"},
        "state": {"type": "string", "description": "409: the state the request was refused in"},
    },
}
WHY = {
    400: "请求体不是有效的 JSON", 401: "未认证（缺少或无效的令牌或签名）", 403: "角色无权进行此操作",
    404: "未找到", 409: "与当前状态冲突", 413: "请求内容过大", 415: "不支持的内容类型", 422: "输入未通过校验",
    429: "请求过于频繁", 503: "服务暂时不可用（数据库不可达）",
}
WRITES = ("post", "put", "patch", "delete")


class Api(flask_smorest.Api):
    """No catch-all `default` response: each operation lists the statuses it can answer (ProblemResponses)."""
    DEFAULT_ERROR_RESPONSE_NAME = None


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_TYPE: {"schema": PROBLEM_REF}}}


def error_statuses(path: str, operation: dict[str, Any], method: str = "get") -> set[int]:
    """The error statuses an operation's shape can produce (the table above)."""
    body = operation.get("requestBody", {}).get("content", {})
    statuses = {503}
    if path.startswith("/v1/"):
        statuses.add(401)
        if operation.get("security") != []:
            statuses.add(429)
        if method in WRITES:
            statuses.add(409)
    if body:
        statuses |= {413, 415, 422}
        if any(t == "application/json" or t.endswith("+json") for t in body):
            statuses.add(400)
    if "{" in path:
        statuses |= {404, 422}
    if operation.get("parameters"):
        statuses.add(422)
    roles = operation.get("x-roles")
    if roles is not None and set(roles) != set(ROLES):
        statuses.add(403)
    return statuses


class ProblemResponses(BasePlugin):
    def init_spec(self, spec) -> None:
        spec.components.schema("Problem", PROBLEM_SCHEMA)

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        if path is None or path.startswith(OWN_ERROR_FORMATS):
            return
        for method, operation in (operations or {}).items():
            responses = {str(status): answer for status, answer in operation.get("responses", {}).items()}
            for status, answer in responses.items():
                if status[0] in "45":
                    described = answer.get("description") if isinstance(answer, dict) else None
                    responses[status] = problem_response(described or WHY.get(int(status), "错误"))
            for status in error_statuses(path, operation, method):
                responses.setdefault(str(status), problem_response(WHY[status]))
            operation["responses"] = responses
