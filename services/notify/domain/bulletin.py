"""The monthly bulletin (月通报): each unit's figures for a month, its assessment score and its rank. Pure.

The case figures are the ledger's (`GET /v1/units/stats` over the month, docs/LEDGER.md), taken as
they are; notify adds what only it knows of a unit in the month (`Marks`): weekly reports missed,
bulletin criticisms issued by the escalation ladder, accountability records. A unit's score starts
from the office's base and loses the configured points per occurrence (seed 001: 扣减年度考核分值);
units with fewer cases than the minimum are listed but not ranked. docs/BULLETINS.md has the rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping

from zfcommon import redaction
from zfcommon.events.plans import SECTION_FIGURES

Row = dict[str, Any]

# Defaults until the office sets its own (docs/BULLETINS.md cites the seed text behind each). The
# seeds name what is deducted for, never how much: the points are a starting point to be configured.
DEFAULT_RULES: Row = {"base": 100.0, "min_cases": 3, "deductions": {
    "overdue": 2.0, "late_sign_for": 1.0, "weekly_missed": 2.0, "criticism": 5.0, "accountability": 5.0,
    "recheck_overturned": 3.0, "unsatisfied": 1.0, "rework": 1.0, "task_overdue": 2.0, "rebound": 3.0}}
# The figure each deduction counts.
COUNTS = {"overdue": "overdue", "late_sign_for": "late_sign_for", "weekly_missed": "weekly_missed",
          "criticism": "criticisms", "accountability": "accountability",
          "recheck_overturned": "recheck_overturned", "unsatisfied": "unsatisfied", "rework": "rework_count",
          "task_overdue": "tasks_overdue", "rebound": "lookback_rebounds"}
# Counts taken from the ledger's row as they are, then those derived or counted here; totals sum them.
LEDGER = ("received", "open", "closed", "overdue", "unsatisfied", "rework_count", "extension_count", "dismissed",
          "recheck_upheld", "recheck_overturned",
          # the campaign machinery's figures (docs/CAMPAIGNS.md): tasks the unit leads, look-back findings
          "tasks_open", "tasks_overdue", "tasks_signed_off", "milestones_overdue", "lookback_held", "lookback_rebounds")
PLAIN = (*LEDGER, "late_sign_for", "weekly_missed", "criticisms", "accountability")
RATES = ("sign_for_on_time_rate", "closure_on_time_rate", "satisfaction_rate")
CENT = Decimal("0.01")


@dataclass
class Marks:
    """What notify counted against one unit in the month."""
    weekly_missed: int = 0
    criticisms: int = 0
    accountability: int = 0
    entries: list[Row] = field(default_factory=list)     # the criticism list's entries (CriticismEntry)


def month_period(month: str) -> tuple[date, date]:
    """The first and last day of a month given as YYYY-MM."""
    first = date.fromisoformat(f"{month}-01")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def rate(numerator: int, denominator: int, min_base: int) -> Row:
    """As the ledger reports a rate (ledger/domain/rates.py), for sums of its numerators and denominators."""
    return {"numerator": numerator, "denominator": denominator,
            "value": round(numerator / denominator, 4) if denominator else None,
            "meaningful": denominator >= min_base}


def unit_figures(stats: Mapping[str, Any] | None, marks: Marks) -> Row:
    """One unit's bulletin figures: the ledger's row (None: no case this month) and notify's marks.
    Late sign-fors are the sign-for rate's misses: signed late, or still unsigned past the due day."""
    stats = stats or {}
    figures = {name: stats.get(name, 0) for name in LEDGER}
    figures.update({name: stats.get(name) or rate(0, 0, 1) for name in RATES})
    signing = figures["sign_for_on_time_rate"]
    return {**figures, "late_sign_for": signing["denominator"] - signing["numerator"],
            "weekly_missed": marks.weekly_missed, "criticisms": marks.criticisms,
            "accountability": marks.accountability}


def score(figures: Mapping[str, Any], rules: Mapping[str, Any]) -> tuple[list[Row], float]:
    """The deduction lines and the score: base minus points × count for each rule, never below 0.
    Decimal arithmetic, rounded to 0.01 half up, so 0.1 points × 3 is exactly 0.3 on every machine."""
    lines, total = [], Decimal(0)
    for rule, figure in COUNTS.items():
        # A rule added after the office set its rules counts at its default points until it sets them.
        points = Decimal(str(rules["deductions"].get(rule, DEFAULT_RULES["deductions"][rule])))
        count = figures[figure]
        if count and points:
            line = (points * count).quantize(CENT, ROUND_HALF_UP)
            lines.append({"rule": rule, "count": count, "points": float(points), "total": float(line)})
            total += line
    return lines, float(max(Decimal(0), Decimal(str(rules["base"])) - total).quantize(CENT, ROUND_HALF_UP))


