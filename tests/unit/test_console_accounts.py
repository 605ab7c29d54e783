"""The console's own rules, without a database: passwords (argon2, what a new one must be), the lockout,
the idle session, and which role and unit a province's identity claims give a person."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from console.adapters.passwords import Hasher
from console.domain.accounts import (Account, AccountError, LoginRefused, Policy, after_failure, check_new_account,
                                     initial_password, is_locked, password_problems, session_expired)
from console.domain.sso import ClaimMapping, ClaimsRefused, identity
from console.service_layer import accounts as handlers

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
POLICY = Policy(lockout_attempts=5, lockout_minutes=15, idle_minutes=30)


class FakeStore:
    """The repository's account and session methods, in memory."""

    def __init__(self):
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, dict] = {}
        self.records: list[tuple] = []

    def account(self, login, *, lock=False):
        return self.accounts.get(login)

    def account_by_subject(self, subject):
        return next((a for a in self.accounts.values() if a.sso_subject == subject), None)

    def count_accounts(self):
        return len(self.accounts)

    def insert_account(self, account, created_by, now):
        self.accounts[account.login] = account

    def update_account(self, login, **changes):
        from dataclasses import replace
        known = {k: v for k, v in changes.items() if k in Account.__dataclass_fields__}
        self.accounts[login] = replace(self.accounts[login], **known)

    def open_session(self, sid, login, via, now):
        self.sessions[sid] = {"login": login, "last_seen_at": now, "ended": None}

    def session(self, sid):
        row = self.sessions.get(sid)
        return row if row and row["ended"] is None else None

    def touch_session(self, sid, now):
        self.sessions[sid]["last_seen_at"] = now

    def end_session(self, sid, now, reason):
        self.sessions[sid]["ended"] = reason

    def end_sessions_of(self, login, now, reason, *, keep=None):
        for sid, row in self.sessions.items():
            if row["login"] == login and sid != keep and row["ended"] is None:
                row["ended"] = reason

    def record(self, at, actor, kind, action, target, **details):
        self.records.append((actor, kind, action, target, details))


class FakeUow:
    def __init__(self):
        self.store, self.commits = FakeStore(), 0

    def commit(self):
        self.commits += 1


@pytest.fixture(scope="module")
def hasher():
    """argon2id with the cheapest parameters, so the rules around it test fast (production: RFC 9106's)."""
    from argon2 import PasswordHasher
    return Hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_production_hashes_use_argon2id_with_its_recommended_cost():
    stored = Hasher().hash("Danwei-2026-ok")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert Hasher().verify(stored, "Danwei-2026-ok") and not Hasher().needs_rehash(stored)


@pytest.fixture
def uow(hasher):
    u = FakeUow()
    password = handlers.create_account(u, hasher, "office:admin", NOW, login="ZhangSan", display_name="张三",
                                       role="unit", unit="县自然资源局")
    u.first_password = password
    return u


def test_a_password_is_stored_only_as_an_argon2id_hash_that_verifies(hasher, uow):
    stored = uow.store.accounts["zhangsan"].password_hash
    assert stored.startswith("$argon2id$") and uow.first_password not in stored
    assert hasher.verify(stored, uow.first_password) and not hasher.verify(stored, uow.first_password + "x")
    assert not hasher.verify(None, "anything") and not hasher.verify("not a hash", "anything")


def test_a_new_account_gets_a_generated_first_password_that_must_be_changed(uow):
    account = uow.store.accounts["zhangsan"]
    assert account.must_change_password and account.actor == "unit:zhangsan"
    assert password_problems(uow.first_password, "zhangsan") == []
    assert uow.store.records[-1][:4] == ("office:admin", "account", "created", "zhangsan")


@pytest.mark.parametrize("password, problem", [
    ("short1a", "密码至少10位"), ("onlyletterspassword", "密码须同时包含字母和数字"),
    ("1234567890123", "密码须同时包含字母和数字"), ("zhangsan2026ok", "密码不能包含登录名"),
    ("woaini1314", "这个密码过于常见，请换一个")])
