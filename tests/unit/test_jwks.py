"""EdDSA bearer tokens: the key set file, the published JWKS, and a verifier that needs no restart when
the key is rotated yet makes no network call per request."""
from __future__ import annotations

import json
import os
import stat

import jwt
import pytest

from zfcommon import jwks
from zfcommon.auth import issue_token, verify_token
from zfcommon.problem import Problem, Unauthorized


def test_the_kid_is_the_rfc7638_thumbprint_of_rfc8037s_example_key():
    # RFC 8037 appendix A.3: the thumbprint of the Ed25519 key of A.2.
    key = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwks.thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.fixture
def keyfile(tmp_path):
    path = tmp_path / "jwt-keys.json"
    jwks.rotate(path)
    return path


class Counting:
    """A JWKS source that reads the key set file's public half and counts how often it is asked."""

    def __init__(self, path):
        self.signer, self.calls = jwks.FileSigner(path), 0

    def __call__(self):
        self.calls += 1
        return self.signer.jwks()


def test_the_key_set_file_is_private_and_its_published_half_has_no_private_part(keyfile):
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    [private] = json.loads(keyfile.read_text())["keys"]
    [public] = jwks.FileSigner(keyfile).jwks()["keys"]
    assert "d" in private and "d" not in public
    assert public == {"kty": "OKP", "crv": "Ed25519", "x": private["x"], "kid": jwks.thumbprint(private),
                      "use": "sig", "alg": "EdDSA"}


def test_a_token_verifies_against_the_jwks_and_names_its_key(keyfile):
    signer = jwks.FileSigner(keyfile)
    token = issue_token(signer, "unit", "u1", unit="县住建局", ttl_seconds=60)
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": signer.jwks()["keys"][0]["kid"], "typ": "JWT"}
    who = verify_token(jwks.JwksVerifier(Counting(keyfile)), token)
    assert (who.role, who.sub, who.unit) == ("unit", "u1", "县住建局")


def test_verifying_many_tokens_fetches_the_jwks_once(keyfile):
    source = Counting(keyfile)
    verifier = jwks.JwksVerifier(source)
    signer = jwks.FileSigner(keyfile)
    for i in range(20):
        verify_token(verifier, issue_token(signer, "office", f"o{i}"))
    assert source.calls == 1


def test_a_rotation_needs_no_restart_and_old_tokens_still_verify(keyfile):
    source = Counting(keyfile)
    verifier = jwks.JwksVerifier(source, refetch_seconds=0)
    signer = jwks.FileSigner(keyfile)
    old = issue_token(signer, "office", "before")
    verify_token(verifier, old)
    jwks.rotate(keyfile, at_once=True)
    new = issue_token(signer, "office", "after")          # the same signer picks up the new key
    assert jwt.get_unverified_header(new)["kid"] != jwt.get_unverified_header(old)["kid"]
    assert verify_token(verifier, new).sub == "after"       # an unknown kid: one refetch
    assert verify_token(verifier, old).sub == "before"
    assert source.calls == 2


def test_a_new_key_is_published_at_once_and_signs_only_once_verifiers_can_have_fetched_it(keyfile, monkeypatch):
    signer = jwks.FileSigner(keyfile)
    [first] = signer.jwks()["keys"]
    assert jwt.get_unverified_header(issue_token(signer, "office", "o"))["kid"] == first["kid"]  # the first key: at once
    fresh = jwks.rotate(keyfile)
    assert [k["kid"] for k in signer.jwks()["keys"]] == [first["kid"], fresh["kid"]]
    assert "signs_from" not in signer.jwks()["keys"][1]            # the schedule stays in the private file
    assert jwt.get_unverified_header(issue_token(signer, "office", "o"))["kid"] == first["kid"]
    later = jwks.time.time() + jwks.SIGN_AFTER + 1
    monkeypatch.setattr(jwks.time, "time", lambda: later)
    assert jwt.get_unverified_header(issue_token(signer, "office", "o"))["kid"] == fresh["kid"]
    assert jwks.SIGN_AFTER > 2 * 5.0     # longer than the default refetch interval of every verifier