def rank(rows: list[Row], min_cases: int, basis: str = "received") -> list[Row]:
    """Rank units with at least `min_cases` cases received (or of another `basis`: an appraisal's
    ballots) by score, highest first. Equal scores share a rank and the next rank skips (1, 2, 2, 4:
    standard competition ranking); within a tie, and among the unranked listed after them, units go by name."""
    ranked = sorted((r for r in rows if r[basis] >= min_cases), key=lambda r: (-r["score"], r["unit"]))
    out, previous = [], None
    for position, row in enumerate(ranked, 1):
        place = previous["rank"] if previous and previous["score"] == row["score"] else position
        previous = {**row, "ranked": True, "rank": place}
        out.append(previous)
    unranked = sorted((r for r in rows if r[basis] < min_cases), key=lambda r: r["unit"])
    return out + [{**r, "ranked": False, "rank": None} for r in unranked]


def totals(rows: Iterable[Mapping[str, Any]], min_base: int, counts: tuple[str, ...] = PLAIN) -> Row:
    """All units together: counts added up, rates over the summed numerators and denominators."""
    rows = list(rows)
    summed: Row = {name: sum(r[name] for r in rows) for name in counts}
    for name in RATES:
        summed[name] = rate(sum(r[name]["numerator"] for r in rows), sum(r[name]["denominator"] for r in rows),
                            min_base)
    return summed


def assemble(*, period: Row, judged_on: date, stats: list[Mapping[str, Any]], min_base: int,
             marks: Mapping[str, Marks], rules: Mapping[str, Any], typical_cases: list[Row],
             note: str | None, case_numbers: Mapping[str, str | None] | None = None,
             campaigns: list[Mapping[str, Any]] = ()) -> Row:
    """The bulletin's data as the drafted event stores it: `period` is {"month"} for a monthly bulletin
    (catalogue.BulletinDraftedData), {"from", "to"} for an interim report (InterimDraftedData).
    `case_numbers` names the cases of the criticism list by their human numbers where they have one."""
    numbers = case_numbers or {}
    by_unit = {r["unit"]: r for r in stats}
    rows = []
    for unit in sorted({*by_unit, *marks}):
        figures = unit_figures(by_unit.get(unit), marks.get(unit, Marks()))
        lines, points = score(figures, rules)
        rows.append({"unit": unit, **figures, "deductions": lines, "score": points})
    criticism = sorted(({**e, "case_numbers": [numbers.get(c) for c in e["case_ids"]]}
                        for m in marks.values() for e in m.entries),
                       key=lambda e: (e["day"], e["unit"], e["source"], e["case_ids"]))
    return {**period, "judged_on": judged_on.isoformat(), "min_rate_base": min_base, "rules": dict(rules),
            "units": rank(rows, rules["min_cases"]), "totals": totals(rows, min_base), "criticism": criticism,
            "typical_cases": typical_cases, "note": note, "campaigns": [campaign_section(c) for c in campaigns]}


def campaign_section(c: Mapping[str, Any]) -> Row:
    """A campaign as the ledger's report gives it, reduced to what the bulletin shows and keeps."""
    keep = ("campaign_id", "name", "lead_office", "starts_on", "ends_on", "phase")
    return {**{k: c[k] for k in keep}, "figures": {k: c["figures"][k] for k in SECTION_FIGURES},
            "units": [{"unit": u["unit"], **{k: u[k] for k in SECTION_FIGURES}} for u in c.get("units", [])]}


def typical_case(case: Mapping[str, Any], wording: str | None, who: redaction.People = None) -> Row:
    """A typical case as the bulletin shows it: only public-safe fields of the ledger's case (which
    never holds the complainant), the description or the office's wording with the complainants'
    identities (`who`, asked of intake) and whatever looks like personal data masked
    (zfcommon/redaction.py); the office's review reads the rest. The unit named is the one responsible:
    the lead unit, or, while the case is not assigned yet, the unit it is about (被反映单位)."""
    text = redaction.redact({"text": wording or case["description"]}, who).fields["text"]
    lead = case.get("lead_unit")
    return {"case_id": case["case_id"], "case_number": case.get("case_number"), "category": case["category"],
            "unit": lead or case["subject_unit"], "unit_role": "lead_unit" if lead else "subject_unit",
            "channel": case["channel"], "status": case["status"], "text": text}


def case_ids(marks: Mapping[str, Marks]) -> set[str]:
    """Every case the criticism list of these marks names."""
    return {c for m in marks.values() for e in m.entries for c in e["case_ids"]}
