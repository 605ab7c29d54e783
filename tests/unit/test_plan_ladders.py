"""Tasks and project stages on the one escalation ladder (zfcommon.ladderviews, notify's stage_cases and
notices): what the ladder reads of them, when a stage becomes a case, how the notice names them."""
from datetime import date, datetime, timezone

from notify.adapters import notice_text
from notify.domain import ladder, notices, stage_cases
from zfcommon import ladderviews
from zfcommon.events import new_event
from zfcommon.workdays import WorkCalendar

AT = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)
CALENDAR = WorkCalendar()
ISSUED = {"campaign_id": None, "phase": None, "number": "1", "title": "推进项目建设", "target": "八个一批",
          "lead_unit": "区政府办", "cooperating_units": [], "responsible_leader": "张副区长", "measures": "争项目",
          "monitor": "区纪委", "deadline": "2026-03-20", "handling_mode": "immediate",
          "milestones": [{"name": "摸底", "due": "2026-03-06"}, {"name": "储备", "due": "2026-03-13"}]}


def event(type_: str, subject: str, version: int, data: dict):
    return new_event(service="intake", type=type_, subject=subject, data=data, streamversion=version,
                     correlationid="c", actor="office:li", time=AT)


def task_after(*changes) -> dict:
    state, view = None, None
    for version, (name, data) in enumerate((("issued", ISSUED), *changes), 1):
        state, view = ladderviews.after_task(state, event(f"cn.zhengfeng.task.{name}.v1", "task-1", version, data))
    return view


def test_a_task_counts_from_its_earliest_milestone_not_reached_then_its_deadline():
    view = task_after()
    case = ladder.Case.from_view(view)
    assert (case.deadline, case.lead_unit, case.runs("deadline"), case.runs("sign_for")) == (
        date(2026, 3, 6), "区政府办", True, False)
    reached = task_after(("milestone_reached", {"unit": "区政府办", "note": "x", "evidence": [], "milestone": 1,
                                                "on_time": True}))
    assert reached["deadline"] == "2026-03-13"


def test_a_reported_task_stops_its_ladder_with_a_reason_the_catalogue_knows():
    view = task_after(("completion_reported", {"unit": "区政府办", "note": "x", "evidence": [], "on_time": True}))
    case = ladder.Case.from_view(view)
    decision = ladder.decide({"deadline": ladder.Round(1, date(2026, 3, 6), "区政府办", ("reminder",))}, case,
                             ladder.DEFAULT_CONFIG, CALENDAR, date(2026, 3, 9))
    assert [(c.reason, c.last_step) for c in decision.changes] == [("completion_reported", "reminder")]


def stage(status: str = "in_progress", due: str = "2026-03-05", grace: int = 2) -> dict:
    registered = event("cn.zhengfeng.project.registered.v1", "project-1", 1, {
        "name": "城南污水处理厂", "owner": "区城投", "project_type": "政府投资项目", "campaign_id": None,
        "stages": [{"key": "lixiang", "name": "立项", "unit": "区发改委", "limit_days": 3}], "handling_mode": "immediate",
        "case_grace_days": grace, "case_category": "办事效率低", "note": None})
    stored = ladderviews.stage_views({}, registered)
    entered = event("cn.zhengfeng.project.stage_entered.v1", "project-1", 2, {
        "stage": "lixiang", "unit": "区发改委", "entered_on": "2026-03-02", "limit_days": 3, "due": due})
    view = ladderviews.stage_views(stored, entered)["project-1/lixiang"]
    return {**view, "status": status}


def test_a_stage_becomes_a_case_on_the_grace_day_while_open_and_not_before():
    assert stage_cases.opening(stage(), CALENDAR, date(2026, 3, 6)) == stage_cases.Opening(day=date(2026, 3, 9))
    assert stage_cases.opening(stage(), CALENDAR, date(2026, 3, 9)).now
    assert stage_cases.opening(stage(grace=0), CALENDAR, date(2026, 3, 6)).now
    assert stage_cases.opening(stage("stage_completed"), CALENDAR, date(2026, 3, 20)) == stage_cases.Opening()
    assert stage_cases.opening(stage("case_opened"), CALENDAR, date(2026, 3, 20)) == stage_cases.Opening()


def test_a_stage_climbs_the_ladder_addressed_to_its_approving_unit_from_the_day_it_was_entered():
    case = ladder.Case.from_view(stage())
    assert (case.lead_unit, case.deadline, case.since) == ("区发改委", date(2026, 3, 5), date(2026, 3, 2))


def test_a_notice_names_a_task_as_a_task_never_as_a_case():
    step = event(notices.STEP_ISSUED, "task-1", 1, {
        "ladder": "deadline", "step": "supervision_letter", "round": 1, "unit": "区政府办", "due": "2026-03-06",
        "working_days_overdue": 1, "handling_mode": "immediate", "threshold": 1, "crossed_on": "2026-03-09"})
    [wanted] = notices.decide(step, None, {"view": task_after()})
    text = notice_text.render(wanted.kind, wanted.context, office="正风办", case_link="", today=date(2026, 3, 9))
    assert text.subject == "【督办函】任务“推进项目建设”超期未完成"
    assert "任务：推进项目建设" in text.email and "案件" not in text.email


def test_the_trail_finds_a_project_by_each_of_its_approving_units_and_a_task_by_its_units():
    from audit.domain.units import units_of
    assert units_of("cn.zhengfeng.project.registered.v1", {"stages": [{"key": "a", "unit": "区发改委"},
                                                                      {"key": "b", "unit": "区住建局"}]}) == [
        "区住建局", "区发改委"]
    assert units_of("cn.zhengfeng.task.issued.v1", ISSUED) == ["区政府办"]
