"""Campaigns (专项行动) and tasks with the five haves (五有): the rules as specifications. Seed 004's
plan gives the dates: 学习教育 2/9–2/28, 分项推进 3/1–10/31, 总结考核 11/1–12/30."""
from datetime import date, datetime, timezone

import pytest

from intake.domain import campaign as campaigns
from intake.domain import task as tasks
from intake.domain.campaign import Campaign, LaunchCampaign
from intake.domain.directory import Directory
from intake.domain.refusals import Invalid, NotYours, Refused
from intake.domain.task import IssueTask, Task
from zfcommon.campaigns import phase_on
from zfcommon.events.catalogue import validate_data

GOV, DEV, FIN = "区政府办", "区发改委", "区财政局"
AT = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)
PHASES = ({"name": "学习教育、深化认识阶段", "starts_on": date(2026, 2, 9), "ends_on": date(2026, 2, 28)},
          {"name": "分项推进、全面实施阶段", "starts_on": date(2026, 3, 1), "ends_on": date(2026, 10, 31)},
          {"name": "总结考核、完善提高阶段", "starts_on": date(2026, 11, 1), "ends_on": date(2026, 12, 30)})


def directory() -> Directory:
    d = Directory()
    for name in (GOV, DEV, FIN):
        d.units[name] = {"name": name, "kind": "government_department", "supervising_channel": "区纪委",
                         "contacts": [], "active": True}
    return d


def launched(**overrides) -> Campaign:
    cmd = LaunchCampaign(**{"name": "机关效能—项目建设年", "lead_office": "区委", "starts_on": date(2026, 2, 9),
                            "ends_on": date(2026, 12, 30), "phases": PHASES, "categories": ("办事效率低",),
                            **overrides})
    [event] = campaigns.launch(cmd, directory())
    assert validate_data(event.type, event.data) == {}
    return Campaign.replay("campaign-1", [(event.type, event.data, AT)])


@pytest.mark.parametrize("day, state, number", [
    (date(2026, 2, 8), "not_started", None), (date(2026, 2, 9), "in_phase", 1), (date(2026, 2, 28), "in_phase", 1),
    (date(2026, 3, 1), "in_phase", 2), (date(2026, 10, 31), "in_phase", 2), (date(2026, 11, 1), "in_phase", 3),
    (date(2026, 12, 30), "in_phase", 3), (date(2026, 12, 31), "ended", None)])
def test_the_phase_follows_from_the_calendar(day, state, number):
    now = phase_on(launched().facts, day)
    assert (now.state, now.phase and now.phase.number) == (state, number)


def test_a_day_between_two_phases_is_between_phases_and_phases_are_labelled_as_plans_number_them():
    c = launched(phases=(PHASES[0], {**PHASES[1], "starts_on": date(2026, 3, 10)}, PHASES[2]))
    assert phase_on(c.facts, date(2026, 3, 5)).state == "between_phases"
    assert phase_on(c.facts, date(2026, 11, 5)).as_dict()["label"] == "第三阶段"


def test_overlapping_phases_phases_outside_the_period_and_unknown_categories_are_refused_naming_each():
    with pytest.raises(Invalid) as refused:
        launched(phases=(PHASES[0], {**PHASES[1], "starts_on": date(2026, 2, 20)},
                         {**PHASES[2], "ends_on": date(2027, 1, 5)}), categories=("没有的类别",))
    assert set(refused.value.errors) == {"phases.1", "phases.2", "categories"}
    assert refused.value.code == "campaign.invalid" and "重叠" in refused.value.detail


def issue_cmd(**overrides) -> IssueTask:
    fields = {"title": "推进项目建设", "target": "八个一批", "lead_unit": GOV, "responsible_leader": "张副区长",
              "measures": "向上争项目、向外引项目", "monitor": "区纪委（监察局）", "deadline": date(2026, 10, 31),
              "cooperating_units": (DEV, FIN), "milestones": ({"name": "储备项目包装完成", "due": date(2026, 5, 31)},
                                                              {"name": "开工建设过半", "due": date(2026, 8, 31)}),
              "campaign_id": "campaign-1", "phase": 2, "number": "1"}
    return IssueTask(**{**fields, **overrides})


