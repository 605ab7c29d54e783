"""Run a command against a private `zf up` (fresh ZF_HOME in a temporary folder, free ports), then
stop the stack: for the benchmarks that measure a running stack (intake_load.py, profile_intake.py)
without touching anyone's `make up`.

    .venv/bin/python bench/with_stack.py -- .venv/bin/python bench/intake_load.py --json
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from idle_cost import start_stack, stop_stack


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="zf-stack-") as tmp:
        proc, _ = start_stack(Path(tmp))
        try:
            time.sleep(5)
            return subprocess.run(argv, env={**os.environ, "ZF_HOME": tmp}).returncode
        finally:
            stop_stack(proc)


if __name__ == "__main__":
    sys.exit(main())
