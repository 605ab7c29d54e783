"""Bearer JWT authentication and roles. Tokens are signed with EdDSA and verified against a JWKS
(zfcommon.jwks); a plain string key means HS256 with a shared secret, for local development only.

Roles (DOMAIN.md "Who uses it"): office, unit (scoped to one unit), channel (scoped to one channel),
auditor (read-only), public.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from .problem import Forbidden, Unauthorized

ROLES = ("office", "unit", "channel", "auditor", "public")
ROLE_NAMES = {"office": "正风办", "unit": "责任单位", "channel": "渠道接入方", "auditor": "审计人员", "public": "公众"}
ISSUER = "zhengfeng"
ALGORITHM = "HS256"      # with a str key (ZF_JWT_ALGORITHM=HS256, local development only)


class Signer(Protocol):
    def sign(self, claims: dict[str, Any]) -> str: ...


class Verifier(Protocol):
    def decode(self, token: str, **options: Any) -> dict[str, Any]: ...
    def key(self, kid: str) -> Any: ...     # the published key with this kid, or an error once it is gone


@dataclass(frozen=True)
class Principal:
    role: str
    sub: str
    unit: str | None = None
    channel: str | None = None
    client_id: str | None = None         # set only on tokens exchanged by an API client (POST /v1/token)
    rate_per_minute: int | None = None   # that client's limit, enforced by zfcommon.ratelimit
    key_issued_at: float | None = None   # when the client's key that bought the token was issued (epoch s)

    @property
    def actor(self) -> str:
        """How the principal is recorded on events: role:subject."""
        return f"{self.role}:{self.sub}"


def issue_token(key: str | Signer, role: str, sub: str, *, unit: str | None = None, channel: str | None = None,
                ttl_seconds: int = 30 * 24 * 3600, client_id: str | None = None,
                rate_per_minute: int | None = None, key_issued_at: float | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if role == "unit" and not unit:
        raise ValueError("a unit token names its unit")
    if role == "channel" and not channel:
        raise ValueError("a channel token names its channel")
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": sub, "role": role, "iat": now, "exp": now + ttl_seconds}
    if unit:
        claims["unit"] = unit
    if channel:
        claims["channel"] = channel
    if client_id:
        if not isinstance(rate_per_minute, int) or rate_per_minute < 1:
            raise ValueError("a client token carries the client's rate limit")
        # client_id as in RFC 9068 (JWT access tokens); the limit travels with the token so every
        # service can enforce it without asking intake.
        claims.update(client_id=client_id, rate_per_minute=rate_per_minute)
        if key_issued_at is not None:   # lets every service refuse a key's tokens once a rotation retired it
            claims["key_iat"] = key_issued_at
    if isinstance(key, str):
        return jwt.encode(claims, key, algorithm=ALGORITHM)
    return key.sign(claims)


def verify_token(key: str | Verifier, token: str) -> Principal:
    return _verified(key, token)[0]


def _verified(key: str | Verifier, token: str) -> tuple[Principal, int]:
    """The token's principal and its `exp`, or Unauthorized: signature, issuer, expiry and claims."""
    options = {"issuer": ISSUER, "options": {"require": ["exp", "sub", "iss"]}}
    try:
        claims = (jwt.decode(token, key, algorithms=[ALGORITHM], **options) if isinstance(key, str)
                  else key.decode(token, **options))
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("令牌已过期，请重新获取", code="auth.token_expired", reason=str(exc)) from None
    except jwt.PyJWTError as exc:
        raise Unauthorized("令牌无效：无法验证签名或内容", code="auth.token_invalid", reason=str(exc)) from None
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthorized("令牌未载明有效角色", code="auth.token_invalid", reason="token has no valid role")
    if role == "unit" and not claims.get("unit") or role == "channel" and not claims.get("channel"):
        raise Unauthorized(f"{ROLE_NAMES[role]}令牌须载明其{'单位' if role == 'unit' else '渠道'}",
                           code="auth.token_invalid", reason=f"a {role} token must name its {role}")
    client_id, rate = claims.get("client_id"), claims.get("rate_per_minute")
    if client_id is not None and (not isinstance(client_id, str) or not client_id
                                  or type(rate) is not int or rate < 1):
        raise Unauthorized("接入客户端的令牌须载明客户端及其频率限制", code="auth.token_invalid",
                           reason="a client token must name its client and its rate limit")
    key_iat = claims.get("key_iat")
    return Principal(role=role, sub=str(claims["sub"]), unit=claims.get("unit"), channel=claims.get("channel"),
                     client_id=client_id, rate_per_minute=rate if client_id else None,
                     key_issued_at=float(key_iat) if client_id and isinstance(key_iat, (int, float)) else None
                     ), int(claims["exp"])


