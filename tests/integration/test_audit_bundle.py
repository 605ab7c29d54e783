"""Audit bundles exported from the real PostgreSQL (audit.service_layer.bundle) verify offline, for
the whole log and for ranges, and every tampering of the exported files is detected. The tampering
itself is shared with the offline unit tests (tests/unit/test_bundle_offline.py)."""
from __future__ import annotations

import subprocess

import pytest

from audit.service_layer.bundle import export, verify_bundle
from zfcommon import db

from ..unit.test_bundle_offline import PYTHON, ROOT, TAMPERS
from .test_audit_log import fill

pytestmark = pytest.mark.integration


@pytest.fixture
def log(urls):
    fill(urls["audit"], 12, sign_every=5)        # heads at sizes 5, 10, 12
    return urls["audit"]


def exported(url: str, out, start: int = 0, end: int | None = None) -> dict:
    with db.connect(url) as conn:
        return export(conn, out, start, end)


def test_the_whole_log_exports_as_a_tar_that_verifies(log, tmp_path):
    manifest = exported(log, tmp_path / "log.tar")
    assert (manifest["start"], manifest["end"], manifest["count"]) == (0, 12, 12)
    assert manifest["latest_head"]["tree_size"] == 12 and manifest["origin"] == "test.zhengfeng/audit"
    assert not list(tmp_path.glob(".bundle-*")) and not list(tmp_path.glob("*.partial"))
    stats: dict = {}
    assert verify_bundle(tmp_path / "log.tar", stats=stats) == []
    assert (stats["heads_checked"], stats["covered_to"]) == (3, 12)


def test_events_are_the_stored_canonical_bytes(log, tmp_path):
    exported(log, tmp_path / "b")
    with db.connect(log) as conn:
        stored = [r["event"].encode() + b"\n" for r in conn.execute("SELECT event FROM trail ORDER BY seq")]
    assert (tmp_path / "b" / "events.jsonl").read_bytes() == b"".join(stored)


@pytest.mark.parametrize("start,end,checked", [(3, None, 3), (5, 10, 2), (7, 12, 2), (12, None, 1), (0, 8, 1)])
def test_a_range_verifies_against_the_signed_heads(log, tmp_path, start, end, checked):
    manifest = exported(log, tmp_path / "b", start, end)
    assert len(manifest["frontier"]) == bin(start).count("1")
    stats: dict = {}
    assert verify_bundle(tmp_path / "b", stats=stats) == []
    assert stats["heads_checked"] == checked


def test_an_impossible_range_is_refused(log, tmp_path):
    with pytest.raises(ValueError):
        exported(log, tmp_path / "b", 5, 13)
    with pytest.raises(ValueError):
        exported(log, tmp_path / "c", 6, 4)


@pytest.mark.parametrize("start", [0, 3])
@pytest.mark.parametrize("kind", TAMPERS)
def test_tampering_with_an_exported_bundle_is_detected(log, tmp_path, kind, start):
    exported(log, tmp_path / "b", start)
    assert verify_bundle(tmp_path / "b") == []
    tamper, expected = TAMPERS[kind]
    tamper(tmp_path / "b")
    found = verify_bundle(tmp_path / "b")
    assert any(expected in p for p in found), found


def test_the_export_cli_writes_a_bundle_the_verify_cli_accepts(log, tmp_path):
    from ..conftest import CONTACT_KEY, JWT_SECRET
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": log, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
           "ZF_JWT_SECRET": JWT_SECRET, "ZF_CONTACT_KEY": CONTACT_KEY}
    run = subprocess.run([str(PYTHON), "-m", "audit.entrypoints.export", "--out", str(tmp_path / "x.tar"),
                          "--start", "2"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "10 events [2, 12)" in run.stdout
    check = subprocess.run([str(PYTHON), "-m", "audit.entrypoints.verify_bundle", str(tmp_path / "x.tar")],
                           capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "bundle verified: 10 events [2, 12)" in check.stdout


def test_the_bundle_downloads_over_http_and_verifies(log, tmp_path):
    from audit.entrypoints.http import create_app

    from ..conftest import settings_for
    from ..support import bearer

    app = create_app(settings_for("audit", log))
    try:
        client = app.test_client()
        resp = client.get("/v1/log/bundle.tar", query_string={"start": 5}, headers=bearer("auditor"))
        assert resp.status_code == 200 and resp.mimetype == "application/x-tar", resp.data[:300]
        assert "zhengfeng-audit-5-12.tar" in resp.headers["Content-Disposition"]
        (tmp_path / "dl.tar").write_bytes(resp.data)
        assert verify_bundle(tmp_path / "dl.tar") == []
        assert client.get("/v1/log/bundle.tar", query_string={"start": 13},
                          headers=bearer("auditor")).status_code == 422
        assert client.get("/v1/log/bundle.tar", headers=bearer("unit", unit="县住建局")).status_code == 403
    finally:
        app.extensions["zf_pool"].close()
