"""Democratic appraisal of units' conduct (政风行风民主评议, seed 003: 每季度组织开展“企业、客商、业户和代表委员
评政风”……打分排序，通报全县; seed 001: 公述民评, 严肃查处拉票、恶意投票等弄虚作假的评议行为). Pure.

The office opens a round for a quarter (2026-Q4) or a year (2026) naming the units appraised, the key
units (重点评议单位), the groups of appraisers and the weight of each grade. Each questionnaire is entered
as one ballot, by its number: a number entered twice is refused, so a questionnaire counts once, and
every ballot is on the trail with who entered it. Drafting closes the round and takes its results:
each unit's ballots, grades and score (the weighted mean of its grades), its satisfaction rate, and
its rank among the units with enough ballots; the results are reviewed by a second office user and
published (domain/publication.py). docs/APPRAISALS.md has the rules and why.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping

from zfcommon.events.catalogue import APPRAISAL_GRADES, APPRAISAL_PERIOD

from . import bulletin, disclosure

Row = dict[str, Any]
GRADES = APPRAISAL_GRADES          # 满意, 基本满意, 不满意 (the catalogue's)
DEFAULT_WEIGHTS = {"satisfied": 100, "basically_satisfied": 60, "unsatisfied": 0}
DEFAULT_GROUPS = ("企业", "客商", "业户", "代表委员")
DEFAULT_MIN_BALLOTS = 10
KEY = APPRAISAL_PERIOD.regex        # a quarter (2026-Q4) or a year (2026), as the catalogue reads it
CENT = Decimal("0.01")


class Invalid(Exception):
    """What the office asked cannot be done as asked (422); `errors` names the fields in Chinese."""

    def __init__(self, message: str, errors: dict[str, Any], code: str = "appraisal.invalid"):
        super().__init__(message)
        self.errors, self.code = errors, code


def check_key(key: str) -> str:
    if not KEY.match(key or "") or not 1000 <= int(key[:4]) <= 9999:
        raise Invalid(f"“{key}”不是评议期：须写作季度（如 2026-Q4）或年度（如 2026）",
                      {"period": ["须写作季度（如 2026-Q4）或年度（如 2026）"]}, code="appraisal.period_invalid")
    return key


def period(key: str) -> tuple[date, date]:
    """The first and last day of the quarter or year appraised."""
    if "-Q" in key:
        return disclosure.period(key)
    return date(int(key), 1, 1), date(int(key), 12, 31)


def opening(key: str, body: Mapping[str, Any], active_units: Iterable[str]) -> Row:
    """The opened event's data: every unit appraised must be an active unit of the directory (all of
    them when none are named), key units among them, groups named once, weights not rising as the grade
    falls. Raises Invalid."""
    active = sorted(set(active_units))
    units = list(dict.fromkeys(body.get("units") or active))
    key_units = list(dict.fromkeys(body.get("key_units") or ()))
    groups = list(dict.fromkeys(body.get("groups") or DEFAULT_GROUPS))
    sms_group = (body.get("sms_group") or "").strip() or None
    if sms_group and sms_group not in groups:
        groups.append(sms_group)        # the ratings by SMS reply are a group of appraisers of their own
    weights = {**DEFAULT_WEIGHTS, **(body.get("weights") or {})}
    errors: dict[str, list[str]] = {}
    if unknown := [u for u in units if u not in active]:
        errors["units"] = [f"不是名录中的在用单位：{'、'.join(unknown)}"]
    if not units:
        errors["units"] = ["名录中没有在用单位可供评议"]
    if outside := [u for u in key_units if u not in units]:
        errors["key_units"] = [f"重点评议单位须在被评议单位之中：{'、'.join(outside)}"]
    if not weights["satisfied"] >= weights["basically_satisfied"] >= weights["unsatisfied"]:
        errors["weights"] = ["各档分值须满足：满意 ≥ 基本满意 ≥ 不满意"]
    if len(groups) > 20:
        errors["groups"] = ["评议群体最多 20 个（含短信评议群体）"]
    if errors:
        raise Invalid("评议活动的设置有误", errors)
    return {"period": key, "title": body.get("title") or None, "units": units, "key_units": key_units,
            "groups": groups, "weights": weights, "min_ballots": body.get("min_ballots") or DEFAULT_MIN_BALLOTS,
            "note": body.get("note"), "sms_group": sms_group}


def ballots(round_: Mapping[str, Any], recorded: set[str], entered: list[Mapping[str, Any]], *,
            by_sms: bool = False) -> list[Row]:
    """The ballot_recorded events' data for questionnaires entered at once: each names a group of the
    round and grades units of the round, each unit once; a questionnaire number is entered once in a
    round (`recorded`: the numbers already entered). Raises Invalid naming each ballot at fault."""
    out, errors = checked_ballots(round_, recorded, entered, by_sms=by_sms)
    if errors:
        raise Invalid("以下评议票未能录入，整批均未保存", {"ballots": errors}, code="appraisal.ballot_invalid")
    return out


def checked_ballots(round_: Mapping[str, Any], recorded: set[str], entered: list[Mapping[str, Any]], *,
                    by_sms: bool = False) -> tuple[list[Row], dict[str, Any]]:
    """`ballots` without raising: the data of the questionnaires without fault, and the faults by index.
    Only a rating by SMS reply (`by_sms`, service_layer.enforcement) goes into the round's SMS group."""
    errors: dict[str, Any] = {}
    seen = set(recorded)
    out = []
    for i, ballot in enumerate(entered):
        problems: dict[str, list[str]] = {}
        number = ballot["ballot_no"].strip()
        if number in seen:
            problems["ballot_no"] = [f"问卷编号 {number} 已经录入过：同一份问卷只计一次"]
        if ballot["group"] not in round_["groups"]:
            problems["group"] = [f"须为本次评议的评议群体之一：{'、'.join(round_['groups'])}"]
        elif ballot["group"] == round_.get("sms_group") and not by_sms:
            problems["group"] = [f"“{ballot['group']}”的评价只来自执法监督对象的短信回复，不能手工录入"]
        units = [r["unit"] for r in ballot["ratings"]]
        if outside := [u for u in units if u not in round_["units"]]:
            problems["ratings"] = [f"不是本次被评议的单位：{'、'.join(dict.fromkeys(outside))}"]
        elif len(set(units)) < len(units):
            problems["ratings"] = ["同一份问卷对每个单位只能评一次"]
        if problems:
            errors[str(i)] = problems
            continue
        seen.add(number)
        out.append({"period": round_["period"], "ballot_no": number, "group": ballot["group"],
                    "ratings": [{"unit": r["unit"], "grade": r["grade"], "comment": r.get("comment") or None}
                                for r in ballot["ratings"]]})
    return out, errors


