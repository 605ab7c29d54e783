"""The `python -m …` processes and tools say a missing setting in one line naming it, exit status 2,
instead of a traceback; `--help` prints what the module is (zfcommon.settings.run_entrypoint). Two of the
sixteen that use it, and one with its own argparse, each a real interpreter."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

MODULES = ["audit.entrypoints.verify", "intake.entrypoints.relay"]     # a tool and a process


@pytest.mark.parametrize("module", MODULES)
def test_a_missing_setting_is_one_line_and_help_says_what_it_is(module):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    ran = subprocess.run([sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr.strip() == f"python -m {module}: DATABASE_URL is not set"
    helped = subprocess.run([sys.executable, "-m", module, "--help"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert helped.returncode == 0 and helped.stdout.startswith(f"usage: python -m {module}\n\n`python -m {module}`")


@pytest.mark.parametrize("argv", [["ledger.entrypoints.rebuild", "http://127.0.0.1:1"]])
def test_tools_that_parse_their_arguments_say_a_missing_setting_the_same_way(argv):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    ran = subprocess.run([sys.executable, "-m", *argv], env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 2 and ran.stderr.strip() == f"python -m {argv[0]}: DATABASE_URL is not set"
    helped = subprocess.run([sys.executable, "-m", argv[0], "--help"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert helped.returncode == 0 and "options:" in helped.stdout      # argparse's own help
