"""Audit bundles exported from the real PostgreSQL (audit.service_layer.bundle) verify offline, for
the whole log and for ranges, and every tampering of the exported files is detected. The tampering
itself is shared with the offline unit tests (tests/unit/test_bundle_offline.py)."""
from __future__ import annotations

import base64
import subprocess
import tarfile

import pytest

from audit.entrypoints.http import create_app as audit_app
from audit.service_layer.bundle import export, verify_bundle
from zfcommon import db

from ..conftest import settings_for
from ..support import bearer
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


def test_the_export_cli_needs_only_the_database_and_writes_a_bundle_the_verify_cli_accepts(log, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": log}      # no broker, no token secret
    run = subprocess.run([str(PYTHON), "-m", "audit.entrypoints.export", "--out", str(tmp_path / "x.tar"),
                          "--start", "2"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "10 events [2, 12)" in run.stdout
    check = subprocess.run([str(PYTHON), "-m", "audit.entrypoints.verify_bundle", str(tmp_path / "x.tar")],
                           capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "bundle verified: 10 events [2, 12)" in check.stdout
    recomputed = subprocess.run([str(PYTHON), "-m", "audit.entrypoints.verify"], capture_output=True, text=True,
                                cwd=ROOT, env=env, timeout=120)
    assert recomputed.returncode == 0 and "log verified: 12 entries" in recomputed.stdout, recomputed.stderr


def download(client, headers, **query) -> tuple[object, bytes]:
    response = client.get("/v1/log/export", query_string=query, headers=headers)
    body = b"".join(response.response) if response.status_code == 200 else response.data
    response.close()
    return response, body


def test_auditors_download_the_bundle_streamed_and_it_verifies_offline_against_the_published_key(log, tmp_path):
    app = audit_app(settings_for("audit", log))
    client, auditor = app.test_client(), bearer("auditor")
    public = {base64.b64decode(k["public_key"]) for k in client.get("/v1/log/public-keys", headers=auditor).json["keys"]}
    # More downloads than the pool has connections: each one's connection is back once it is sent.
    for start, end, events in [(0, 5, 5), (5, 10, 5), (3, 10, 7), (12, None, 0), (0, None, 12)]:
        response, body = download(client, auditor, start=start, **({} if end is None else {"end": end}))
        assert response.status_code == 200 and response.is_streamed
        assert response.mimetype == "application/x-tar" and "attachment" in response.headers["Content-Disposition"]
        (tmp_path / "streamed.tar").write_bytes(body)
        stats: dict = {}
        assert verify_bundle(tmp_path / "streamed.tar", trusted=public, stats=stats) == [], (start, end)
        assert stats["events"] == events
    # The same files as the CLI's bundle.
    exported(log, tmp_path / "cli.tar")
    with tarfile.open(tmp_path / "streamed.tar") as streamed, tarfile.open(tmp_path / "cli.tar") as written:
        assert streamed.getnames() == written.getnames() == ["events.jsonl", "heads.jsonl", "keys.json", "manifest.json"]
        for name in streamed.getnames():
            assert streamed.extractfile(name).read() == written.extractfile(name).read()
    response, body = download(client, bearer("office"), start=0, end=13)
    assert response.status_code == 422 and response.json["code"] == "log.export_range_refused"
    assert response.json["tree_size"] == 12 and "end" in response.json["errors"]
    assert download(client, bearer("unit", unit="县自然资源局"))[0].status_code == 403
    app.extensions["zf_pool"].close()