def issued(**overrides) -> Task:
    [event] = tasks.issue(issue_cmd(**overrides), directory(), launched(), date(2026, 3, 2))
    assert validate_data(event.type, event.data) == {}
    return Task.replay("task-1", [(event.type, event.data, AT)])


def test_a_task_missing_any_of_the_five_haves_is_refused_naming_every_missing_have():
    with pytest.raises(Invalid) as refused:
        tasks.issue(issue_cmd(target="  ", responsible_leader=None, monitor=None), directory(), launched(),
                    date(2026, 3, 2))
    assert refused.value.code == "task.five_haves_missing"
    assert refused.value.extra["missing"] == ["target", "responsible", "monitoring"]
    assert set(refused.value.errors) == {"target", "responsible_leader", "monitor"}
    assert "有工作目标" in refused.value.detail and "有监察评估" in refused.value.detail


def test_each_have_alone_is_required():
    for field, have in (("target", "target"), ("lead_unit", "responsible"), ("measures", "measures"),
                        ("monitor", "monitoring"), ("deadline", "deadline")):
        with pytest.raises(Invalid) as refused:
            tasks.issue(issue_cmd(**{field: None}), directory(), launched(), date(2026, 3, 2))
        assert refused.value.extra["missing"] == [have]


def test_units_milestones_campaign_and_phase_are_checked():
    for overrides, field in (({"lead_unit": "不存在的局"}, "lead_unit"), ({"cooperating_units": (GOV,)}, "cooperating_units"),
                             ({"milestones": ({"name": "晚", "due": date(2026, 11, 30)},)}, "milestones"),
                             ({"deadline": date(2026, 3, 1)}, "deadline")):
        with pytest.raises(Invalid) as refused:
            tasks.issue(issue_cmd(**overrides), directory(), launched(), date(2026, 3, 2))
        assert field in refused.value.errors
    with pytest.raises(Invalid) as refused:
        tasks.issue(issue_cmd(campaign_id="campaign-x"), directory(), None, date(2026, 3, 2))
    assert refused.value.code == "campaign.not_found"
    with pytest.raises(Invalid) as refused:
        tasks.issue(issue_cmd(phase=4), directory(), launched(), date(2026, 3, 2))
    assert refused.value.code == "task.no_such_phase"


def test_an_imported_task_keeps_a_deadline_its_table_recorded_even_a_passed_one():
    [event] = tasks.issue(issue_cmd(deadline=date(2026, 3, 1), milestones=(), origin={"import_id": "i", "row": 3}),
                          directory(), launched(), date(2026, 3, 2))
    assert event.data["deadline"] == "2026-03-01" and event.data["origin"]["row"] == 3


def run(task: Task, command: str, args: dict, role: str = "office", unit: str | None = None,
        today: date = date(2026, 6, 1)) -> Task:
    for event in tasks.decide(task, command, args, role, unit, today):
        assert validate_data(event.type, event.data) == {}, event
        task.apply(event.type, event.data, AT)
    return task


def test_units_report_progress_milestones_and_completion_and_the_office_signs_off():
    t = issued()
    run(t, "report_progress", {"note": "已召开推进会"}, "unit", DEV)               # a cooperating unit may
    run(t, "reach_milestone", {"milestone": 1, "note": "储备完成"}, "unit", GOV, date(2026, 6, 1))
    assert t.milestones()[0]["reached"] and t.milestones()[0]["reached_on_time"] is False
    run(t, "report_completion", {"note": "全部完成", "evidence": []}, "unit", GOV, date(2026, 10, 30))
    assert t.status == "completion_reported" and t.completion["on_time"] is True
    run(t, "sign_off", {"comment": "同意销号"})
    assert t.status == "signed_off" and t.allowed_commands() == []


def test_who_may_act_on_a_task():
    t = issued()
    with pytest.raises(NotYours):
        run(t, "reach_milestone", {"milestone": 1, "note": "x"}, "unit", DEV)        # only the lead unit
    with pytest.raises(NotYours):
        run(t, "report_progress", {"note": "x"}, "unit", "城关镇")
    with pytest.raises(NotYours):
        run(t, "sign_off", {}, "unit", GOV)


