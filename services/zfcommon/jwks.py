"""Public-key bearer tokens: Ed25519 keys (EdDSA, RFC 8037 OKP keys) published as a JWKS (RFC 7517).

The minting side (intake's token exchange, the services' calls to one another, the console, `zf token`)
holds a *key set file*: a JWKS whose keys carry their private part `d`. Its last key signs; the earlier
ones stay in the file, published, until the tokens they signed have expired (`zf keys rotate`). Each key's
id (`kid`) is its RFC 7638 thumbprint and travels in every token's header.

Verifiers hold only public keys. `JwksVerifier` fetches them once (intake serves them at
`GET /.well-known/jwks.json`; a department verifies the same way), keeps them in memory, and refetches
only for a `kid` it does not know, at most once per `refetch_seconds`, so a rotation needs no restart and
a request never costs a network call once its key is known (docs/DECISIONS.md "Public-key tokens").
HS256 with a shared secret remains for local development only (ZF_JWT_ALGORITHM=HS256).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .problem import Unavailable

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
HS256 = "HS256"
ALGORITHMS = (ALGORITHM, HS256)
JWKS_PATH = "/.well-known/jwks.json"
PUBLIC_MEMBERS = ("kty", "crv", "x", "kid", "use", "alg")
# A new key is published at once but signs only this many seconds later, so every verifier can have
# fetched it (each refetches at most once per ZF_JWKS_REFETCH_SECONDS, 5 by default) before it meets a
# token it signed: publish first, sign after. `zf keys rotate --at-once` skips the wait (a leaked key).
SIGN_AFTER = 15.0


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 over the required members (crv, kty, x for an OKP key), sorted, no spaces."""
    required = {k: jwk[k] for k in ("crv", "kty", "x")}
    return _b64url(hashlib.sha256(json.dumps(required, sort_keys=True, separators=(",", ":")).encode()).digest())


def new_private_jwk() -> dict[str, Any]:
    key = Ed25519PrivateKey.generate()
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(key.public_key().public_bytes_raw()),
           "d": _b64url(key.private_bytes_raw()), "use": "sig", "alg": ALGORITHM}
    jwk["kid"] = thumbprint(jwk)
    return jwk


def public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: jwk[k] for k in PUBLIC_MEMBERS if k in jwk}


def _no_key_file(path: str | Path) -> ValueError:
    return ValueError(f"no key set file at {path} (`zf keys rotate` creates one)")


def read_key_set(path: str | Path) -> list[dict[str, Any]]:
    """The private keys of a key set file; ValueError naming the file when it is missing or not one."""
    try:
        keys = json.loads(Path(path).read_text())["keys"]
    except FileNotFoundError:
        raise _no_key_file(path) from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{path} is not a JWKS key set file ({type(exc).__name__}: {exc})") from None
    private_ed25519 = (lambda k: isinstance(k, dict) and k.get("kty") == "OKP" and k.get("crv") == "Ed25519"
                       and "d" in k)
    if not isinstance(keys, list) or not keys or not all(map(private_ed25519, keys)):
        raise ValueError(f"{path} must hold a JWKS of Ed25519 private keys")
    return keys


def write_key_set(path: str | Path, keys: list[dict[str, Any]]) -> None:
    """Atomically (a reader sees the old file or the new one), readable by its owner only."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        json.dump({"keys": keys}, out, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def rotate(path: str | Path, keep: int = 3, *, at_once: bool = False) -> dict[str, Any]:
    """Add a new signing key, published now and signing SIGN_AFTER seconds from now (at once with
    `at_once`); keep the `keep` newest keys, so the tokens of the previous ones still verify. Creates the
    file when it does not exist. Returns the new key, public."""
    if keep < 2:
        raise ValueError("keep at least the new key and the one before it")
    path = Path(path)
    keys = read_key_set(path) if path.exists() else []
    fresh = new_private_jwk()
    # Rounded down, never up: a key rotated in at once signs the very next token (round() could put
    # its start half a millisecond in the future, and the token after it was still signed by the old key).
    fresh["signs_from"] = math.floor((time.time() + (0 if at_once or not keys else SIGN_AFTER)) * 1000) / 1000   # file only
    write_key_set(path, (keys + [fresh])[-keep:])
    return public_jwk(fresh)


class FileSigner:
    """Signs with the newest key of a key set file whose time to sign has come; notices a rotation (the
    file changed) without a restart."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._seen: tuple[int, int] | None = None
        self._keys: list[dict[str, Any]] = []
        self._private: list[tuple[float, str, Any]] = []
        self._lock = threading.Lock()

    def _load(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise _no_key_file(self.path) from None
        stamp = (st.st_mtime_ns, st.st_ino)
        if stamp == self._seen:
            return
        with self._lock:
            keys = read_key_set(self.path)
            self._keys = keys
            self._private = [(k.get("signs_from", 0), k["kid"], jwt.PyJWK(k, ALGORITHM).key) for k in keys]
            self._seen = stamp

    def signing_key(self) -> tuple[str, Any]:
        """(kid, key): the newest key whose signs_from has passed; the oldest while none has."""
        self._load()
        now = time.time()
        ready = [(kid, key) for since, kid, key in self._private if since <= now]
        return ready[-1] if ready else self._private[0][1:]

    def sign(self, claims: dict[str, Any]) -> str:
        kid, key = self.signing_key()
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})

    def jwks(self) -> dict[str, Any]:
        """The public half of the key set, as served at /.well-known/jwks.json."""
        self._load()
        return {"keys": [public_jwk(k) for k in self._keys]}


