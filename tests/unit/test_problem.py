"""RFC 9457 problem details: Chinese title and detail for the office, a stable code for programs."""
import json

import pytest

from zfcommon import problem

KINDS = [(problem.Problem, 500, "internal", "internal_error"),
         (problem.BadRequest, 400, "bad-request", "bad_request"),
         (problem.Unauthorized, 401, "unauthorized", "unauthorized"),
         (problem.Forbidden, 403, "forbidden", "forbidden"),
         (problem.NotFound, 404, "not-found", "not_found"), (problem.Conflict, 409, "conflict", "conflict"),
         (problem.PayloadTooLarge, 413, "too-large", "payload_too_large"),
         (problem.UnsupportedMediaType, 415, "unsupported-media-type", "unsupported_media_type"),
         (problem.Unprocessable, 422, "validation", "validation_failed"),
         (problem.TooManyRequests, 429, "rate-limited", "rate_limited"),
         (problem.Unavailable, 503, "unavailable", "unavailable")]


def test_every_problem_kind_is_specified_here():
    assert {cls for cls, *_ in KINDS} == {problem.Problem, *problem.Problem.__subclasses__()}


@pytest.mark.parametrize("cls, status, slug, code", KINDS, ids=lambda v: getattr(v, "__name__", None))
def test_body_has_type_title_status_code_detail_and_extensions(cls, status, slug, code):
    body = cls("案件当前状态为“已受理”", state="received").body()
    assert body == {"type": f"https://zhengfeng.example.cn/problems/{slug}", "title": cls.title,
                    "status": status, "code": code, "detail": "案件当前状态为“已受理”", "state": "received"}


@pytest.mark.parametrize("cls", [cls for cls, *_ in KINDS])
def test_every_title_is_chinese(cls):
    assert all("\u4e00" <= ch <= "\u9fff" for ch in cls.title.replace("（", "").replace("）", ""))


def test_a_raise_names_its_own_stable_code_without_changing_the_class_default():
    assert problem.Conflict("不能再交办", code="case.transition_refused").body()["code"] == "case.transition_refused"
    assert problem.Conflict("x").code == "conflict"


def test_the_technical_reason_is_for_the_log_only():
    exc = problem.BadRequest("请求体不是有效的 JSON", reason="Expecting value: line 1 column 1")
    assert exc.reason.startswith("Expecting") and "Expecting" not in json.dumps(exc.body())


def test_body_without_detail_has_no_detail_and_message_falls_back_to_title():
    exc = problem.NotFound()
    assert "detail" not in exc.body()
    assert str(exc) == "未找到"


def test_response_is_problem_json_with_the_status_and_readable_chinese():
    resp = problem.from_problem(problem.Conflict("案件已受理", state="received"), headers={"Retry-After": "1"})
    assert (resp.status_code, resp.mimetype) == (409, "application/problem+json")
    assert "案件已受理" in resp.get_data(as_text=True) and resp.headers["Retry-After"] == "1"
    assert json.loads(resp.get_data())["state"] == "received"
