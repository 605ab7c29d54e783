"""`make bench-all` renders its results into docs/BENCHMARKS.md: medians and spreads of the runs, each
aim met or not, between the markers and nowhere else (bench/all_report.py; no benchmark runs here)."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("all_report", ROOT / "bench" / "all_report.py")
report = sys.modules.setdefault("all_report", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(report)


def run(n, result, ok=True, load=1.0):
    return {"run": n, "ok": ok, "result": result if ok else None, "error": None if ok else "exit status 1\nboom",
            "started_at": f"2026-12-06T10:0{n}:00+00:00", "wall_s": 30.0 + n,
            "loadavg_before": [load, 1.0, 1.0], "loadavg_after": [load + 1, 1.0, 1.0]}


def consumers(anchor, ledger, notify, audit):
    def one(x):
        return {"total_ms_per_event": {"median": x}, "caught_up_after_last_s": {"max": 0.1}, "all_caught_up": True}
    return {"consumers": {"anchor": one(anchor), "ledger": one(ledger), "notify": one(notify), "audit": one(audit)}}


def idle(total, broker):
    return {"total_pct_of_one_core": total, "pct_of_one_core": {"broker": broker, "audit-signer": 0.02,
                                                                "intake-relay": 0.03}}


RESULTS = {
    "started_at": "2026-12-06T10:00:00+00:00", "finished_at": "2026-12-06T10:30:00+00:00", "quick": False,
    "runs": 3,
    "machine": {"cpu_model": "Test CPU", "cores": 2, "ram_gib": 8.0, "kernel": "6.1", "python": "3.11.7",
                "postgresql": "18.6", "tansu": "0.6.0", "git_commit": "0123456789abcdef", "git_dirty": False},
    "parts": {
        "consumers": [run(1, consumers(0.6, 0.5, 1.4, 0.25)), run(2, consumers(0.5, 0.2, 1.2, 0.28)),
                      run(3, consumers(0.7, 0.4, 1.6, 0.35))],
        "idle": [run(1, idle(4.0, 3.0)), run(2, idle(6.0, 5.0)), run(3, {}, ok=False)],
    },
}


def row(section: str, label: str) -> list[str]:
    """The cells of the table row whose figure starts with `label`."""
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 1 and cells[1].startswith(label):
            return cells
    raise AssertionError(f"no row {label!r} in\n{section}")


def test_each_aim_shows_the_median_and_the_spread_of_the_runs():
    section = report.render(RESULTS, "bench/results/all-test.json")
    aim, _, target, median, spread, runs, _ = row(section, "ledger consumer CPU ms per event")
    assert (aim, target, median, spread, runs) == ("3", "≤ 0.3", "0.400", "0.200–0.500", "0.500, 0.200, 0.400")


def test_an_aim_is_met_when_the_median_meets_its_target_and_says_in_how_many_runs():
    section = report.render(RESULTS, "bench/results/all-test.json")
    assert row(section, "audit consumer")[-1] == "**met** (2 of 3 runs)"
    assert row(section, "ledger consumer")[-1] == "not met (1 of 3 runs)"
    assert row(section, "notify consumer")[-1] == "not met (0 of 3 runs)"


def test_a_failed_run_is_left_out_of_the_median_but_counted_as_not_met_and_reported():
    section = report.render(RESULTS, "bench/results/all-test.json")
    _, _, _, median, spread, runs, verdict = row(section, "idle stack, % of one core")
    assert (median, spread, runs, verdict) == ("5.00", "4.00–6.00", "4.00, 6.00, —", "**met** (1 of 3 runs)")
    assert "| idle | 3 |" in section and "failed: boom" in section


def test_a_part_that_was_not_run_has_no_rows_and_the_anchor_of_a_part_that_ran_is_shown():
    section = report.render(RESULTS, "bench/results/all-test.json")
    assert "visibility p99" not in section and "rebuild events/s" not in section
    assert row(section, "anchor consumer")[3] == "0.600"


def test_the_idle_table_keeps_big_processes_and_sums_the_rest():
    section = report.render(RESULTS, "bench/results/all-test.json")
    lines = section.splitlines()
    assert "| broker | 4.00 (3.00–5.00) |" in lines
    assert "| everything else of the stack | 0.050 |" in lines


def test_the_machine_and_the_commit_are_named():
    section = report.render(RESULTS, "bench/results/all-test.json")
    assert "Test CPU, 2 cores, 8.0 GiB RAM" in section and "`0123456789`" in section
    assert "uncommitted" not in section and "--quick" not in section


DOC = ("# Benchmarks\n\n## Issue 11\n\nRegenerate: `make bench-all`.\n"
       f"{report.BEGIN}\nold figures\n| a | b |\n{report.END}\n\n## intake\n\nthe rest, untouched.\n")


def test_only_what_lies_between_the_markers_is_replaced():
    new = report.replace_section(DOC, "### new figures\n")
    head, tail = DOC.split(report.BEGIN)[0], DOC.split(report.END)[1]
    assert new == f"{head}{report.BEGIN}\n### new figures\n{report.END}{tail}"
    assert report.replace_section(new, "### new figures\n") == new


def test_a_document_without_the_markers_is_refused():
    with pytest.raises(ValueError):
        report.replace_section("# Benchmarks\n", "x")
    with pytest.raises(ValueError):
        report.replace_section(f"{report.END}\n{report.BEGIN}\n", "x")


def test_the_benchmarks_document_has_the_markers_that_make_bench_all_writes_between():
    text = (ROOT / "docs" / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1
    assert report.replace_section(text, "x").startswith(text.split(report.BEGIN)[0])


def test_results_merged_from_runs_at_two_commits_name_the_commit_of_each_part(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("bench_all_merge", ROOT / "bench" / "all.py")
    bench_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_all)
    later = {**RESULTS, "machine": {**RESULTS["machine"], "git_commit": "fedcba9876543210"},
             "parts": {"idle": RESULTS["parts"]["idle"]}}
    paths = []
    for i, results in enumerate((RESULTS, later)):
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(results))
    section = report.render(bench_all.merge([str(p) for p in paths]), "two files")
    assert "commits `0123456789` (consumers), `fedcba9876` (idle)" in section
