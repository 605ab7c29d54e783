"""Account and session handlers: each runs in one unit of work and records what it changed (who, when, what)
in the activity table, which auditors read. `uow` is anything with `.store` (adapters.repository.Store's
methods) and `.commit()`; `hasher` hashes and verifies passwords (adapters.passwords.Hasher).
"""
from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime

from ..domain import accounts as domain
from ..domain.accounts import Account, AccountError, LoginRefused, Policy
from ..domain.sso import SsoIdentity

SYSTEM = "system:console"
WRONG = "登录名或密码错误"


def create_account(uow, hasher, actor: str, now: datetime, *, login: str, display_name: str, role: str,
                   unit: str | None = None, phone: str | None = None) -> str:
    """A new local account with a generated first password, which must be changed at first login.
    Returns that password (shown once to the office, never stored in clear)."""
    login = (login or "").strip().lower()
    unit = (unit or "").strip() or None
    domain.check_new_account(login, display_name, role, unit)
    if uow.store.account(login) is not None:
        raise AccountError({"login": [f"登录名“{login}”已被使用"]}, code="account.exists")
    password = domain.initial_password()
    account = Account(login=login, display_name=display_name.strip(), role=role, unit=unit,
                      phone=(phone or "").strip() or None, password_hash=hasher.hash(password))
    uow.store.insert_account(account, actor, now)
    uow.store.record(now, actor, "account", "created", login, role=role, unit=unit, display_name=account.display_name)
    uow.commit()
    return password


def update_account(uow, actor: str, now: datetime, login: str, *, display_name: str, role: str,
                   unit: str | None, phone: str | None) -> None:
    account = _existing(uow, login)
    unit = (unit or "").strip() or None
    domain.check_new_account(login, display_name, role, unit)
    changes = {k: v for k, v in (("display_name", display_name.strip()), ("role", role), ("unit", unit),
                                  ("phone", (phone or "").strip() or None)) if getattr(account, k) != v}
    if not changes:
        return
    uow.store.update_account(login, **changes)
    if {"role", "unit"} & set(changes):
        # A person whose role or unit changed must not keep working under the old one.
        uow.store.end_sessions_of(login, now, "role_changed")
    uow.store.record(now, actor, "account", "updated", login,
                     changes={k: [getattr(account, k), v] for k, v in changes.items()})
    uow.commit()


def reset_password(uow, hasher, actor: str, now: datetime, login: str) -> str:
    """A new generated password to be changed at the next login; every session of the account ends."""
    _existing(uow, login)
    password = domain.initial_password()
    uow.store.update_account(login, password_hash=hasher.hash(password), must_change_password=True,
                             failed_attempts=0, locked_until=None)
    uow.store.end_sessions_of(login, now, "password_reset")
    uow.store.record(now, actor, "account", "password_reset", login)
    uow.commit()
    return password


def set_disabled(uow, actor: str, now: datetime, login: str, disabled: bool) -> None:
    account = _existing(uow, login)
    if actor.partition(":")[2] == login and disabled:
        raise AccountError({"login": ["不能停用自己的账号"]}, code="account.self_disable")
    if account.active != disabled:
        return
    uow.store.update_account(login, disabled_at=now if disabled else None,
                             failed_attempts=0, locked_until=None)
    if disabled:
        uow.store.end_sessions_of(login, now, "disabled")
    uow.store.record(now, actor, "account", "disabled" if disabled else "enabled", login)
    uow.commit()


def authenticate(uow, hasher, now: datetime, policy: Policy, login: str, password: str) -> Account:
    """The account a login and password open, or LoginRefused. Wrong passwords count towards a lockout;
    a locked or disabled account is refused even with the right password (and says so only then)."""
    login = (login or "").strip().lower()
    account = uow.store.account(login, lock=True)
    if account is None or account.password_hash is None:
        hasher.burn(password)
        raise LoginRefused("login.wrong", WRONG)
    if domain.is_locked(account, now):
        raise LoginRefused("login.locked", "连续输错密码次数过多，账号已暂时锁定，请稍后再试或联系正风办",
                           account.locked_until)
    if not hasher.verify(account.password_hash, password):
        attempts, locked_until = domain.after_failure(account, now, policy)
        uow.store.update_account(login, failed_attempts=attempts, locked_until=locked_until)
        if locked_until is not None and locked_until != account.locked_until:
            uow.store.record(now, SYSTEM, "login", "locked", login, until=locked_until.isoformat(),
                             attempts=policy.lockout_attempts)
        uow.commit()
        if locked_until is not None and domain.is_locked(replace(account, locked_until=locked_until), now):
            raise LoginRefused("login.locked", "连续输错密码次数过多，账号已暂时锁定，请稍后再试或联系正风办",
                               locked_until)
        raise LoginRefused("login.wrong", WRONG)
    if not account.active:
        raise LoginRefused("login.disabled", "该账号已停用，请联系正风办")
    changes = {"failed_attempts": 0, "locked_until": None, "last_login_at": now}
    if hasher.needs_rehash(account.password_hash):
        changes["password_hash"] = hasher.hash(password)
    uow.store.update_account(login, **changes)
    return account