def test_rotate_keeps_the_newest_keys_only(keyfile):
    for _ in range(4):
        jwks.rotate(keyfile, keep=3)
    assert len(jwks.read_key_set(keyfile)) == 3
    with pytest.raises(ValueError):
        jwks.rotate(keyfile, keep=1)


def test_unknown_kids_are_refetched_at_most_once_per_interval(keyfile, tmp_path):
    source = Counting(keyfile)
    verifier = jwks.JwksVerifier(source, refetch_seconds=60)
    stranger = tmp_path / "other.json"
    jwks.rotate(stranger)
    forged = issue_token(jwks.FileSigner(stranger), "office", "mallory")
    for _ in range(5):
        with pytest.raises(Unauthorized) as refused:
            verify_token(verifier, forged)
        assert refused.value.code == "auth.token_invalid"
    assert source.calls == 1


@pytest.mark.parametrize("make", [
    lambda key: jwt.encode({"iss": "zhengfeng", "sub": "x", "role": "office", "exp": 2**40}, "secret-" * 5,
                           algorithm="HS256", headers={"kid": key["kid"]}),
    lambda key: jwt.encode({"iss": "zhengfeng", "sub": "x", "role": "office", "exp": 2**40}, None,
                           algorithm="none", headers={"kid": key["kid"]}),
    lambda key: "not.a.token",
])
def test_tokens_not_signed_by_a_published_key_are_refused(keyfile, make):
    verifier = jwks.JwksVerifier(Counting(keyfile))
    with pytest.raises(Unauthorized) as refused:
        verify_token(verifier, make(jwks.FileSigner(keyfile).jwks()["keys"][0]))
    assert refused.value.code == "auth.token_invalid"


def test_a_verifier_that_never_got_the_jwks_answers_503_not_401(keyfile):
    def away():
        raise OSError("connection refused")
    token = issue_token(jwks.FileSigner(keyfile), "office", "o")
    with pytest.raises(Problem) as unavailable:
        verify_token(jwks.JwksVerifier(away), token)
    assert (unavailable.value.status, unavailable.value.code) == (503, "auth.keys_unavailable")


def test_a_verifier_keeps_its_keys_when_the_jwks_is_briefly_away(keyfile):
    answers = [jwks.FileSigner(keyfile).jwks()]

    def flaky():
        if answers:
            return answers.pop()
        raise OSError("connection refused")
    verifier = jwks.JwksVerifier(flaky, refetch_seconds=0, max_age=0)
    token = issue_token(jwks.FileSigner(keyfile), "office", "o")
    assert verify_token(verifier, token).sub == "o"
    assert verify_token(verifier, token).sub == "o"        # the refresh failed; the known key still verifies


def test_a_process_without_a_key_set_verifies_but_cannot_mint():
    from zfcommon.settings import Settings
    settings = Settings(service="ledger", database_url="x", kafka_bootstrap_servers="y", jwt_secret="",
                        jwks_url="http://intake.invalid/.well-known/jwks.json")
    with pytest.raises(RuntimeError, match="ZF_JWT_KEYS"):
        issue_token(jwks.signer(settings), "office", "o")
    assert isinstance(jwks.verifier(settings), jwks.JwksVerifier)


def test_hs256_is_used_only_when_the_settings_say_so(keyfile):
    from zfcommon.settings import Settings
    dev = Settings(service="ledger", database_url="x", kafka_bootstrap_servers="y", jwt_secret="s" * 32,
                   jwt_algorithm="HS256")
    assert jwks.signer(dev) == jwks.verifier(dev) == "s" * 32
    hs = issue_token("s" * 32, "office", "o")
    eddsa = Settings(service="ledger", database_url="x", kafka_bootstrap_servers="y", jwt_secret="s" * 32,
                     jwt_keys=str(keyfile))
    with pytest.raises(Unauthorized):          # an EdDSA deployment never accepts an HS256 token
        verify_token(jwks.verifier(eddsa), hs)
