"""CPU used by an idle `zf up`: the whole stack started in a private ZF_HOME on free ports, left alone
to settle, then measured from /proc for `--seconds` with no requests at all.

    .venv/bin/python bench/idle_cost.py [--seconds 60] [--settle 20] [--json]

It prints each process's CPU (PostgreSQL backends charged to the process at the other end of their
connection, as bench/intake_load.py does) as a percentage of one core, and the total; the aim of
issue 11 is a total of at most 5 % of one core. Benchmarks print figures; they never assert.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import benchlib

benchlib.services_on_path()


def start_stack(home: Path) -> tuple[subprocess.Popen, dict]:
    from zfcommon.devstack.ports import free_port
    from zfcommon.settings import DEFAULT_PORTS

    env = {**os.environ, "ZF_HOME": str(home), "ZF_PG_PORT": str(free_port()), "ZF_BROKER_PORT": str(free_port()),
           **{f"ZF_{s.upper()}_PORT": str(free_port()) for s in DEFAULT_PORTS}}
    log = open(home / "zf-up.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("zf")), "up"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    status_path = home / "run" / "status.json"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"zf up exited ({proc.returncode}); see {home / 'zf-up.log'}")
        if status_path.exists():
            return proc, json.loads(status_path.read_text())
        time.sleep(0.5)
    raise SystemExit("zf up did not come up in 240 s")


def stop_stack(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="measured idle time (60)")
    ap.add_argument("--settle", type=float, default=20.0, help="seconds left alone before measuring (20)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="zf-idle-") as tmp:
        home = Path(tmp)
        print("starting zf up in a private ZF_HOME …", file=sys.stderr)
        proc, status = start_stack(home)
        try:
            roots = {name: info["pid"] for name, info in status.items() if name != "postgres" and info.get("pid")}
            roots["zf up (supervisor)"] = proc.pid
            pg_pid = status.get("postgres", {}).get("pid")
            time.sleep(args.settle)
            probe = benchlib.CpuProbe(roots, pg_pid).start()
            time.sleep(args.seconds)
            cpu = probe.stop()
        finally:
            stop_stack(proc)
    wall = cpu["wall_s"]
    groups = {g: s for g, s in cpu["groups_s"].items() if not g.startswith("other")}
    total = sum(groups.values())
    result = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seconds": wall,
              "machine": {"cores": os.cpu_count(), "loadavg": os.getloadavg()[0]},
              "total_pct_of_one_core": round(100 * total / wall, 2),
              "pct_of_one_core": {g: round(100 * s / wall, 2) for g, s in groups.items()},
              "other_pct_of_one_core": round(100 * cpu["groups_s"].get("other (not this system)", 0) / wall, 1)}
    out = benchlib.save_result("idle", result)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"idle zf up  {result['started_at']}  {wall:.0f} s measured after {args.settle:.0f} s; "
          f"load avg {result['machine']['loadavg']:.2f}\n")
    print(f"  {'process':<32} % of one core")
    for g, pct in result["pct_of_one_core"].items():
        print(f"  {g:<32} {pct:>8.2f}")
    print(f"  {'TOTAL (aim ≤ 5)':<32} {result['total_pct_of_one_core']:>8.2f}")
    print(f"\n(other processes on the machine: {result['other_pct_of_one_core']} % of one core; results: {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
