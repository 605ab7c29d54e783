"""Bearer JWT (HS256) authentication and roles.

Roles (DOMAIN.md "Who uses it"): office, unit (scoped to one unit), channel (scoped to one channel),
auditor (read-only), public.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from .problem import Forbidden, Unauthorized

ROLES = ("office", "unit", "channel", "auditor", "public")
ISSUER = "zhengfeng"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    role: str
    sub: str
    unit: str | None = None
    channel: str | None = None

    @property
    def actor(self) -> str:
        """How the principal is recorded on events: role:subject."""
        return f"{self.role}:{self.sub}"


def issue_token(secret: str, role: str, sub: str, *, unit: str | None = None, channel: str | None = None,
                ttl_seconds: int = 30 * 24 * 3600) -> str:
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
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "sub", "iss"]})
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from None
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthorized("token has no valid role")
    if role == "unit" and not claims.get("unit") or role == "channel" and not claims.get("channel"):
        raise Unauthorized(f"a {role} token must name its {role}")
    return Principal(role=role, sub=str(claims["sub"]), unit=claims.get("unit"), channel=claims.get("channel"))


def principal_from_header(secret: str, header: str | None) -> Principal:
    if not header:
        raise Unauthorized("send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be a Bearer token")
    return verify_token(secret, token.strip())


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"role {principal.role!r} may not do this; allowed: {', '.join(roles)}")
