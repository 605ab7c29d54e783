"""PostgreSQL adapter: connections, pools and per-service migrations.

Each service owns one schema and connects as its own role (zf_<service>); the schema and its tables
belong to the administrator that ran the migrations, so a service can only do what its grants allow
(audit's role, for instance, can never UPDATE or DELETE its trail).
"""
from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Iterable

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

COMMON_MIGRATIONS = Path(__file__).parent / "migrations"
EVENTSTORE_MIGRATIONS = Path(__file__).parent / "migrations_eventstore"
WEB_MIGRATIONS = Path(__file__).parent / "migrations_web"   # every service: what zfcommon.web needs (rate limits)
MIGRATION_LOCK = 7_263_001  # advisory lock id: one migrator at a time


def _json_default(value):
    if isinstance(value, date):         # a datetime too: ISO 8601, which PostgreSQL reads back exactly
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def rows_from_json(table: str) -> str:
    """The FROM source of rows of `table` given as one JSON array parameter (json_rows)."""
    return f"jsonb_populate_recordset(NULL::{table}, %s::jsonb)"


def json_rows(rows: Iterable[dict]) -> str:
    """Rows as one JSON array, for rows_from_json(<table>): any number of
    rows written by one statement with one parameter. Binding each row's values to a prepared
    statement in pipeline mode cost the consumers more CPU than the rest of their write
    (docs/BENCHMARKS.md, seventh round); json.dumps is C. A JSON array fills an array column and
    a JSON object a jsonb one."""
    return json.dumps(list(rows), ensure_ascii=False, separators=(",", ":"), default=_json_default)


def role_name(service: str) -> str:
    return f"zf_{service}"


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url, row_factory=dict_row, **kwargs)


def make_pool(url: str, *, min_size: int = 1, max_size: int = 4, name: str = "") -> ConnectionPool:
    # open=False: never connect at import time or in the gunicorn master; the app factory opens it
    # in each worker after fork. No check query on every checkout (a round trip per request): a
    # connection a PostgreSQL restart broke fails once, the pool discards it, and the request gets a
    # 503 with Retry-After (zfcommon.web).
    return ConnectionPool(url, min_size=min_size, max_size=max_size, open=False, name=name or None,
                          kwargs={"row_factory": dict_row})


def service_url(admin_url: str, service: str, password: str) -> str:
    """The URL a service uses: same server and database as the admin URL, the service's own role.

    A service always connects over TCP and proves its password (scram-sha-256): an administrator
    reaching a local server through its Unix socket (a host that is a folder, as under `zf up` and
    the tests) gives its services the loopback address on the same port."""
    params = conninfo_to_dict(admin_url)
    if str(params.get("host", "")).startswith("/"):
        params["host"] = "127.0.0.1"
    params.update(user=role_name(service), password=password)
    return make_conninfo(**params)


def _migration_files(dirs: Iterable[Path]) -> list[Path]:
    return [f for d in dirs for f in sorted(Path(d).glob("*.sql"))]


def ensure_role(conn: psycopg.Connection, service: str, password: str) -> None:
    """Create the service's login role, or reset its password (migrations, and a restore, which needs
    the roles before the grants it restores)."""
    role = role_name(service)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    conn.execute(sql.SQL(("ALTER" if exists else "CREATE") + " ROLE {} LOGIN PASSWORD {}").format(
        sql.Identifier(role), sql.Literal(password)))


def migrate(admin_url: str, service: str, dirs: Iterable[Path], password: str) -> list[str]:
    """Create the service's role and schema, apply pending migrations in order; returns what it applied.

    SQL files may write {{role}} for the service's role; they run with search_path set to the schema.
    """
    role = role_name(service)
    applied: list[str] = []
    with connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            ensure_role(conn, service, password)
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(service)))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(service), sql.Identifier(role)))
            conn.execute(sql.SQL("ALTER ROLE {} SET search_path = {}").format(
                sql.Identifier(role), sql.Identifier(service)))
            conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.schema_migrations "
                                 "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
                         .format(sql.Identifier(service)))
            done = {r["name"] for r in conn.execute(
                sql.SQL("SELECT name FROM {}.schema_migrations").format(sql.Identifier(service)))}
            for path in _migration_files(dirs):
                name = f"{path.parent.name}/{path.name}"
                if name in done:
                    continue
                body = path.read_text(encoding="utf-8").replace("{{role}}", role)
                with conn.transaction():
                    conn.execute(sql.SQL("SET LOCAL search_path = {}").format(sql.Identifier(service)))
                    conn.execute(body)
                    conn.execute(sql.SQL("INSERT INTO {}.schema_migrations (name) VALUES (%s)")
                                 .format(sql.Identifier(service)), (name,))
                applied.append(name)
                log.info("migration_applied", extra={"service": service, "migration": name})
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return applied