def test_sign_off_before_completion_is_a_409_naming_the_state_and_send_back_reopens_with_a_new_deadline():
    t = issued()
    with pytest.raises(Refused) as refused:
        run(t, "sign_off", {})
    assert refused.value.state == "in_progress" and refused.value.code == "task.transition_refused"
    assert "推进中" in refused.value.detail
    run(t, "report_completion", {"note": "完成"}, "unit", GOV)
    run(t, "send_back", {"reason": "证据不足", "new_deadline": date(2026, 11, 20)})
    assert (t.status, t.deadline, t.sent_back_count) == ("in_progress", date(2026, 11, 20), 1)


def test_reaching_a_milestone_is_offered_only_while_one_is_left_to_reach():
    assert "reach_milestone" not in issued(milestones=()).allowed_commands()
    t = issued()
    for number in (1, 2):
        assert "reach_milestone" in t.allowed_commands()
        run(t, "reach_milestone", {"milestone": number, "note": "x"})
    assert t.allowed_commands() == ["report_progress", "report_completion", "cancel"]


def test_a_milestone_is_reached_once_and_must_exist():
    t = issued()
    with pytest.raises(Invalid):
        run(t, "reach_milestone", {"milestone": 3, "note": "x"})
    run(t, "reach_milestone", {"milestone": 2, "note": "x"})
    with pytest.raises(Invalid):
        run(t, "reach_milestone", {"milestone": 2, "note": "x"})


# -- revising the plan (调整方案) -------------------------------------------------------------------
def revision(**overrides) -> LaunchCampaign:
    return LaunchCampaign(**{"name": "机关效能—项目建设年", "lead_office": "区委", "starts_on": date(2026, 2, 9),
                             "ends_on": date(2026, 12, 30), "phases": PHASES, "categories": ("办事效率低",),
                             **overrides})


def revised(c: Campaign, cmd: LaunchCampaign, today: date = date(2026, 3, 2)) -> Campaign:
    [event] = campaigns.revise(c, cmd, "区委办发〔2026〕5号文件延长推进阶段", directory(), today)
    assert validate_data(event.type, event.data) == {}
    c.apply(event.type, event.data, AT)
    return c


def test_a_running_phase_is_extended_and_the_phase_follows_the_new_dates():
    c = launched()
    later = ({**PHASES[1], "ends_on": date(2026, 11, 15)}, {**PHASES[2], "starts_on": date(2026, 11, 16)})
    c = revised(c, revision(phases=(PHASES[0], *later)))
    assert phase_on(c.facts, date(2026, 11, 10)).as_dict()["label"] == "第二阶段"
    assert c.version == 2 and c.revisions[0]["reason"].startswith("区委办发")


def test_a_phase_may_be_added_but_a_finished_phase_keeps_its_dates_and_none_is_removed():
    c = launched()
    fourth = {"name": "巩固提升阶段", "starts_on": date(2026, 12, 31), "ends_on": date(2027, 1, 31)}
    c = revised(c, revision(ends_on=date(2027, 1, 31), phases=(*PHASES, fourth)))
    assert len(c.facts["phases"]) == 4 and c.facts["ends_on"] == "2027-01-31"
    with pytest.raises(Invalid) as refused:
        revised(c, revision(phases=({**PHASES[0], "ends_on": date(2026, 2, 27)}, PHASES[1])))
    assert set(refused.value.errors) == {"phases", "phases.0"} and "不能删除" in refused.value.detail


def test_a_campaign_that_has_begun_keeps_its_start_and_a_revision_must_change_something():
    c = launched()
    with pytest.raises(Invalid) as refused:
        revised(c, revision(starts_on=date(2026, 2, 1)))
    assert "starts_on" in refused.value.errors
    with pytest.raises(Invalid) as same:
        revised(c, revision())
    assert same.value.code == "campaign.unchanged"
    early = revised(c, revision(starts_on=date(2026, 2, 1)), today=date(2026, 1, 20))
    assert early.facts["starts_on"] == "2026-02-01"