class VerifiedTokens:
    """The tokens a process has verified, by their exact text: a client sends the same token with every
    request, and checking its signature and claims again each time is most of what authentication
    costs. Only that check is kept. An entry is used only while the token is unexpired (`exp`, the same
    rule as PyJWT's) and, for a key set, while the key that signed it is still published (a retired key
    stops verifying as it would without the cache); anything else is verified afresh, which gives the
    refusal its usual problem. Whether an API client was revoked is not a property of the token and is
    still asked on every request (zfcommon.web's client checks). At most `size` tokens, least recently
    used dropped first."""

    def __init__(self, size: int = 1024, clock=time.time):
        self.size, self.clock = size, clock
        self._entries: OrderedDict[tuple[Any, str], tuple[Principal, int, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def principal(self, key: str | Verifier, token: str) -> Principal:
        entry_key = (key, token)
        with self._lock:
            entry = self._entries.get(entry_key)
            if entry is not None:
                self._entries.move_to_end(entry_key)
        if entry is not None:
            principal, exp, kid = entry
            if self.clock() < exp and (kid is None or _still_published(key, kid)):
                return principal
            with self._lock:
                self._entries.pop(entry_key, None)
        principal, exp = _verified(key, token)
        kid = None if isinstance(key, str) else jwt.get_unverified_header(token).get("kid")
        with self._lock:
            self._entries[entry_key] = (principal, exp, kid)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return principal


def _still_published(verifier: Verifier, kid: str) -> bool:
    try:
        verifier.key(kid)
    except Exception:       # noqa: BLE001 - gone or unknowable: verify afresh, which says why
        return False
    return True


VERIFIED = VerifiedTokens()     # per process: each gunicorn worker keeps its own


def principal_from_header(key: str | Verifier, header: str | None,
                          verified: VerifiedTokens | None = VERIFIED) -> Principal:
    """The bearer token's principal; `verified` keeps tokens already verified in this process (None:
    verify every time)."""
    if not header:
        raise Unauthorized("请在请求头中提供 Authorization: Bearer <令牌>", code="auth.token_missing")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization 请求头须为 Bearer 令牌", code="auth.token_missing")
    token = token.strip()
    return verify_token(key, token) if verified is None else verified.principal(key, token)


# Which of its channel's cases a channel token reads: its own submissions (DOMAIN.md), and what "own"
# means depends on what stands behind the channel (docs/CHANNELS.md "What a channel token reads"):
# - the 12345 hotline is one platform: every hotline case is one of its work orders (pushed by its
#   webhook, or keyed in by the office from it), it already holds every order's text and hears every
#   status change by callback, so any token of the hotline channel reads the whole channel;
# - a monitoring point's token has the point id as its subject and reads the cases its point submitted
#   (origin.parent), not the other points';
# - on every other channel several systems submit side by side (each county department's petition
#   system is a `petition` API client), so a token reads only the cases it submitted itself: those
#   whose received event it recorded (its actor).
WHOLE_CHANNELS = ("hotline",)
PER_SOURCE_CHANNELS = ("monitoring_point",)


@dataclass(frozen=True)
class ChannelReach:
    """The cases a channel token may read: its channel's, narrowed to one source or one submitter."""
    channel: str
    source: str | None = None       # origin.parent of the case
    submitter: str | None = None    # the actor that recorded the case's receipt

    @property
    def whole_channel(self) -> bool:
        return self.source is None and self.submitter is None

    def covers(self, channel: str | None, origin: dict | None, received_by: str | None) -> bool:
        return (channel == self.channel
                and (self.source is None or (origin or {}).get("parent") == self.source)
                and (self.submitter is None or received_by == self.submitter))


def channel_reach(principal: Principal) -> ChannelReach | None:
    """What a channel token may read; None for any other role."""
    if principal.role != "channel":
        return None
    if principal.channel in WHOLE_CHANNELS:
        return ChannelReach(principal.channel)
    if principal.channel in PER_SOURCE_CHANNELS:
        return ChannelReach(principal.channel, source=principal.sub)
    return ChannelReach(principal.channel, submitter=principal.actor)


def role_refused(role: str, roles: tuple[str, ...]) -> Forbidden:
    allowed = "、".join(ROLE_NAMES[r] for r in roles)
    return Forbidden(f"{ROLE_NAMES.get(role, role)}无权进行此操作（可由{allowed}办理）", code="auth.role_forbidden",
                     role=role, allowed=list(roles))


def require_role(principal: Principal, *roles: str) -> None:
    """Inside a view, for a rule finer than the operation's declared roles (zfcommon.blueprint)."""
    if principal.role not in roles:
        raise role_refused(principal.role, roles)