# A questionnaire table (评议票录入表): one row per questionnaire, a column per unit graded in words.
NUMBER, GROUP = "问卷编号", "评议群体"
GRADE_WORDS = {name: grade for grade, name in GRADES.items()} | {grade: grade for grade in GRADES}


class TableProblem(Exception):
    """The table is not laid out as the round's questionnaire table (422 naming the columns)."""

    def __init__(self, message: str, missing: list[str], unknown: list[str]):
        super().__init__(message)
        self.missing, self.unknown = missing, unknown


def table_headers(round_: Mapping[str, Any]) -> list[str]:
    return [NUMBER, GROUP, *round_["units"]]


def from_table(round_: Mapping[str, Any], rows: list[tuple[int, list[Any]]]) -> tuple[list[tuple[int, Row]], dict]:
    """The questionnaires of a table's rows (Excel row numbers with the cells) as entered ballots, and
    each row's faults of form (a grade not in words the office uses) by row number. The header row is the
    first that names 问卷编号; every other column must be 评议群体 or a unit of the round. Raises TableProblem."""
    at = next((i for i, (_, cells) in enumerate(rows) if NUMBER in [str(c or "").strip() for c in cells]), None)
    if at is None:
        raise TableProblem(f"找不到表头：须有“{NUMBER}”列", [NUMBER, GROUP], [])
    header = [str(c or "").strip() for c in rows[at][1]]
    known = set(table_headers(round_))
    unknown = [h for h in header if h and h not in known]
    missing = [h for h in (NUMBER, GROUP) if h not in header]
    if unknown or missing:
        raise TableProblem("表头与本次评议的录入表不符", missing, unknown)
    column = {h: i for i, h in enumerate(header) if h}
    entered, faults = [], {}
    for number, cells in rows[at + 1:]:
        cell = lambda name: str(cells[column[name]] or "").strip() if column[name] < len(cells) else ""  # noqa: E731
        ratings, problems = [], {}
        for unit in round_["units"]:
            if unit not in column or not (word := cell(unit)):
                continue
            if word not in GRADE_WORDS:
                problems[unit] = [f"“{word}”不是评价：请填“满意”“基本满意”或“不满意”，不评的留空"]
            else:
                ratings.append({"unit": unit, "grade": GRADE_WORDS[word], "comment": None})
        if not cell(NUMBER):
            problems[NUMBER] = ["缺少问卷编号"]
        if not ratings and not problems:
            problems["_row"] = ["这份问卷没有对任何单位作出评价"]
        if problems:
            faults[number] = problems
        entered.append((number, {"ballot_no": cell(NUMBER), "group": cell(GROUP), "ratings": ratings}))
    return entered, faults


