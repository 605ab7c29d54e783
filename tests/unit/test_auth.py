"""Bearer JWT authentication and roles."""
import time

import jwt
import pytest

from zfcommon.auth import (ISSUER, ROLES, Principal, VerifiedTokens, issue_token, principal_from_header,
                           require_role, verify_token)
from zfcommon.problem import Forbidden, Unauthorized

from .fakes import JWT_SECRET

SCOPES = {"unit": {"unit": "市住建局"}, "channel": {"channel": "hotline"}}


def _claims(**overrides):
    now = int(time.time())
    return {"iss": ISSUER, "sub": "li", "role": "office", "iat": now, "exp": now + 60, **overrides}


@pytest.mark.parametrize("role", ROLES)
def test_issued_token_verifies_to_the_same_principal(role):
    token = issue_token(JWT_SECRET, role, "li", **SCOPES.get(role, {}))
    assert verify_token(JWT_SECRET, token) == Principal(role=role, sub="li", **SCOPES.get(role, {}))


@pytest.mark.parametrize("role, message", [("unit", "names its unit"), ("channel", "names its channel"),
                                           ("admin", "unknown role")])
def test_token_is_not_issued_without_its_scope_or_for_an_unknown_role(role, message):
    with pytest.raises(ValueError, match=message):
        issue_token(JWT_SECRET, role, "li")


def test_expired_token_is_unauthorized():
    token = issue_token(JWT_SECRET, "office", "li", ttl_seconds=-10)
    with pytest.raises(Unauthorized) as refused:
        verify_token(JWT_SECRET, token)
    assert refused.value.code == "auth.token_expired" and "过期" in refused.value.detail


def test_token_signed_with_another_secret_is_unauthorized():
    token = issue_token("another-secret-of-at-least-32-bytes!!", "office", "li")
    with pytest.raises(Unauthorized):
        verify_token(JWT_SECRET, token)


@pytest.mark.parametrize("token", [
    jwt.encode(_claims(), JWT_SECRET, algorithm="HS512"),
    jwt.encode(_claims(), None, algorithm="none"),
    "not-a-jwt",
    "",
], ids=["HS512", "alg-none", "garbage", "empty"])
def test_token_with_another_algorithm_or_no_signature_is_unauthorized(token):
    with pytest.raises(Unauthorized) as refused:
        verify_token(JWT_SECRET, token)
    assert refused.value.status == 401


@pytest.mark.parametrize("claims", [_claims(role="admin"), _claims(role=None), _claims(iss="elsewhere"),
                                    {k: v for k, v in _claims().items() if k != "exp"}],
                         ids=["unknown-role", "no-role", "other-issuer", "no-expiry"])
def test_token_with_wrong_claims_is_unauthorized(claims):
    with pytest.raises(Unauthorized):
        verify_token(JWT_SECRET, jwt.encode(claims, JWT_SECRET, algorithm="HS256"))


@pytest.mark.parametrize("header", [None, "", "Basic bGk6cHc=", "Bearer", "Bearer   ", "Token abc"])
def test_authorization_header_must_be_a_bearer_token(header):
    with pytest.raises(Unauthorized):
        principal_from_header(JWT_SECRET, header)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_scheme_is_case_insensitive(scheme):
    token = issue_token(JWT_SECRET, "auditor", "wang")
    assert principal_from_header(JWT_SECRET, f"{scheme} {token}").role == "auditor"


def test_role_outside_the_allowed_ones_is_forbidden_naming_them():
    with pytest.raises(Forbidden) as refused:
        require_role(Principal(role="auditor", sub="wang"), "office", "channel")
    assert refused.value.status == 403 and refused.value.code == "auth.role_forbidden"
    assert refused.value.extensions == {"role": "auditor", "allowed": ["office", "channel"]}
    assert refused.value.detail == "审计人员无权进行此操作（可由正风办、渠道接入方办理）"


def test_allowed_role_passes():
    assert require_role(Principal(role="channel", sub="desk", channel="hotline"), "office", "channel") is None


def test_principal_is_recorded_on_events_as_role_and_subject():
    assert Principal(role="unit", sub="zhao", unit="市住建局").actor == "unit:zhao"


# -- tokens verified once per process (zfcommon.auth.VerifiedTokens) ----------------------------------
class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


class CountingVerifier:
    """A key set of one HS256 key that counts its signature checks and judges expiry by `clock`; `published`
    says whether its key is still in the set."""

    def __init__(self, clock):
        self.clock, self.checks, self.published = clock, 0, True

    def key(self, kid):
        if not self.published:
            raise jwt.InvalidKeyError(f"no published key has kid {kid!r}")
        return JWT_SECRET

    def decode(self, token, **options):
        self.checks += 1
        self.key(jwt.get_unverified_header(token)["kid"])
        claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], **{**options, "options": {
            **options["options"], "verify_exp": False}})
        if claims["exp"] <= self.clock():
            raise jwt.ExpiredSignatureError("Signature has expired")
        return claims


def _kid_token(clock, ttl=60, **claims):
    return jwt.encode(_claims(exp=int(clock()) + ttl, **claims), JWT_SECRET, algorithm="HS256", headers={"kid": "k1"})


def test_a_token_is_verified_once_per_process_then_known_by_its_text():
    clock = Clock()
    verifier, verified = CountingVerifier(clock), VerifiedTokens(clock=clock)
    token = _kid_token(clock)
    assert {verified.principal(verifier, token) for _ in range(5)} == {Principal(role="office", sub="li")}
    assert verifier.checks == 1
    assert principal_from_header(verifier, f"Bearer {token}", verified=None) and verifier.checks == 2


def test_a_known_token_past_its_expiry_is_refused_not_served_from_memory():
    clock = Clock()
    verifier, verified = CountingVerifier(clock), VerifiedTokens(clock=clock)
    token = _kid_token(clock, ttl=60)
    verified.principal(verifier, token)
    clock.now += 59
    assert verified.principal(verifier, token).sub == "li" and verifier.checks == 1
    clock.now += 1                                      # exp <= now: expired, as PyJWT has it
    with pytest.raises(Unauthorized) as refused:
        verified.principal(verifier, token)
    assert refused.value.code == "auth.token_expired"


def test_a_known_token_whose_key_is_no_longer_published_is_refused():
    clock = Clock()
    verifier, verified = CountingVerifier(clock), VerifiedTokens(clock=clock)
    token = _kid_token(clock)
    verified.principal(verifier, token)
    verifier.published = False
    with pytest.raises(Unauthorized) as refused:
        verified.principal(verifier, token)
    assert refused.value.code == "auth.token_invalid"


def test_tokens_are_known_per_key_and_only_the_most_recently_used_are_kept():
    clock = Clock()
    verifier, verified = CountingVerifier(clock), VerifiedTokens(size=2, clock=clock)
    first, second, third = (_kid_token(clock, sub=s) for s in ("a", "b", "c"))
    for token in (first, second, first, third):         # third pushes out second, the least recently used
        verified.principal(verifier, token)
    assert verifier.checks == 3
    verified.principal(verifier, first)
    assert verifier.checks == 3
    verified.principal(verifier, second)
    assert verifier.checks == 4
    with pytest.raises(Unauthorized):                   # the same text under another key is checked afresh
        verified.principal("another-secret-of-at-least-32-bytes!!", first)