def test_a_weak_new_password_is_refused_saying_why(password, problem):
    assert problem in password_problems(password, "zhangsan")


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(hasher, uow):
    handlers.open_session(uow, NOW, uow.store.accounts["zhangsan"], "password")
    keep = handlers.open_session(uow, NOW, uow.store.accounts["zhangsan"], "password")
    with pytest.raises(AccountError) as refused:
        handlers.change_password(uow, hasher, NOW, "zhangsan", "wrong", "Danwei-2026-ok", "Danwei-2026-ok")
    assert set(refused.value.errors) == {"current"}
    with pytest.raises(AccountError) as refused:
        handlers.change_password(uow, hasher, NOW, "zhangsan", uow.first_password, "Danwei-2026-ok", "Danwei-2026-no")
    assert set(refused.value.errors) == {"repeat"}
    handlers.change_password(uow, hasher, NOW, "zhangsan", uow.first_password, "Danwei-2026-ok", "Danwei-2026-ok",
                             keep_session=keep)
    assert not uow.store.accounts["zhangsan"].must_change_password
    assert [sid for sid, row in uow.store.sessions.items() if row["ended"] is None] == [keep]


def test_the_fifth_wrong_password_in_a_row_locks_the_account_for_fifteen_minutes(hasher, uow):
    for attempt in range(1, 5):
        with pytest.raises(LoginRefused) as refused:
            handlers.authenticate(uow, hasher, NOW, POLICY, "zhangsan", "wrong-password-1")
        assert refused.value.code == "login.wrong" and uow.store.accounts["zhangsan"].failed_attempts == attempt
    with pytest.raises(LoginRefused) as refused:
        handlers.authenticate(uow, hasher, NOW, POLICY, "zhangsan", "wrong-password-1")
    assert refused.value.code == "login.locked" and refused.value.locked_until == NOW + timedelta(minutes=15)
    with pytest.raises(LoginRefused) as refused:            # the right password does not open a locked account
        handlers.authenticate(uow, hasher, NOW + timedelta(minutes=14), POLICY, "zhangsan", uow.first_password)
    assert refused.value.code == "login.locked"
    assert ("system:console", "login", "locked", "zhangsan") == uow.store.records[-1][:4]
    opened = handlers.authenticate(uow, hasher, NOW + timedelta(minutes=15), POLICY, "zhangsan", uow.first_password)
    assert opened.login == "zhangsan" and uow.store.accounts["zhangsan"].failed_attempts == 0


def test_a_right_password_resets_the_count_of_failures(hasher, uow):
    for _ in range(3):
        with pytest.raises(LoginRefused):
            handlers.authenticate(uow, hasher, NOW, POLICY, "zhangsan", "wrong-password-1")
    handlers.authenticate(uow, hasher, NOW, POLICY, "zhangsan", uow.first_password)
    assert uow.store.accounts["zhangsan"].failed_attempts == 0


def test_an_unknown_login_is_refused_like_a_wrong_password(hasher, uow):
    with pytest.raises(LoginRefused) as refused:
        handlers.authenticate(uow, hasher, NOW, POLICY, "nobody", "whatever-123")
    assert (refused.value.code, str(refused.value)) == ("login.wrong", "登录名或密码错误")


def test_a_disabled_account_cannot_log_in_and_its_sessions_end(hasher, uow):
    sid = handlers.open_session(uow, NOW, uow.store.accounts["zhangsan"], "password")
    handlers.set_disabled(uow, "office:admin", NOW, "zhangsan", True)
    assert handlers.session_account(uow, NOW, POLICY, sid) == (None, "ended")
    with pytest.raises(LoginRefused) as refused:
        handlers.authenticate(uow, hasher, NOW, POLICY, "zhangsan", uow.first_password)
    assert refused.value.code == "login.disabled"
    with pytest.raises(AccountError):
        handlers.set_disabled(uow, "office:zhangsan", NOW, "zhangsan", True)


def test_a_session_ends_after_the_idle_timeout_and_lives_while_used(uow):
    sid = handlers.open_session(uow, NOW, uow.store.accounts["zhangsan"], "password")
    account, _ = handlers.session_account(uow, NOW + timedelta(minutes=29), POLICY, sid)
    assert account.login == "zhangsan"
    account, _ = handlers.session_account(uow, NOW + timedelta(minutes=58), POLICY, sid)   # 29 idle minutes again
    assert account is not None
    assert handlers.session_account(uow, NOW + timedelta(minutes=88), POLICY, sid) == (None, "idle")
    assert session_expired(NOW, NOW + timedelta(minutes=30), POLICY)


