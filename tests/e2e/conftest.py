"""The whole system as real processes: `zf up` (what `make up` runs) on random free ports."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests

from zfcommon import jwks
from zfcommon.auth import issue_token
from zfcommon.devstack.ports import free_ports
from zfcommon.settings import SERVICES

from ..support import eventually


@dataclass
class RunningSystem:
    home: Path
    proc: subprocess.Popen
    ports: dict[str, int]
    signing_key: jwks.FileSigner     # the stack's Ed25519 key set (ZF_HOME/jwt-keys.json)

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def headers(self, role: str = "office", **scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.signing_key, role, 'e2e', **scope)}"}

    def status(self) -> dict:
        return json.loads((self.home / "run" / "status.json").read_text())

    def kill9(self, name: str) -> int:
        """kill -9 one process of the stack; the supervisor restarts it. Returns the old pid."""
        pid = self.status()[name]["pid"]
        os.kill(pid, signal.SIGKILL)
        eventually(lambda: self.status()[name]["pid"] != pid, timeout=20)
        return pid

    def ready(self) -> bool:
        try:
            return all(requests.get(self.url(s, "/readyz"), timeout=2).status_code == 200 for s in SERVICES)
        except requests.RequestException:
            return False


@contextmanager
def running_system(home: Path, **settings: str) -> Iterator[RunningSystem]:
    """`zf up` in `home` on free ports, with extra settings (e.g. ZF_CLOCK_FILE); stopped with Ctrl-C."""
    *picked, pg_port, broker_port = free_ports(len(SERVICES) + 2)     # distinct: one port twice stops a stack
    ports = dict(zip(SERVICES, picked))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}
    env.update({"ZF_HOME": str(home), "ZF_PG_PORT": str(pg_port), "ZF_BROKER_PORT": str(broker_port),
                "ZF_WORKERS": "2", **{f"ZF_{s.upper()}_PORT": str(p) for s, p in ports.items()}, **settings})
    zf = str(Path(sys.executable).parent / "zf")
    log = open(home / "zf-up.log", "wb")
    proc = subprocess.Popen([zf, "up"], env=env, stdout=log, stderr=subprocess.STDOUT)
    running = None
    try:
        eventually(lambda: (home / "secrets.json").exists() and (home / "run" / "status.json").exists(), timeout=90)
        running = RunningSystem(home, proc, ports, jwks.FileSigner(home / "jwt-keys.json"))
        eventually(running.ready, timeout=60)
        yield running
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert proc.returncode == 0, (home / "zf-up.log").read_text()[-3000:]
    assert running is None or all(
        not _alive(v["pid"]) for v in running.status().values() if v.get("pid")), "processes left behind"


@pytest.fixture(scope="module")
def system(tmp_path_factory) -> RunningSystem:
    with running_system(tmp_path_factory.mktemp("zf-home")) as running:
        yield running


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
