"""Single sign-on: which role and unit the identity platform's claims give a person. Pure.

CONTRACTS.md: "Map claims to role and unit by configuration; an unmapped user gets no access, never a
default role." The mapping names groups (a claim holding one group or a list): `office-staff=office`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .accounts import LOGIN, ROLES


class ClaimsRefused(Exception):
    """The claims give no access (no mapped group, two roles, a unit user without a unit)."""


@dataclass(frozen=True)
class ClaimMapping:
    role_claim: str
    groups: Mapping[str, str]          # group -> role
    unit_claim: str
    login_claim: str

    @classmethod
    def parse(cls, role_map: str, role_claim: str, unit_claim: str, login_claim: str) -> "ClaimMapping":
        """`role_map` is "group=role,group=role"; a ValueError names an entry that is not one."""
        groups = {}
        for entry in filter(None, (e.strip() for e in role_map.split(","))):
            group, sep, role = (part.strip() for part in entry.partition("="))
            if not sep or not group or role not in ROLES:
                raise ValueError(f"ZF_OIDC_ROLE_MAP: {entry!r} is not group=role with a role of {', '.join(ROLES)}")
            groups[group] = role
        return cls(role_claim, groups, unit_claim, login_claim)


@dataclass(frozen=True)
class SsoIdentity:
    subject: str
    login: str
    display_name: str
    role: str
    unit: str | None


def _groups(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def identity(claims: Mapping[str, Any], mapping: ClaimMapping) -> SsoIdentity:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise ClaimsRefused("身份令牌缺少用户标识（sub）")
    roles = {mapping.groups[g] for g in _groups(claims.get(mapping.role_claim)) if g in mapping.groups}
    if not roles:
        raise ClaimsRefused("统一身份认证未授予您使用本系统的角色，请联系正风办开通")
    if len(roles) > 1:
        raise ClaimsRefused("统一身份认证授予了多个角色，无法确定您的身份，请联系正风办")
    role = roles.pop()
    unit = claims.get(mapping.unit_claim) if role == "unit" else None
    if role == "unit" and (not isinstance(unit, str) or not unit.strip()):
        raise ClaimsRefused("统一身份认证未提供您所属的责任单位，请联系正风办")
    login = claims.get(mapping.login_claim) or subject
    login = str(login).lower()
    if not LOGIN.fullmatch(login):
        raise ClaimsRefused("统一身份认证提供的登录名不符合本系统要求，请联系正风办")
    name = claims.get("name") or login
    return SsoIdentity(subject=subject, login=login, display_name=str(name), role=role,
                       unit=unit.strip() if isinstance(unit, str) else None)