def test_lockout_and_expiry_rules_are_plain_arithmetic():
    account = Account("a1", "甲", "office", failed_attempts=3)
    assert after_failure(account, NOW, POLICY) == (4, None)
    assert after_failure(Account("a1", "甲", "office", failed_attempts=4), NOW, POLICY) == (0, NOW + timedelta(minutes=15))
    assert is_locked(Account("a1", "甲", "office", locked_until=NOW + timedelta(seconds=1)), NOW)
    assert not is_locked(Account("a1", "甲", "office", locked_until=NOW), NOW)


@pytest.mark.parametrize("login, name, role, unit, field", [
    ("x", "甲", "office", None, "login"), ("Bad Login", "甲", "office", None, "login"),
    ("jia", "", "office", None, "display_name"), ("jia", "甲", "channel", None, "role"),
    ("jia", "甲", "unit", None, "unit"), ("jia", "甲", "auditor", "县住建局", "unit")])
def test_a_new_account_names_what_is_wrong(login, name, role, unit, field):
    with pytest.raises(AccountError) as refused:
        check_new_account(login, name, role, unit)
    assert field in refused.value.errors


def test_generated_first_passwords_differ_and_pass_the_rules():
    made = {initial_password() for _ in range(20)}
    assert len(made) == 20 and all(not password_problems(p, "") for p in made)


MAPPING = ClaimMapping.parse("zfb-staff=office, jw-audit=auditor, unit-staff=unit", "groups", "zf_unit",
                             "preferred_username")


@pytest.mark.parametrize("claims, expected", [
    ({"sub": "s1", "groups": ["zfb-staff", "other"], "preferred_username": "LiMing", "name": "李明"},
     ("liming", "office", None, "李明")),
    ({"sub": "s2", "groups": "jw-audit"}, ("s2", "auditor", None, "s2")),
    ({"sub": "s3", "groups": ["unit-staff"], "zf_unit": "县住建局", "preferred_username": "wang"},
     ("wang", "unit", "县住建局", "wang")),
])
def test_claims_map_to_a_role_and_unit_by_configuration(claims, expected):
    who = identity(claims, MAPPING)
    assert (who.login, who.role, who.unit, who.display_name) == expected and who.subject == claims["sub"]


@pytest.mark.parametrize("claims", [
    {"sub": "s1", "groups": ["someone-else"]},                       # unmapped: no access, never a default role
    {"sub": "s1"},
    {"sub": "s1", "groups": ["zfb-staff", "jw-audit"]},              # two roles: ambiguous
    {"sub": "s1", "groups": ["unit-staff"]},                         # a unit user without a unit
    {"groups": ["zfb-staff"]},                                       # no subject
    {"sub": "s1", "groups": ["zfb-staff"], "preferred_username": "名字"},   # not a login
])
def test_claims_that_give_no_clear_role_give_no_access(claims):
    with pytest.raises(ClaimsRefused):
        identity(claims, MAPPING)


def test_a_role_map_entry_that_is_not_group_equals_role_is_a_configuration_error():
    with pytest.raises(ValueError, match="ZF_OIDC_ROLE_MAP"):
        ClaimMapping.parse("zfb-staff=admin", "groups", "zf_unit", "preferred_username")


def test_the_first_sign_on_creates_the_account_and_later_ones_follow_the_platform(uow):
    office = identity({"sub": "p-1", "groups": ["zfb-staff"], "preferred_username": "liming", "name": "李明"}, MAPPING)
    account = handlers.sso_account(uow, NOW, office)
    assert (account.login, account.role, account.password_hash) == ("liming", "office", None)
    moved = identity({"sub": "p-1", "groups": ["jw-audit"], "preferred_username": "liming", "name": "李明"}, MAPPING)
    assert handlers.sso_account(uow, NOW, moved).role == "auditor"
    clash = identity({"sub": "p-2", "groups": ["zfb-staff"], "preferred_username": "zhangsan"}, MAPPING)
    with pytest.raises(LoginRefused):        # a local account's login is never taken over by another identity
        handlers.sso_account(uow, NOW, clash)
