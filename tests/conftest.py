"""Fixtures: a real PostgreSQL and a real Kafka-protocol broker, on random free ports, started by
the tests themselves (so two runs can coexist and CI needs nothing running)."""
from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from zfcommon import db
from zfcommon.devstack.broker import LocalBroker
from zfcommon.devstack.ports import free_port
from zfcommon.devstack.postgres import LocalPostgres
from zfcommon.devstack.stack import migrate_all
from zfcommon.events import fastload
from zfcommon.settings import SERVICES, Settings

PASSWORDS = {s: f"test-{s}-pw" for s in SERVICES}
JWT_SECRET = "test-jwt-secret-with-enough-bytes-32"
CONTACT_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="   # base64 of 32 bytes, tests only
NOTIFY_KEY = "bm90aWZ5LW1hc3Rlci1rZXktdGVzdHMtb25seS0zMmI="    # notify's master key, tests only (32 bytes)
TRACKING_KEY = "dHJhY2tpbmcta2V5LWZvci10ZXN0cy1vbmx5LTMyYnk="  # the 查询码 secret, tests only (32 bytes)


@pytest.fixture(scope="session", autouse=True)
def fast_path_checked_against_marshmallow():
    """Every event and request body the suite loads through the fast path (zfcommon.events.fastload)
    in its own process is loaded by marshmallow too: any test whose data the two judge differently
    fails."""
    fastload.CROSS_CHECK = True
    yield
    fastload.CROSS_CHECK = False


@pytest.fixture(scope="session")
def pg(tmp_path_factory) -> LocalPostgres:
    server = LocalPostgres(tmp_path_factory.mktemp("pg") / "data", free_port()).start()
    yield server
    server.stop()


_TEMPLATES: dict[str, str] = {}     # server URL -> a database migrated once, copied for each test


def fresh_database(pg: LocalPostgres) -> str:
    """A new database on the session's server, with every service's migrations applied.

    The migrations run from nothing once per server, into a template; each test gets a copy of it
    (CREATE DATABASE … TEMPLATE), about 0.08 s instead of the 0.3–0.6 s that migrating costs."""
    template = _TEMPLATES.get(pg.url)
    if template is None:
        template = f"zf_template_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{template}"')
        migrate_all(pg.admin_url(template), PASSWORDS)
        _TEMPLATES[pg.url] = template
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return pg.admin_url(name)


def service_urls(admin: str) -> dict[str, str]:
    return {s: db.service_url(admin, s, PASSWORDS[s]) for s in SERVICES}


@pytest.fixture
def admin_url(pg) -> str:
    return fresh_database(pg)


@pytest.fixture
def urls(admin_url) -> dict[str, str]:
    """Each service's own connection URL (its role) for the fresh database."""
    return service_urls(admin_url)


@pytest.fixture
def broker(tmp_path) -> LocalBroker:
    server = LocalBroker(free_port(), tmp_path).start()
    yield server
    server.stop(kill=True)      # it keeps nothing on disk; asked politely, it waits 5 s for its clients


def tracking_code(case_id: str) -> str:
    """A case's 查询码 as the test apps (settings_for's TRACKING_KEY) give and check it."""
    from zfcommon.trackingcode import TrackingKey
    return TrackingKey(TRACKING_KEY).code_for(case_id)


def settings_for(service: str, database_url: str, bootstrap: str = "127.0.0.1:1", **extra) -> Settings:
    """In-process apps sign and verify with the local-development HS256 secret, so tests mint tokens
    directly (tests/integration/test_public_key_tokens.py runs the EdDSA path end to end)."""
    keys = {"contact_key": CONTACT_KEY, "notify_master_key": NOTIFY_KEY, "tracking_key": TRACKING_KEY}
    return Settings(service=service, database_url=database_url, kafka_bootstrap_servers=bootstrap,
                    jwt_algorithm="HS256", jwt_secret=JWT_SECRET, **{**keys, **extra})


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
