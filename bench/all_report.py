"""The Markdown that `make bench-all` (bench/all.py) writes into docs/BENCHMARKS.md: each aim of
issue 11 with its target, the median and the min–max spread of the runs, met or not, the anchors of
the same runs, and where the CPU went. Pure: it reads the results JSON that all.py wrote and returns
text; nothing here runs a benchmark.

The results JSON: {"started_at", "finished_at", "quick", "runs", "machine": {...}, "parts": {part:
[one record per run: {"run", "started_at", "wall_s", "loadavg_before", "loadavg_after", "ok",
"error", "result": the benchmark's own --json output}]}}.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Callable

BEGIN = "<!-- bench-all:begin -->"
END = "<!-- bench-all:end -->"
# Which benchmark each part runs (bench/all.py gives the exact command lines).
PARTS = {"system": "bench/with_stack.py -- bench/intake_load.py --rate 300",
         "http": "bench/with_stack.py -- bench/intake_load.py --phases anchor,intake --pause-pipeline",
         "consumers": "bench/consumer_cost.py --mix lifecycle",
         "idle": "bench/idle_cost.py",
         "replay": "bench/replay.py"}
NOT_STACK = ("other (not this system)", "bench client")    # CPU groups that are not the system's own


@dataclass(frozen=True)
class Figure:
    aim: str
    part: str
    label: str
    value: Callable[[dict], float | None]
    op: str | None = None            # "<=" or ">=": the aim's target; None: shown, not judged
    target: float | None = None

    def met(self, x: float | None) -> bool | None:
        if self.op is None:
            return None
        if x is None:
            return False
        return x <= self.target if self.op == "<=" else x >= self.target


def _consumer(name: str) -> Callable[[dict], float | None]:
    return lambda r: r["consumers"][name]["total_ms_per_event"]["median"]


def _verify_per_million(r: dict) -> float | None:
    v = r["audit_verify"]
    return v["s"] * 1_000_000 / v["entries"] if v.get("entries") else None


FIGURES = [
    Figure("1", "system", "CPU ms per accepted case, every process of the stack (closed loop)",
           lambda r: r["cpu_ratios"]["intake_system_ms"], "<=", 3.5),
    Figure("1", "system", "intake accepted/s ÷ anchor req/s, measured",
           lambda r: r["ratio"], ">=", 0.4),
    Figure("1", "system", "the same predicted from CPU cost (anchor ÷ whole stack per request)",
           lambda r: r["cpu_ratios"]["whole_system"], ">=", 0.4),
    Figure("2", "http", "HTTP tier: anchor ÷ intake-http CPU per request, each with its PostgreSQL "
           "backends (relay and consumers paused)", lambda r: r["cpu_ratios"]["http_tier"], ">=", 0.8),
    Figure("2", "system", "the same with the whole pipeline running", lambda r: r["cpu_ratios"]["http_tier"]),
    *(Figure("3", "consumers", f"{c} consumer CPU ms per event (process + PostgreSQL) at 500 events/s",
             _consumer(c), "<=", 0.3) for c in ("ledger", "notify", "audit")),
    Figure("4", "system", "visibility p99 ms (201 → ledger 200), open loop aimed at 300 cases/s",
           lambda r: r["visibility"]["visibility_ms"]["p99"], "<=", 250),
    Figure("4", "system", "visibility p50 ms", lambda r: r["visibility"]["visibility_ms"]["p50"]),
    Figure("4", "system", "open-loop cases/s achieved (98 % of 300)",
           lambda r: r["visibility"]["achieved_rate"], ">=", 294),
    Figure("4", "system", "visibility timeouts", lambda r: r["visibility"]["visibility_ms"]["timeouts"], "<=", 0),
    Figure("5", "replay", "ledger rebuild events/s", lambda r: r["ledger_rebuild"]["events_per_s"], ">=", 20000),
    Figure("5", "replay", "notify rebuild events/s", lambda r: r["notify_rebuild"]["events_per_s"], ">=", 20000),
    Figure("5", "replay", "audit verify, s per 1,000,000 entries (scaled from the trail's length)",
           _verify_per_million, "<=", 10),
    Figure("6", "idle", "idle stack, % of one core in total", lambda r: r["total_pct_of_one_core"], "<=", 5),
]
ANCHORS = [
    Figure("1, 2", "system", "anchor app req/s (Flask + one INSERT + COMMIT), same stack", lambda r: r["anchor"]["rate"]),
    Figure("1, 2", "system", "intake accepted/s, same closed loop", lambda r: r["intake"]["rate"]),
    Figure("1", "system", "anchor CPU ms per request, every process of the stack",
           lambda r: r["cpu_ratios"]["anchor_system_ms"]),
    Figure("2", "http", "anchor CPU ms per request (gunicorn + its backends)",
           lambda r: r["cpu_ratios"]["anchor_http_ms"]),
    Figure("2", "http", "intake-http CPU ms per request (gunicorn + its backends)",
           lambda r: r["cpu_ratios"]["intake_http_ms"]),
    Figure("3", "consumers", "anchor consumer CPU ms per event (kafka-python, one INSERT + COMMIT per poll)",
           _consumer("anchor")),
    Figure("5", "replay", "anchor: read the trail through audit's API, no parsing, events/s",
           lambda r: r["anchor_read_stream"]["events_per_s"]),
    Figure("5", "replay", "anchor: read + load (load_stored) the trail through audit's API, events/s",
           lambda r: r["anchor_read_parse"]["events_per_s"]),
    Figure("5", "replay", "events in the trail", lambda r: r["events"]),
]


# -- figures over runs ----------------------------------------------------------------------------
def values(results: dict, figure: Figure) -> list[float | None]:
    """The figure in each run of its part (None where that run failed or lacks it)."""
    out = []
    for record in results["parts"].get(figure.part, []):
        try:
            out.append(figure.value(record["result"]) if record.get("ok") else None)
        except (KeyError, TypeError, ZeroDivisionError):
            out.append(None)
    return out


def fmt(x: float | None) -> str:
    if x is None:
        return "—"
    if isinstance(x, int):          # counts (timeouts, events): no decimals
        return f"{x:,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}" if abs(x) >= 1 else f"{x:.3f}"


def summary(xs: list[float | None]) -> tuple[str, str]:
    """(median, "min–max") of the runs that have the figure."""
    got = [x for x in xs if x is not None]
    if not got:
        return "—", "—"
    spread = fmt(min(got)) if min(got) == max(got) else f"{fmt(min(got))}–{fmt(max(got))}"
    return fmt(statistics.median(got)), spread


def verdict(figure: Figure, xs: list[float | None]) -> str:
    got = [x for x in xs if x is not None]
    if figure.op is None:
        return ""
    if not got:
        return "not measured"
    runs = sum(1 for x in xs if figure.met(x))
    word = "**met**" if figure.met(statistics.median(got)) else "not met"
    return f"{word} ({runs} of {len(xs)} runs)"


def _figure_rows(results: dict, figures: list[Figure], judged: bool) -> list[str]:
    rows = []
    for f in figures:
        xs = values(results, f)
        if not xs or not judged and all(x is None for x in xs):     # a part not run; a figure it lacks
            continue
        median, spread = summary(xs)
        runs = ", ".join(fmt(x) for x in xs)
        target = f"{'≤' if f.op == '<=' else '≥'} {f.target:,g}" if f.op else ""
        rows.append(f"| {f.aim} | {f.label} | {target} | {median} | {spread} | {runs} |"
                    + (f" {verdict(f, xs)} |" if judged else ""))
    return rows


def groups_table(results: dict, part: str, columns: dict[str, Callable[[dict], dict]], unit: str,
                 floor: float) -> list[str]:
    """Per process group, the median (min–max) over runs of each column; groups whose median is below
    `floor` in every column are summed into one row. `columns`: title -> the run's {group: value}."""
    records = [r["result"] for r in results["parts"].get(part, []) if r.get("ok")]
    per_col: dict[str, list[dict]] = {}
    for title, get in columns.items():
        got = []
        for r in records:
            try:
                got.append({g: v for g, v in get(r).items() if g not in NOT_STACK})
            except (KeyError, TypeError, AttributeError):
                continue
        per_col[title] = got
    names = sorted({g for runs in per_col.values() for run in runs for g in run})
    if not names:
        return []

    def med(title, g):
        runs = per_col[title]
        return statistics.median([run.get(g, 0.0) for run in runs]) if runs else 0.0
    first = next(iter(columns))
    big = sorted((g for g in names if any(med(t, g) >= floor for t in columns)), key=lambda g: -med(first, g))
    rest = [g for g in names if g not in big]
    lines = [f"| process ({unit}) | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]

    def cell(title, pick):
        runs = per_col[title]
        if not runs:
            return "—"
        median, spread = summary([sum(run.get(g, 0.0) for g in pick) for run in runs])
        return median if spread == median else f"{median} ({spread})"
    for g in big:
        lines.append(f"| {g} | " + " | ".join(cell(t, [g]) for t in columns) + " |")
    if rest:
        lines.append("| everything else of the stack | " + " | ".join(cell(t, rest) for t in columns) + " |")
    lines.append("| **total** | " + " | ".join(cell(t, names) for t in columns) + " |")
    return lines


# -- the section ----------------------------------------------------------------------------------
def _checks(results: dict) -> list[str]:
    parts = results["parts"]
    out = []
    replay = [r["result"] for r in parts.get("replay", []) if r.get("ok")]
    if replay:
        same = sum(1 for r in replay if all(r.get(f"{s}_rebuild", {}).get("equals_event_by_event_on_3000")
                                            for s in ("ledger", "notify")))
        problems = sum(r.get("audit_verify", {}).get("problems", 0) for r in replay)
        out.append(f"* replay: the rebuilt tables equal the event-by-event projection (first 3,000 events) in "
                   f"{same} of {len(replay)} runs; `audit verify` found {problems} problems.")
    consumers = [r["result"] for r in parts.get("consumers", []) if r.get("ok")]
    if consumers:
        behind = sorted({c for r in consumers for c, x in r["consumers"].items() if not x.get("all_caught_up")})
        lag = max(x["caught_up_after_last_s"]["max"] for r in consumers for x in r["consumers"].values())
        out.append(f"* consumers: {'every consumer caught up' if not behind else 'did not catch up: ' + ', '.join(behind)}"
                   f" in every run; at most {fmt(lag)} s after the last event was produced.")
    for part in ("system", "http"):
        runs = [r["result"] for r in parts.get(part, []) if r.get("ok")]
        errors = sum(sum((r.get(k) or {}).get("errors", {}).values()) for r in runs
                     for k in ("anchor", "intake", "visibility"))
        if runs:
            out.append(f"* {part}: {errors} HTTP errors in {len(runs)} runs.")
    return out


def _runs_table(results: dict) -> list[str]:
    lines = ["| part | run | started (UTC) | wall s | load avg before → after | outcome |",
             "| --- | ---: | --- | ---: | --- | --- |"]
    for part, records in results["parts"].items():
        for r in records:
            before, after = ((r.get(k) or [None])[0] for k in ("loadavg_before", "loadavg_after"))
            outcome = "ok" if r.get("ok") else "failed: " + (r.get("error") or "?").strip().splitlines()[-1][:120]
            lines.append(f"| {part} | {r['run']} | {r.get('started_at', '')[11:19]} | {r.get('wall_s', 0):.0f} | "
                         f"{fmt(before)} → {fmt(after)} | {outcome.replace('|', '/')} |")
    return lines


def _commits(results: dict, m: dict) -> str:
    """The commit measured — per part when the results were merged from runs at different commits."""
    by_commit: dict[str, list[str]] = {}
    for part, commit in (results.get("commits") or {}).items():
        by_commit.setdefault(commit, []).append(part)
    if len(by_commit) > 1:
        return "commits " + ", ".join(f"`{c}` ({', '.join(parts)})" for c, parts in by_commit.items())
    return f"commit `{(m.get('git_commit') or '?')[:10]}`{' with uncommitted changes' if m.get('git_dirty') else ''}"


def render(results: dict, source: str) -> str:
    """The Markdown between the markers, from a results JSON (`source`: its path, quoted in the text)."""
    m = results["machine"]
    loads = [r["loadavg_before"][0] for records in results["parts"].values() for r in records
             if r.get("loadavg_before")]
    n = results["runs"]
    lines = [
        "### Figures regenerated by `make bench-all`",
        "",
        f"{n} run{'s' if n != 1 else ''} of each part, {results['started_at']} to {results['finished_at']}, "
        f"from `{source}`; every run on a fresh private stack of its own. Median, min–max and each run's "
        "figure; an aim is met when the median meets it.",
    ]
    if results.get("interrupted"):
        lines.append("**Interrupted** (Ctrl-C): the runs after it are missing.")
    if results.get("quick"):
        lines.append("**A `--quick` smoke run**: shorter durations and a smaller trail, not the figures "
                     "the aims ask for.")
    lines += [
        "",
        f"Machine: {m.get('cpu_model')}, {m.get('cores')} cores, {m.get('ram_gib')} GiB RAM, Linux "
        f"{m.get('kernel')}; PostgreSQL {m.get('postgresql')}, Tansu {m.get('tansu')}, Python {m.get('python')}; "
        f"{_commits(results, m)}. "
        f"Load average (1 min) before each run: {summary(loads)[1]}. CPU figures are from /proc per process, "
        "so they hold whatever else the machine does; req/s do not.",
        "",
        "Parts: " + "; ".join(f"{p}: `{PARTS[p]}`" for p in results["parts"] if p in PARTS) + ".",
        "",
        "| aim | figure | target | median | min–max | runs | verdict |",
        "| --- | --- | --- | ---: | ---: | --- | --- |",
        *_figure_rows(results, FIGURES, judged=True),
        "",
        "Anchors and other figures of the same runs:",
        "",
        "| aim | figure | | median | min–max | runs |",
        "| --- | --- | --- | ---: | ---: | --- |",
        *_figure_rows(results, ANCHORS, judged=False),
    ]
    cpu = groups_table(results, "system", {"closed loop": lambda r: r["intake"]["cpu_ms_per_req"],
                                           "open loop (300/s aimed)": lambda r: r["visibility"]["cpu_ms_per_case"]},
                       "CPU ms per accepted case", 0.05)
    if cpu:
        lines += ["", "CPU per accepted case by process group (PostgreSQL backends charged to their client):", "",
                  *cpu]
    idle = groups_table(results, "idle", {"idle": lambda r: r["pct_of_one_core"]}, "% of one core", 0.1)
    if idle:
        lines += ["", "The idle stack by process:", "", *idle]
    checks = _checks(results)
    if checks:
        lines += ["", *checks]
    lines += ["", "The runs:", "", *_runs_table(results)]
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str) -> str:
    """`text` with what lies between the markers replaced by `section`; the rest is left as it was."""
    begin, end = text.find(BEGIN), text.find(END)
    if begin < 0 or end < begin:
        raise ValueError(f"the markers {BEGIN} … {END} are not in the document, in that order")
    head = text[:begin + len(BEGIN)]
    return head + "\n" + section.strip("\n") + "\n" + text[end:]