def score(counts: Mapping[str, int], weights: Mapping[str, Any]) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    points = sum(Decimal(str(weights[g])) * n for g, n in counts.items())
    return float((points / total).quantize(CENT, ROUND_HALF_UP))


def results(round_: Mapping[str, Any], entered: Iterable[Mapping[str, Any]]) -> Row:
    """The drafted event's data: the round, and each unit's ballots, grades, score (the mean of its
    grades' weights, to 0.01 half up), satisfaction rate ((满意 + 基本满意) / ballots, meaningful from
    min_ballots on), its figures by group, and its rank among units with at least min_ballots ballots
    (standard competition ranking, as the bulletin's); the totals over every ballot."""
    weights, minimum = round_["weights"], round_["min_ballots"]
    counts = {u: {g: 0 for g in GRADES} for u in round_["units"]}
    by_group = {u: {g: {grade: 0 for grade in GRADES} for g in round_["groups"]} for u in round_["units"]}
    n = 0
    for ballot in entered:
        n += 1
        for r in ballot["ratings"]:
            counts[r["unit"]][r["grade"]] += 1
            by_group[r["unit"]][ballot["group"]][r["grade"]] += 1
    rows = []
    for unit in round_["units"]:
        c = counts[unit]
        total = sum(c.values())
        rows.append({"unit": unit, "key_unit": unit in round_["key_units"], "ballots": total, **c,
                     "score": score(c, weights),
                     "satisfaction_rate": bulletin.rate(c["satisfied"] + c["basically_satisfied"], total, minimum),
                     "groups": [{"group": g, "ballots": sum(by_group[unit][g].values()),
                                 "score": score(by_group[unit][g], weights)} for g in round_["groups"]]})
    all_grades = {g: sum(counts[u][g] for u in counts) for g in GRADES}
    ratings = sum(all_grades.values())
    return {"period": round_["period"], "round": dict(round_), "ballots": n,
            "units": bulletin.rank(rows, minimum, basis="ballots"),
            "totals": {"ballots": n, "ratings": ratings, **all_grades, "score": score(all_grades, weights),
                       "satisfaction_rate": bulletin.rate(all_grades["satisfied"] + all_grades["basically_satisfied"],
                                                          ratings, minimum)}}
