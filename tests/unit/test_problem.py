"""RFC 9457 problem details."""
import json

import pytest

from zfcommon import problem

KINDS = [(problem.Problem, 500, "internal"), (problem.BadRequest, 400, "bad-request"),
         (problem.Unauthorized, 401, "unauthorized"), (problem.Forbidden, 403, "forbidden"),
         (problem.NotFound, 404, "not-found"), (problem.Conflict, 409, "conflict"),
         (problem.PayloadTooLarge, 413, "too-large"), (problem.UnsupportedMediaType, 415, "unsupported-media-type"),
         (problem.Unprocessable, 422, "validation"), (problem.Unavailable, 503, "unavailable")]


def test_every_problem_kind_is_specified_here():
    assert {cls for cls, _, _ in KINDS} == {problem.Problem, *problem.Problem.__subclasses__()}


@pytest.mark.parametrize("cls, status, slug", KINDS, ids=lambda v: getattr(v, "__name__", None))
def test_body_has_type_title_status_detail_and_extensions(cls, status, slug):
    body = cls("case c1 is received", state="received").body()
    assert body == {"type": f"https://zhengfeng.example.cn/problems/{slug}", "title": cls.title,
                    "status": status, "detail": "case c1 is received", "state": "received"}


def test_body_without_detail_has_no_detail_and_message_falls_back_to_title():
    exc = problem.NotFound()
    assert "detail" not in exc.body()
    assert str(exc) == "Not found"


def test_response_is_problem_json_with_the_status_and_readable_chinese():
    resp = problem.from_problem(problem.Conflict("案件已受理", state="received"))
    assert (resp.status_code, resp.mimetype) == (409, "application/problem+json")
    assert "案件已受理" in resp.get_data(as_text=True)
    assert json.loads(resp.get_data())["state"] == "received"
