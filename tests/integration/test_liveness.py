"""A gunicorn worker making progress on a long response is not killed by the arbiter's timeout; one
making none still is (zfcommon.liveness; docs/DECISIONS.md "Long downloads beat"). Real gunicorn, our
gunicorn_conf, a timeout of 3 s and responses of 7."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from ..support import gunicorn_serving

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT, SECONDS = 3, 7


@pytest.fixture(scope="module")
def probe(tmp_path_factory, pg):
    tmp = tmp_path_factory.mktemp("liveness")
    env = {"DATABASE_URL": pg.admin_url("postgres"), "PROBE_SECONDS": str(SECONDS), "ZF_LOG_LEVEL": "WARNING",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp), "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "services")])}
    with gunicorn_serving("tests.integration.liveness_app:app", env, tmp / "gunicorn.log",
                          args=("--timeout", str(TIMEOUT)), cwd=ROOT) as base:
        yield base, tmp / "gunicorn.log"


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
