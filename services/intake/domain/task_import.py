"""Task table import (任务清单导入): an office's existing responsibility list — 序号, 任务, 牵头单位, 责任单位,
完成时限, … one task per row — becomes tasks, with the ledger import's rules (docs/CHANNELS.md "Ledger
import"): a per-row dry run, all-or-nothing unless invalid rows are skipped, and a row imported before
(same task, lead unit and campaign) never twice. Each valid row is decided by the same `task.issue` a
task entered by hand goes through, so a row without the five haves is an error row naming them. Pure."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from typing import Any, Callable, Mapping

from .campaign import Campaign
from .case import InvalidCommand
from .directory import Directory
from .ledger_import import ROW, RowPlan, Table, _add, _identity, duplicate, label, parse_date, text, units
from .task import IssueTask, issue

SERIAL, TITLE, TARGET, LEAD, RESPONSIBLE_UNITS = "序号", "任务", "工作目标", "牵头单位", "责任单位"
COOPERATING, LEADER, MEASURES, MONITOR, DEADLINE = "配合单位", "责任领导", "推进措施", "监察评估", "完成时限"
MILESTONES, PHASE, REMARKS = "节点", "所属阶段", "备注"
COLUMNS = (SERIAL, TITLE, TARGET, LEAD, RESPONSIBLE_UNITS, COOPERATING, LEADER, MEASURES, MONITOR, DEADLINE,
           MILESTONES, PHASE, REMARKS)
REQUIRED = (TITLE, LEAD, DEADLINE)
# Where the domain's field errors belong in the office's table.
FIELD_COLUMNS = {"title": TITLE, "target": TARGET, "lead_unit": LEAD, "cooperating_units": RESPONSIBLE_UNITS,
                 "responsible_leader": LEADER, "measures": MEASURES, "monitor": MONITOR, "deadline": DEADLINE,
                 "milestones": MILESTONES, "phase": PHASE, "campaign_id": ROW}
MILESTONE = re.compile(r"^(?P<name>.+?)[\s:：]*(?P<due>\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)$")
PHASE_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def row_key(cells: Mapping[str, Any], campaign_id: str | None) -> str:
    """The same task in the same plan: its wording, its lead unit, its campaign (progress columns left out)."""
    identity = [_identity(cells.get(TITLE)), _identity(cells.get(LEAD)), campaign_id]
    return hashlib.sha256(("task-row/v1\n" + json.dumps(identity, ensure_ascii=False)).encode()).hexdigest()


def milestones(value: Any) -> list[dict[str, Any]]:
    """节点 as offices write them: "摸底调查 2026-03-31；全面推进 2026年8月31日" (；, ; or new lines between)."""
    out = []
    for part in re.split(r"[；;\n]+", text(value)):
        if part.strip():
            m = MILESTONE.match(part.strip())
            if not m:
                raise ValueError(f"节点“{part.strip()}”应写作“名称 日期”")
            out.append({"name": m["name"].strip(), "due": parse_date(m["due"])})
    return out


def phase(value: Any) -> int | None:
    raw = label(value).removeprefix("第").removesuffix("阶段")
    if not raw:
        return None
    if raw in PHASE_NUMBERS:
        return PHASE_NUMBERS[raw]
    if raw.isdigit():
        return int(raw)
    raise ValueError(f"所属阶段“{text(value)}”应写作 1、2、3 或 第一阶段")


def _parsed(cells: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    v: dict[str, Any] = {c: text(cells.get(c)) for c in COLUMNS}
    for column, parse, key in ((DEADLINE, parse_date, "deadline"), (MILESTONES, milestones, "milestones"),
                               (PHASE, phase, "phase")):
        try:
            v[key] = parse(cells.get(column)) if v[column] else (None if key != "milestones" else [])
        except ValueError as exc:
            _add(errors, column, str(exc))
    lead = units(v[LEAD])
    if len(lead) > 1:
        _add(errors, LEAD, "每行一个牵头单位，其余写在责任单位中")
    v["lead"] = lead[0] if lead else None
    v["cooperating"] = list(dict.fromkeys(units(v[RESPONSIBLE_UNITS]) + units(v[COOPERATING])))
    return v


def plan(table: Table, directory: Directory, campaign: Campaign | None, campaign_id: str | None, today: date,
         known: Mapping[str, str], new_id: Callable[[], str], import_id: str | None) -> list[RowPlan]:
    """Per row: `duplicate` (imported before, or earlier in this file), `error` (every problem, by
    column), or `ok` with the task.issued event the import would write."""
    plans: list[RowPlan] = []
    first: dict[str, RowPlan] = {}
    for number, cells, unnamed in table.rows:
        p = RowPlan(number, row_key(cells, campaign_id), text(cells.get(SERIAL)) or None, id_key="task_id")
        plans.append(p)
        if duplicate(p, known, first):
            continue
        v = _parsed(cells, p.errors)
        if unnamed:
            _add(p.errors, ROW, f"无表头的列中有内容：第{'、'.join(map(str, unnamed))}列")
        if not p.errors:
            cmd = IssueTask(title=v[TITLE], target=v[TARGET] or None, lead_unit=v["lead"],
                            responsible_leader=v[LEADER] or None, measures=v[MEASURES] or None,
                            monitor=v[MONITOR] or None, deadline=v["deadline"], cooperating_units=tuple(v["cooperating"]),
                            milestones=tuple(v["milestones"]), campaign_id=campaign_id, phase=v["phase"],
                            number=v[SERIAL] or None, origin={"system": "import", "import_id": import_id,
                                                              "row": number, "key": p.key, "remarks": v[REMARKS] or None})
            try:
                p.events = issue(cmd, directory, campaign, today)
            except InvalidCommand as exc:
                for name, messages in exc.errors.items():
                    for message in messages:
                        _add(p.errors, FIELD_COLUMNS.get(name, ROW), message)
        if p.errors:
            p.status, p.events = "error", []
        else:
            p.new_case_id = new_id()
            d = p.events[0].data
            p.summary = {"title": d["title"], "lead_unit": d["lead_unit"], "deadline": d["deadline"],
                         "milestones": len(d["milestones"])}
    return plans
