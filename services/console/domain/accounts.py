"""Console accounts: who may log in, with which role, and the rules of passwords, lockout and idle
sessions. Pure: times are passed in, hashing is the adapters' business.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

ROLES = ("office", "unit", "auditor")        # people; channels and the public never log in to the console
LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
MIN_PASSWORD = 10
# The most guessed passwords of Chinese users' leaked lists: refused whatever their length.
COMMON = frozenset({"1234567890", "123456789a", "a123456789", "qwertyuiop", "1qaz2wsx3edc", "password123",
                    "woaini1314", "abcd123456", "zhengfeng123", "admin12345"})


class AccountError(Exception):
    """A refused account change; `errors` maps each form field to its (zh-CN) messages."""

    def __init__(self, errors: dict[str, list[str]], code: str = "account.invalid"):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors, self.code = errors, code


class LoginRefused(Exception):
    """Why a login failed; the message is what the person sees (it never says whether the login exists)."""

    def __init__(self, code: str, message: str, locked_until: datetime | None = None):
        super().__init__(message)
        self.code, self.locked_until = code, locked_until


@dataclass(frozen=True)
class Policy:
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    idle_minutes: int = 30


@dataclass(frozen=True)
class Account:
    login: str
    display_name: str
    role: str
    unit: str | None = None
    phone: str | None = None
    password_hash: str | None = None
    must_change_password: bool = True
    failed_attempts: int = 0
    locked_until: datetime | None = None
    disabled_at: datetime | None = None
    sso_subject: str | None = None

    @property
    def actor(self) -> str:
        """How events name this person: the role and login, as in the tokens the console mints."""
        return f"{self.role}:{self.login}"

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def check_new_account(login: str, display_name: str, role: str, unit: str | None) -> None:
    errors: dict[str, list[str]] = {}
    if not LOGIN.fullmatch(login or ""):
        errors["login"] = ["登录名须为2至40位小写字母、数字、点、下划线或连字符，且以字母或数字开头"]
    if not (display_name or "").strip():
        errors["display_name"] = ["请填写姓名"]
    if role not in ROLES:
        errors["role"] = ["角色须为正风办、责任单位或审计监察之一"]
    if role == "unit" and not (unit or "").strip():
        errors["unit"] = ["责任单位账号须选择所属单位"]
    if role != "unit" and unit:
        errors["unit"] = ["只有责任单位账号属于某个单位"]
    if errors:
        raise AccountError(errors)


def password_problems(password: str, login: str) -> list[str]:
    """What is wrong with a new password, in words the person can act on; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"密码至少{MIN_PASSWORD}位")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        problems.append("密码须同时包含字母和数字")
    if login and login.lower() in password.lower():
        problems.append("密码不能包含登录名")
    if password.lower() in COMMON:
        problems.append("这个密码过于常见，请换一个")
    return problems


def initial_password() -> str:
    """A generated first password (changed at first login): 16 characters, letters and digits."""
    while True:
        candidate = secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
        if not password_problems(candidate, ""):
            return candidate


def is_locked(account: Account, now: datetime) -> bool:
    return account.locked_until is not None and now < account.locked_until


def after_failure(account: Account, now: datetime, policy: Policy) -> tuple[int, datetime | None]:
    """The failed-attempt count and lock after one more wrong password: the `lockout_attempts`-th
    consecutive failure locks the account for `lockout_minutes`, and the count starts again."""
    attempts = account.failed_attempts + 1
    if attempts >= policy.lockout_attempts:
        return 0, now + timedelta(minutes=policy.lockout_minutes)
    return attempts, account.locked_until


def session_expired(last_seen: datetime, now: datetime, policy: Policy) -> bool:
    return now - last_seen >= timedelta(minutes=policy.idle_minutes)