def http_source(url: str, timeout: float = 5.0) -> Callable[[], dict[str, Any]]:
    def fetch() -> dict[str, Any]:
        resp = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        resp.raise_for_status()
        return resp.json()
    return fetch


class JwksVerifier:
    """Verifies EdDSA tokens against a JWKS held in memory. A token whose `kid` is unknown makes it
    fetch the set again, at most once per `refetch_seconds` (a flood of made-up kids costs one fetch);
    the set is refreshed anyway after `max_age` seconds, so a retired key stops verifying."""

    def __init__(self, source: Callable[[], dict[str, Any]], *, refetch_seconds: float = 5.0,
                 max_age: float = 300.0):
        self.source, self.refetch_seconds, self.max_age = source, refetch_seconds, max_age
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._fetched_at is not None and now - self._fetched_at < self.refetch_seconds:
                return                      # another thread just did, or too soon to try again
            self._fetched_at = now
            try:
                found = self.source()["keys"]
            except Exception as exc:        # noqa: BLE001 - any failure: keep the keys we have
                log.warning("jwks_unavailable", extra={"error": str(exc)[:300]})
                if not self._keys:
                    raise Unavailable("暂时无法取得令牌验签公钥，请稍后重试", code="auth.keys_unavailable",
                                      reason=str(exc)[:300]) from None
                return
            keys = {}
            for jwk in found:
                if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and jwk.get("kid"):
                    keys[jwk["kid"]] = jwt.PyJWK(public_jwk(jwk), ALGORITHM).key
            self._keys = keys

    def key(self, kid: str) -> Any:
        stale = self._fetched_at is None or time.monotonic() - self._fetched_at > self.max_age
        if kid not in self._keys or stale:
            self._refresh()
        found = self._keys.get(kid)
        if found is None:
            raise jwt.InvalidKeyError(f"no published key has kid {kid!r}")
        return found

    def decode(self, token: str, **options: Any) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise jwt.InvalidAlgorithmError("an EdDSA token with a kid is required")
        return jwt.decode(token, self.key(header["kid"]), algorithms=[ALGORITHM], **options)


class NoKeys:
    """The signer of a process given no key set file: it verifies but cannot mint."""

    def sign(self, claims: dict[str, Any]) -> str:
        raise RuntimeError("ZF_JWT_KEYS is not set: this process holds no signing key and cannot mint tokens")


# One signer per key set file and one verifier per JWKS URL in a process, shared by everything in it.
_SIGNERS: dict[str, FileSigner] = {}
_VERIFIERS: dict[str, JwksVerifier] = {}


def signer(settings) -> str | FileSigner:
    """What issue_token signs with under these settings: the HS256 secret, or the key set file."""
    if settings.jwt_algorithm == HS256:
        return settings.jwt_secret
    if not settings.jwt_keys:
        return NoKeys()
    return _SIGNERS.setdefault(settings.jwt_keys, FileSigner(settings.jwt_keys))


def verifier(settings) -> str | JwksVerifier:
    """What verify_token checks with: the HS256 secret, or the JWKS at ZF_JWKS_URL — or, in the process
    that serves the JWKS (intake, with no URL of its own), the public half of its key set file."""
    if settings.jwt_algorithm == HS256:
        return settings.jwt_secret
    where = settings.jwks_url or f"file:{settings.jwt_keys}"
    if where not in _VERIFIERS:
        if settings.jwks_url:
            _VERIFIERS[where] = JwksVerifier(http_source(settings.jwks_url),
                                             refetch_seconds=settings.jwks_refetch_seconds)
        else:                   # its own file: rereading it costs a stat, so any unknown kid may do it
            _VERIFIERS[where] = JwksVerifier(FileSigner(settings.jwt_keys).jwks, refetch_seconds=0)
    return _VERIFIERS[where]
