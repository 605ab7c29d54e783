"""The local PostgreSQL (zf up and the test fixtures) authenticates as production would: each service's
role proves its password with scram-sha-256 over TCP, so a wrong password is refused; only the
administrator, and only through the Unix socket in the data folder, connects without one."""
from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from zfcommon import db

pytestmark = pytest.mark.integration


def _with(url: str, **changes) -> str:
    return make_conninfo(**{**conninfo_to_dict(url), **changes})


def test_a_service_role_connects_over_tcp_with_its_password(urls):
    assert conninfo_to_dict(urls["intake"])["host"] == "127.0.0.1"
    with db.connect(urls["intake"]) as conn:
        row = conn.execute("SELECT current_user AS who, inet_server_addr() IS NOT NULL AS tcp").fetchone()
    assert row == {"who": "zf_intake", "tcp": True}


@pytest.mark.parametrize("service", ["intake", "ledger", "notify", "audit"])
def test_a_wrong_password_is_refused(urls, service):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(_with(urls[service], password="not-the-password"), connect_timeout=5).close()


def test_no_password_over_tcp_is_refused_even_for_the_administrator(urls):
    for user in ("zf_ledger", "postgres"):
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(_with(urls["ledger"], user=user, password=""), connect_timeout=5).close()


def test_the_service_passwords_are_stored_as_scram_verifiers_and_tcp_trusts_no_one(admin_url):
    with db.connect(admin_url) as conn:
        stored = conn.execute("SELECT rolname, rolpassword FROM pg_authid WHERE rolname LIKE 'zf\\_%'").fetchall()
        rules = conn.execute("SELECT type, user_name, auth_method FROM pg_hba_file_rules").fetchall()
    assert stored and all(r["rolpassword"].startswith("SCRAM-SHA-256$") for r in stored), stored
    assert {r["auth_method"] for r in rules if r["type"] == "host"} == {"scram-sha-256"}
    assert [(r["type"], r["user_name"]) for r in rules if r["auth_method"] == "trust"] == [("local", ["postgres"])]
