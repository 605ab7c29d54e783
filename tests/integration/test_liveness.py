"""A gunicorn worker making progress on a long response is not killed by the arbiter's timeout; one
making none still is (zfcommon.liveness; docs/DECISIONS.md "Long downloads beat"). Real gunicorn, our
gunicorn_conf, a timeout of 3 s and responses of 7."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from zfcommon.devstack.ports import free_port, wait_for_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT, SECONDS = 3, 7


@pytest.fixture(scope="module")
def probe(tmp_path_factory, pg):
    tmp = tmp_path_factory.mktemp("liveness")
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))},
           "DATABASE_URL": pg.admin_url("postgres"), "PROBE_SECONDS": str(SECONDS), "ZF_LOG_LEVEL": "WARNING",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp), "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "services")])}
    log = open(tmp / "gunicorn.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                             "--workers", "2", "--timeout", str(TIMEOUT), "--no-control-socket",
                             "--config", "python:zfcommon.gunicorn_conf", "tests.integration.liveness_app:app"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}", tmp / "gunicorn.log"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_a_response_sent_in_pieces_for_longer_than_the_timeout_arrives_whole(probe):
    base, _ = probe
    resp = requests.get(f"{base}/stream", timeout=30)
    assert resp.status_code == 200
    assert resp.content.count(b"row\n") >= SECONDS / 0.2 - 3 and resp.content.endswith(b"row\n")


def test_a_bounded_wait_for_another_service_longer_than_the_timeout_is_answered(probe):
    base, _ = probe
    assert requests.get(f"{base}/wait", timeout=30).text == "waited"


def test_a_worker_that_makes_no_progress_is_still_killed(probe):
    base, log = probe
    resp = requests.get(f"{base}/stuck", timeout=30)      # aborted: gunicorn answers its own 500
    assert resp.status_code == 500 and "too late" not in resp.text
    assert b"WORKER TIMEOUT" in log.read_bytes()