def change_password(uow, hasher, now: datetime, login: str, current: str, new: str, repeat: str,
                    keep_session: str | None = None) -> None:
    account = _existing(uow, login)
    errors: dict[str, list[str]] = {}
    if not hasher.verify(account.password_hash, current):
        errors["current"] = ["当前密码不正确"]
    problems = domain.password_problems(new, login)
    if hasher.verify(account.password_hash, new):
        problems.append("新密码不能与当前密码相同")
    if problems:
        errors["new"] = problems
    if new != repeat:
        errors["repeat"] = ["两次输入的新密码不一致"]
    if errors:
        raise AccountError(errors, code="account.password_refused")
    uow.store.update_account(login, password_hash=hasher.hash(new), must_change_password=False,
                             password_changed_at=now)
    uow.store.end_sessions_of(login, now, "password_changed", keep=keep_session)
    uow.store.record(now, f"{account.role}:{login}", "account", "password_changed", login)
    uow.commit()


def sso_account(uow, now: datetime, who: SsoIdentity) -> Account:
    """The account of a person the identity platform vouched for: created at the first sign-on, its role,
    unit and name refreshed from the claims at every one (the platform is the authority for them)."""
    account = uow.store.account_by_subject(who.subject)
    if account is None:
        if uow.store.account(who.login) is not None:
            raise LoginRefused("sso.login_taken", f"登录名“{who.login}”已被本系统的其他账号使用，请联系正风办")
        account = Account(login=who.login, display_name=who.display_name, role=who.role, unit=who.unit,
                          must_change_password=False, sso_subject=who.subject)
        uow.store.insert_account(account, SYSTEM, now)
        uow.store.record(now, SYSTEM, "account", "created", who.login, via="sso", role=who.role, unit=who.unit,
                         display_name=who.display_name)
    elif (account.role, account.unit, account.display_name) != (who.role, who.unit, who.display_name):
        uow.store.update_account(account.login, role=who.role, unit=who.unit, display_name=who.display_name)
        uow.store.record(now, SYSTEM, "account", "updated", account.login, via="sso",
                         changes={"role": [account.role, who.role], "unit": [account.unit, who.unit]})
        account = replace(account, role=who.role, unit=who.unit, display_name=who.display_name)
    if not account.active:
        uow.commit()
        raise LoginRefused("login.disabled", "该账号已停用，请联系正风办")
    uow.store.update_account(account.login, last_login_at=now)
    return account


def open_session(uow, now: datetime, account: Account, via: str) -> str:
    sid = secrets.token_urlsafe(32)
    uow.store.open_session(sid, account.login, via, now)
    uow.commit()
    return sid


def session_account(uow, now: datetime, policy: Policy, sid: str | None) -> tuple[Account | None, str | None]:
    """The account of a live session and None, or None and why there is none (expired, disabled …)."""
    if not sid:
        return None, None
    row = uow.store.session(sid)
    if row is None:
        return None, "ended"
    if domain.session_expired(row["last_seen_at"], now, policy):
        uow.store.end_session(sid, now, "idle")
        uow.commit()
        return None, "idle"
    account = uow.store.account(row["login"])
    if account is None or not account.active:
        uow.store.end_session(sid, now, "disabled")
        uow.commit()
        return None, "disabled"
    # One write a minute at most: every request must not update the session row.
    if (now - row["last_seen_at"]).total_seconds() >= 60:
        uow.store.touch_session(sid, now)
        uow.commit()
    return account, None


def logout(uow, now: datetime, sid: str) -> None:
    uow.store.end_session(sid, now, "logout")
    uow.commit()


def _existing(uow, login: str) -> Account:
    account = uow.store.account(login)
    if account is None:
        raise AccountError({"login": [f"没有登录名为“{login}”的账号"]}, code="account.not_found")
    return account
