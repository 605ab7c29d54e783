"""The bulletin and the campaign machinery (docs/CAMPAIGNS.md, docs/BULLETINS.md): overdue tasks and
look-back rebounds cost points, and each campaign that ran in the month has its section."""
from __future__ import annotations

import io
from openpyxl import load_workbook

from notify.adapters import render, workbook
from notify.domain import bulletin
from notify.domain.bulletin import DEFAULT_RULES
from zfcommon.events.catalogue import validate_data
from zfcommon.events.plans import SECTION_FIGURES

from .test_bulletin_render import record

FIGURES = {**dict.fromkeys(SECTION_FIGURES, 0), "cases_received": 2, "tasks": 12, "tasks_signed_off": 9,
           "tasks_overdue": 2, "lookback_drawn": 3, "lookback_held": 2, "lookback_rebounds": 1}
CAMPAIGN = {"campaign_id": "campaign-1", "name": "机关效能—项目建设年", "lead_office": "区委", "starts_on": "2026-02-09",
            "ends_on": "2026-12-30", "version": 1, "launched_at": "2026-02-01T09:00:00+08:00",
            "phase": {"state": "in_phase", "number": 3, "name": "总结考核、完善提高阶段", "label": "第三阶段",
                      "starts_on": "2026-11-01", "ends_on": "2026-12-30"},
            "figures": FIGURES, "units": [{"unit": "区发改委", **FIGURES}]}


def test_overdue_tasks_and_rebounds_cost_their_points_and_rules_set_before_them_take_the_defaults():
    figures = bulletin.unit_figures({"tasks_overdue": 2, "lookback_rebounds": 1}, bulletin.Marks())
    old_rules = {**DEFAULT_RULES, "deductions": {k: v for k, v in DEFAULT_RULES["deductions"].items()
                                                 if k not in ("task_overdue", "rebound")}}
    assert validate_data("cn.zhengfeng.bulletin.rules_set.v1", old_rules) == {}
    lines, score = bulletin.score(figures, old_rules)
    assert [(line["rule"], line["count"], line["total"]) for line in lines] == [("task_overdue", 2, 4.0),
                                                                               ("rebound", 1, 3.0)]
    assert score == 93.0


def test_each_campaign_that_ran_has_its_section_in_every_format():
    data = record()["data"]
    data = {**data, "campaigns": [bulletin.campaign_section(CAMPAIGN)]}
    assert validate_data("cn.zhengfeng.bulletin.drafted.v1", data) == {}
    html = render.html("bulletin", {**record(), "data": data})
    assert "六、专项行动" in html and "七、说明" in html
    assert "处于第三阶段：总结考核、完善提高阶段" in html and "分解任务 12 项，已销号 9 项" in html
    assert "反弹 1 件" in html and "<td class=\"name\">区发改委</td>" in html
    sheet = load_workbook(io.BytesIO(workbook.xlsx("bulletin", {**record(), "data": data})))["专项行动"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[1][:3] == ["机关效能—项目建设年", "第三阶段", "合计"] and rows[2][2] == "区发改委"
    assert "六、说明" in render.html("bulletin", record())          # no campaign: no section


def test_a_drafted_bulletin_from_before_campaigns_still_reads():
    data = record()["data"]
    old = {**data, "units": [{k: v for k, v in u.items() if k not in bulletin.LEDGER[10:]} for u in data["units"]],
           "totals": {k: v for k, v in data["totals"].items() if k not in bulletin.LEDGER[10:]}}
    del old["campaigns"]
    assert validate_data("cn.zhengfeng.bulletin.drafted.v1", old) == {}
