"""Seed 004's plan (区委项目建设工作方案) played through the services in 2026 — intake's, the ledger's,
notify's and audit's Flask apps on the real PostgreSQL, the real relays, broker and consumers, notify's
scheduler pass and the ledger also over HTTP — with the figures checked against hand-computed values.

The plan: three phases (学习教育 2/9–2/28, 分项推进 3/1–10/31, 总结考核 11/1–12/30) and 12 tasks with the
lead units the seed names, imported from the office's task table on Monday 2 March, each with a
milestone (阶段性进展报送, Tuesday 30 June) and the deadline Friday 30 October; handling mode 限期整改
(reminder 3 working days before, supervision letter at 5 overdue, talk 10, criticism 15, proposal 20).
Ten tasks reach their milestone on 29 June, report completion on 28 October and are signed off on 29
October. Two never do: 4 (区政府法制办) and 9 (区发改委) — their milestone is late from 1 July and the
ladder climbs from it. In phase 3 a look-back (ratio 0.2) draws ⌈0.2 × 10⌉ = 2 of the 10 signed-off
tasks; one held, one rebounded, which opens a case for its lead unit. The November bulletin has the
campaign's section and deducts the overdue tasks and the rebound.

Working days by hand (chinese-calendar 2026: 端午 19 June, 国庆 1–7 October; no make-up day in the spans
counted here): the milestone's reminder is crossed on Thursday 25 June; overdue from 30 June, 5 working
days is 7 July (letter), 10 is 14 July (talk), 15 is 21 July (criticism), 20 is 28 July (proposal).
"""
from __future__ import annotations

import math

import pytest

from zfcommon import db, kafka
from zfcommon.events.catalogue import all_topics

from .. import seed004
from ..support import bearer, eventually
from .test_escalation import World

pytestmark = pytest.mark.integration
OFFICE, REVIEWER = bearer("office"), bearer("office", sub="office-reviewer")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LATE = {"4": "区政府法制办", "9": "区发改委"}


@pytest.fixture
def world(urls, broker, tmp_path):
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    w = World(urls, broker.bootstrap, tmp_path / "now", day="2026-02-09")
    yield w
    w.close()


def post(w: World, path: str, body: dict | None = None, headers=OFFICE, status: int = 200, service: str = "intake"):
    r = w.client[service].post(path, json=body or {}, headers=headers)
    assert r.status_code == status, (path, r.status_code, r.json)
    return r.json


def caught_up(w: World, service: str) -> bool:
    """The service's consumer has applied every event intake and notify stored."""
    counts = []
    for source in ("intake", "notify"):
        with db.connect(w.urls[source]) as conn:
            counts.append(conn.execute("SELECT count(*) AS n FROM events").fetchone()["n"])
    with db.connect(w.urls[service]) as conn:
        return conn.execute("SELECT count(*) AS n FROM processed_events").fetchone()["n"] >= sum(counts)


def scheduler_pass(w: World) -> None:
    eventually(lambda: caught_up(w, "notify"), timeout=60, interval=0.5)
    w.escalate()


