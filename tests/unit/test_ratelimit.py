"""Client tokens carry their rate limit; only they cost a counter update (zfcommon.ratelimit)."""
import json
import time

import jwt
import pytest
from flask import Flask

from zfcommon import ratelimit
from zfcommon.auth import Principal, issue_token, verify_token
from zfcommon.problem import Unauthorized

from .fakes import JWT_SECRET


class NoPool:
    """A pool that must not be used: internal tokens never pay for rate limiting."""

    def connection(self, *a, **kw):
        raise AssertionError("the database was asked about a token without a client claim")


def test_a_client_token_carries_its_client_and_rate_and_verifies_back():
    token = issue_token(JWT_SECRET, "unit", "c-1", unit="县自然资源局", ttl_seconds=600,
                        client_id="c-1", rate_per_minute=30)
    assert verify_token(JWT_SECRET, token) == Principal(role="unit", sub="c-1", unit="县自然资源局",
                                                        client_id="c-1", rate_per_minute=30)


def test_a_client_token_is_not_issued_without_a_rate():
    with pytest.raises(ValueError, match="rate limit"):
        issue_token(JWT_SECRET, "channel", "c-1", channel="hotline", client_id="c-1")


@pytest.mark.parametrize("rate", [None, 0, -5, "60", 1.5, True])
def test_a_client_claim_without_a_valid_rate_is_unauthorized(rate):
    now = int(time.time())
    claims = {"iss": "zhengfeng", "sub": "c-1", "role": "channel", "channel": "hotline", "iat": now,
              "exp": now + 60, "client_id": "c-1", "rate_per_minute": rate}
    with pytest.raises(Unauthorized) as refused:
        verify_token(JWT_SECRET, jwt.encode(claims, JWT_SECRET, algorithm="HS256"))
    assert refused.value.code == "auth.token_invalid" and "频率限制" in refused.value.detail


@pytest.mark.parametrize("who", [Principal("office", "li"), Principal("unit", "u", unit="县自然资源局"),
                                 Principal("channel", "h", channel="hotline")])
def test_tokens_without_a_client_claim_are_never_counted(who):
    with Flask(__name__).test_request_context("/v1/cases"):
        assert ratelimit.enforce(NoPool(), who) is None


def test_within_the_limit_the_headers_tell_what_is_left():
    verdict = ratelimit.Verdict(limit=10, hits=4, reset=37)
    assert verdict.allowed
    assert verdict.headers() == {"RateLimit-Limit": "10", "RateLimit-Remaining": "6", "RateLimit-Reset": "37"}


def test_over_the_limit_is_a_429_problem_with_retry_after():
    verdict = ratelimit.Verdict(limit=10, hits=13, reset=12)
    assert not verdict.allowed
    with Flask(__name__).app_context():
        resp = ratelimit.refusal(verdict)
    assert resp.status_code == 429 and resp.mimetype == "application/problem+json"
    assert resp.headers["Retry-After"] == "12" and resp.headers["RateLimit-Remaining"] == "0"
    body = json.loads(resp.get_data())
    assert body["status"] == 429 and body["retry_after"] == 12 and body["type"].endswith("/rate-limited")
