"""The console's PostgreSQL tables (migrations/): accounts, sessions, office settings, activity."""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from zfcommon.uow import UnitOfWork as BaseUnitOfWork

from ..domain.accounts import Account

ACCOUNT_COLUMNS = tuple(f.name for f in fields(Account))
UPDATABLE = {*ACCOUNT_COLUMNS, "password_changed_at", "last_login_at"} - {"login"}


def _account(row: dict[str, Any] | None) -> Account | None:
    return None if row is None else Account(**{k: row[k] for k in ACCOUNT_COLUMNS})


class Store:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    # accounts ------------------------------------------------------------------------------------
    def account(self, login: str, *, lock: bool = False) -> Account | None:
        # FOR UPDATE on a login attempt: two wrong passwords at once must both count.
        return _account(self.conn.execute("SELECT * FROM accounts WHERE login = %s" + (" FOR UPDATE" if lock else ""),
                                          (login,)).fetchone())

    def account_by_subject(self, subject: str) -> Account | None:
        return _account(self.conn.execute("SELECT * FROM accounts WHERE sso_subject = %s FOR UPDATE",
                                          (subject,)).fetchone())

    def accounts(self) -> list[dict[str, Any]]:
        return self.conn.execute("SELECT * FROM accounts ORDER BY role, unit NULLS FIRST, login").fetchall()

    def count_accounts(self) -> int:
        return self.conn.execute("SELECT count(*) AS n FROM accounts").fetchone()["n"]

    def insert_account(self, account: Account, created_by: str, now: datetime) -> None:
        values = {k: getattr(account, k) for k in ACCOUNT_COLUMNS}
        values.update(created_by=created_by, created_at=now)
        names = ", ".join(values)
        self.conn.execute(f"INSERT INTO accounts ({names}) VALUES ({', '.join(['%s'] * len(values))})",
                          list(values.values()))

    def update_account(self, login: str, **changes: Any) -> None:
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not account columns: {sorted(unknown)}")
        sets = ", ".join(f"{k} = %s" for k in changes)
        self.conn.execute(f"UPDATE accounts SET {sets} WHERE login = %s", [*changes.values(), login])

    # sessions ------------------------------------------------------------------------------------
    def open_session(self, sid: str, login: str, via: str, now: datetime) -> None:
        self.conn.execute("INSERT INTO sessions (id, login, via, created_at, last_seen_at) VALUES (%s, %s, %s, %s, %s)",
                          (sid, login, via, now, now))

    def session(self, sid: str) -> dict[str, Any] | None:
        return self.conn.execute("SELECT * FROM sessions WHERE id = %s AND ended_at IS NULL", (sid,)).fetchone()

    def touch_session(self, sid: str, now: datetime) -> None:
        self.conn.execute("UPDATE sessions SET last_seen_at = %s WHERE id = %s", (now, sid))

    def end_session(self, sid: str, now: datetime, reason: str) -> None:
        self.conn.execute("UPDATE sessions SET ended_at = %s, end_reason = %s WHERE id = %s AND ended_at IS NULL",
                          (now, reason, sid))

    def end_sessions_of(self, login: str, now: datetime, reason: str, *, keep: str | None = None) -> None:
        self.conn.execute("UPDATE sessions SET ended_at = %s, end_reason = %s "
                          "WHERE login = %s AND ended_at IS NULL AND id IS DISTINCT FROM %s", (now, reason, login, keep))

    # office settings -----------------------------------------------------------------------------
    def setting(self, name: str) -> Any:
        row = self.conn.execute("SELECT value FROM office_settings WHERE name = %s", (name,)).fetchone()
        return None if row is None else row["value"]

    def set_setting(self, name: str, value: Any, by: str, now: datetime) -> None:
        self.conn.execute("INSERT INTO office_settings (name, value, set_by, set_at) VALUES (%s, %s, %s, %s) "
                          "ON CONFLICT (name) DO UPDATE SET value = excluded.value, set_by = excluded.set_by, "
                          "set_at = excluded.set_at", (name, Jsonb(value), by, now))

    # activity ------------------------------------------------------------------------------------
    def record(self, at: datetime, actor: str, kind: str, action: str, target: str, **details: Any) -> None:
        self.conn.execute("INSERT INTO activity (at, actor, kind, action, target, details) VALUES (%s, %s, %s, %s, %s, %s)",
                          (at, actor, kind, action, target, Jsonb(details)))

    def activity(self, *, kind: str | None = None, before: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        clauses, params = [], []
        if kind:
            clauses.append("kind = %s")
            params.append(kind)
        if before:
            clauses.append("id < %s")
            params.append(before)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self.conn.execute(f"SELECT * FROM activity {where} ORDER BY id DESC LIMIT %s", [*params, limit]).fetchall()


class UnitOfWork(BaseUnitOfWork):
    def open(self) -> None:
        self.store = Store(self.conn)