def test_seed_004s_plan_gives_the_hand_computed_figures(world):
    w = world
    for unit in seed004.UNITS:
        post(w, "/v1/directory/units", {"name": unit, "kind": "government_department", "supervising_channel": "区纪委"})
    campaign = post(w, "/v1/campaigns", seed004.CAMPAIGN, status=201)
    c = campaign["campaign_id"]
    assert campaign["phase"]["label"] == "第一阶段"

    w.day("2026-03-02")
    imported = w.client["intake"].post(f"/v1/task-imports?campaign_id={c}", data=seed004.workbook(seed004.rows()),
                                       content_type=XLSX, headers=OFFICE)
    assert imported.status_code == 201 and imported.json["counts"]["imported"] == 12
    tasks = {r["serial"]: r["task_id"] for r in imported.json["rows"]}
    lead = {number: unit for number, _, _, unit, _ in seed004.TASKS}
    done = [n for n in tasks if n not in LATE]

    w.day("2026-06-29")
    for n in done:
        post(w, f"/v1/tasks/{tasks[n]}/reach-milestone", {"milestone": 1, "note": "阶段性进展已报送"},
             bearer("unit", unit=lead[n]))
    w.day("2026-07-07")
    scheduler_pass(w)
    w.day("2026-10-28")
    for n in done:
        post(w, f"/v1/tasks/{tasks[n]}/report-completion", {"note": "任务已完成"}, bearer("unit", unit=lead[n]))
    w.day("2026-10-29")
    for n in done:
        assert post(w, f"/v1/tasks/{tasks[n]}/sign-off", {"comment": "同意销号"})["status"] == "signed_off"

    w.day("2026-11-02")
    scheduler_pass(w)
    eventually(lambda: caught_up(w, "ledger"), timeout=60, interval=0.5)
    w.day("2026-11-16")
    lookback = post(w, "/v1/lookbacks", {"title": "项目建设年回头看", "ratio": 0.2, "campaign_id": c, "kinds": ["task"]},
                    status=201)
    assert len(lookback["candidates"]) == 10 and len(lookback["selected"]) == math.ceil(0.2 * 10)
    held, rebounded = lookback["selected"]
    by_task = {t: n for n, t in tasks.items()}
    post(w, f"/v1/lookbacks/{lookback['lookback_id']}/findings", {"id": held, "outcome": "held", "note": "成果巩固"},
         status=201)
    rebound = post(w, f"/v1/lookbacks/{lookback['lookback_id']}/findings",
                   {"id": rebounded, "outcome": "rebounded", "note": "整改后问题再次出现", "category": "办事效率低"},
                   status=201)["findings"][-1]
    rebound_unit = lead[by_task[rebounded]]

    # The ladder of each late task, from its late milestone: every step on its day, by hand.
    eventually(lambda: caught_up(w, "ledger"), timeout=60, interval=0.5)
    for n in LATE:
        row = w.client["ledger"].get(f"/v1/tasks/{tasks[n]}", headers=OFFICE).json
        assert [(h["step"], str(h["crossed_on"])) for h in row["escalation_history"] if h["kind"] == "step"] == [
            ("reminder", "2026-06-25"), ("supervision_letter", "2026-07-07"), ("admonishment_talk", "2026-07-14"),
            ("bulletin_criticism", "2026-07-21"), ("accountability_proposal", "2026-07-28")], n
        assert (row["overdue"], row["milestones_overdue"], row["escalation_step"]) == (
            True, ["阶段性进展报送"], "accountability_proposal")
    on_time = w.client["ledger"].get(f"/v1/tasks/{tasks['1']}", headers=OFFICE).json
    assert on_time["escalation_step"] is None and on_time["signed_off_on_time"] is True

    w.day("2026-12-01")
    eventually(lambda: caught_up(w, "ledger"), timeout=60, interval=0.5)
    figures = w.client["ledger"].get(f"/v1/campaigns/{c}", headers=OFFICE).json
    assert figures["phase"]["label"] == "第三阶段"
    assert {k: figures["figures"][k] for k in ("tasks", "tasks_signed_off", "tasks_signed_off_on_time",
                                               "tasks_overdue", "milestones_overdue", "lookback_drawn",
                                               "lookback_held", "lookback_rebounds", "cases_received")} == {
        "tasks": 12, "tasks_signed_off": 10, "tasks_signed_off_on_time": 10, "tasks_overdue": 2,
        "milestones_overdue": 2, "lookback_drawn": 2, "lookback_held": 1, "lookback_rebounds": 1, "cases_received": 1}
    stats = {r["unit"]: r for r in w.client["ledger"].get("/v1/units/stats", headers=OFFICE).json["items"]}
    signed = {u: sum(1 for n in done if lead[n] == u) for u in set(lead.values())}
    assert {u: (r["tasks_signed_off"], r["tasks_overdue"]) for u, r in stats.items() if u in lead.values()} == {
        u: (signed[u], sum(1 for n in LATE if lead[n] == u)) for u in set(lead.values())}
    assert stats[rebound_unit]["lookback_rebounds"] == 1
    mine = w.client["ledger"].get("/v1/tasks", headers=bearer("unit", unit="区政府法制办")).json["items"]
    assert sorted(int(t["number"]) for t in mine) == [4, 5, 7, 10]      # leads 4, 5; cooperates on 7, 10
    case = w.client["intake"].get(f"/v1/cases/{rebound['case_id']}", headers=OFFICE).json
    assert (case["channel"], case["subject_unit"], case["origin"]["ref"]) == ("lookback", rebound_unit, rebounded)

    # The November bulletin: the campaign's section, and each unit's points for its overdue task and the rebound.
    draft = post(w, "/v1/bulletins", {"month": "2026-11"}, status=201, service="notify")
    section = draft["data"]["campaigns"]
    assert [(s["name"], s["phase"]["label"], s["figures"]["tasks_overdue"], s["figures"]["lookback_rebounds"])
            for s in section] == [("机关效能—项目建设年", "第三阶段", 2, 1)]
    units = {u["unit"]: u for u in draft["data"]["units"]}
    for unit in set(lead.values()):
        expected = 100 - 2 * sum(1 for n in LATE if lead[n] == unit) - (3 if unit == rebound_unit else 0)
        assert units[unit]["score"] == expected, unit
    html = w.client["notify"].get("/v1/bulletins/2026-11.html", headers=OFFICE).get_data(as_text=True)
    assert "六、专项行动" in html and "分解任务 12 项，已销号 10 项" in html
