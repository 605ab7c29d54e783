"""Inspections (明察暗访) and monitoring points (效能监测点): plans, findings, secrecy, state refusals."""
from datetime import date, datetime, timezone

import pytest

from intake.domain import inspection as domain
from intake.domain import monitoring
from intake.domain.case import RECEIVED, Case, InvalidCommand, receive
from intake.domain.directory import Directory
from intake.domain.inspection import Inspection, Lead, PlanInspection, StateRefused
from intake.domain.monitoring import MonitoringPoint, RegisterPoint
from zfcommon.events.catalogue import validate_data

UNITS = ("县自然资源局", "县市场监管局", "城关镇")
START, END = date(2024, 5, 6), date(2024, 5, 10)
AT = datetime(2024, 5, 7, 2, 0, tzinfo=timezone.utc)
EVIDENCE = ({"name": "窗口照片.jpg", "url": "https://files.example.cn/e/1.jpg", "sha256": "ab" * 32,
             "taken_at": "2024-05-07T09:30:00+08:00"},)


def directory() -> Directory:
    d = Directory()
    for name in UNITS:
        d.units[name] = {"name": name, "kind": "government_department", "supervising_channel": "县监察局",
                         "contacts": [], "active": True}
    return d


def plan_cmd(**overrides) -> PlanInspection:
    fields = {"title": "政务服务窗口作风暗访", "mode": "unannounced", "target_units": UNITS[:2],
              "team": ({"name": "王组长", "role": "组长", "organisation": "县纪委监委"},),
              "starts_on": START, "ends_on": END, "focus": ("态度冷漠", "办事效率低"), "note": "不打招呼"}
    return PlanInspection(**{**fields, **overrides})


def planned(**overrides) -> Inspection:
    [event] = domain.plan(plan_cmd(**overrides), directory())
    return Inspection.replay("inspection-1", [(event.type, event.data, AT)])


def lead(**overrides) -> Lead:
    return Lead(**{"unit": UNITS[0], "category": "态度冷漠", "description": "窗口人员上班时间玩手机,群众询问不理睬",
                   "evidence": EVIDENCE, "observed_on": date(2024, 5, 7), **overrides})


def with_finding(inspection: Inspection) -> Inspection:
    [event] = domain.finding_recorded("f-1", lead(), "case-1", "ZF-2024-000001")
    inspection.apply(event.type, event.data, AT)
    return inspection


def test_a_plan_is_one_planned_event_that_satisfies_the_catalogue():
    [event] = domain.plan(plan_cmd(), directory())
    assert event.type == domain.PLANNED
    assert event.data["target_units"] == list(UNITS[:2]) and event.data["starts_on"] == "2024-05-06"
    assert validate_data(event.type, event.data) == {}


def test_a_plan_names_each_bad_field():
    cmd = plan_cmd(target_units=("不存在的单位", UNITS[0], UNITS[0]), ends_on=date(2024, 5, 1), focus=("无此类别",),
                   mode="secret")
    with pytest.raises(InvalidCommand) as bad:
        domain.plan(cmd, directory())
    assert set(bad.value.errors) == {"target_units", "ends_on", "focus", "mode"}
    assert "不存在的单位" in bad.value.errors["target_units"][0]
    assert "重复列出" in bad.value.errors["target_units"][1]
    assert "早于开始日期 starts_on（2024-05-06）" in bad.value.errors["ends_on"][0]


def test_an_inspection_is_planned_until_its_first_day_then_under_way():
    inspection = planned()
    assert inspection.phase(date(2024, 5, 5)) == "planned"
    assert inspection.phase(START) == inspection.phase(date(2024, 6, 1)) == "under_way"
    assert inspection.allowed_commands(date(2024, 5, 5)) == ["cancel"]
    assert inspection.allowed_commands(START) == ["record_finding", "complete", "cancel"]


def test_a_finding_before_the_start_is_refused_naming_the_state():
    with pytest.raises(StateRefused, match="检查开始（2024-05-06）后才能记录") as refused:
        domain.check_finding(planned(), lead(), date(2024, 5, 5))
    assert refused.value.state == "planned" and refused.value.allowed == ["cancel"]


def test_a_finding_is_about_a_target_unit_seen_during_the_inspection():
    with pytest.raises(InvalidCommand) as bad:
        domain.check_finding(planned(), lead(unit=UNITS[2]), START)
    assert bad.value.errors == {"unit": ["不是此次检查的对象单位：城关镇"]}
    with pytest.raises(InvalidCommand) as bad:
        domain.check_finding(planned(), lead(observed_on=date(2024, 5, 9)), date(2024, 5, 8))
    assert "2024-05-06 至 2024-05-08" in bad.value.errors["observed_on"][0]
    domain.check_finding(planned(), lead(), date(2024, 5, 8))


def test_a_finding_becomes_a_case_on_the_inspection_channel_with_its_evidence_and_origin():
    cmd = lead(location={"address": "县政务服务中心", "lat": None, "lon": None}).case_command(
        "inspection", "f-1", "inspection-1")
    [event] = receive(Case("case-1"), cmd, None)
    assert event.type == RECEIVED
    assert event.data["channel"] == "inspection" and event.data["subject_unit"] == UNITS[0]
    assert event.data["origin"] == {"system": "inspection", "ref": "f-1", "parent": "inspection-1"}
    assert event.data["attachments"] == list(EVIDENCE)
    assert validate_data(event.type, event.data) == {}


def test_the_finding_event_records_its_case_and_the_inspection_lists_it():
    inspection = with_finding(planned())
    [finding] = inspection.findings
    assert finding["case_id"] == "case-1" and finding["finding_id"] == "f-1" and finding["recorded_at"] == AT
    [event] = domain.finding_recorded("f-1", lead(), "case-1", "ZF-2024-000001")
    assert validate_data(event.type, event.data) == {}


def test_completing_ends_the_findings():
    inspection = planned()
    [event] = domain.complete(inspection, "发现问题2个", START)
    assert event.data == {"summary": "发现问题2个", "finding_count": 0}
    assert validate_data(event.type, event.data) == {}
    inspection.apply(event.type, event.data, AT)
    with pytest.raises(StateRefused, match="此次检查已完成") as refused:
        domain.check_finding(inspection, lead(), START)
    assert refused.value.state == "completed" and refused.value.allowed == []
    with pytest.raises(StateRefused, match="此次检查已完成"):
        domain.complete(inspection, None, START)


def test_an_inspection_not_started_cannot_be_completed_only_cancelled():
    with pytest.raises(StateRefused, match="此次检查已计划"):
        domain.complete(planned(), None, date(2024, 5, 1))
    [event] = domain.cancel(planned(), "上级统一安排,暂停", date(2024, 5, 1))
    assert event.type == domain.CANCELLED and validate_data(event.type, event.data) == {}


def test_an_inspection_with_findings_cannot_be_cancelled():
    with pytest.raises(StateRefused, match="请改为完成检查") as refused:
        domain.cancel(with_finding(planned()), "取消", START)
    assert refused.value.allowed == ["record_finding", "complete"]


def test_an_unannounced_inspection_stays_hidden_from_its_targets_until_completed():
    inspection = planned()
    assert not inspection.visible_to_unit(UNITS[0])
    [event] = domain.complete(inspection, None, START)
    inspection.apply(event.type, event.data, AT)
    assert inspection.visible_to_unit(UNITS[0])
    assert not inspection.visible_to_unit(UNITS[2]) and not inspection.visible_to_unit(None)


def test_an_announced_inspection_is_visible_to_its_targets_from_the_plan():
    assert planned(mode="announced").visible_to_unit(UNITS[1])
    assert not planned(mode="announced").visible_to_unit(UNITS[2])


def point(**overrides) -> MonitoringPoint:
    cmd = RegisterPoint(**{"name": "县政务服务中心企业监测点", "kind": "enterprise", "watched_units": UNITS[:1],
                           "organisation": "某某建材有限公司", **overrides})
    [event] = monitoring.register(cmd, directory())
    assert validate_data(event.type, event.data) == {}
    return MonitoringPoint.replay("monitoring-point-1", [(event.type, event.data, AT)])


def test_a_point_watches_directory_units():
    with pytest.raises(InvalidCommand) as bad:
        point(watched_units=("无此单位",))
    assert "无此单位" in bad.value.errors["watched_units"][0]
    assert point().status == "active" and point().allowed_commands() == ["record_submission", "deactivate"]


def test_a_submission_is_about_a_watched_unit_and_not_from_the_future():
    with pytest.raises(InvalidCommand) as bad:
        monitoring.check_submission(point(), lead(unit=UNITS[1]), START)
    assert bad.value.errors == {"unit": ["不在此监测点监测的单位之列：县市场监管局"]}
    with pytest.raises(InvalidCommand, match="不能晚于今天"):
        monitoring.check_submission(point(), lead(observed_on=date(2024, 5, 8)), date(2024, 5, 7))
    monitoring.check_submission(point(watched_units=()), lead(unit=UNITS[2]), END)   # empty: any unit


def test_a_submission_records_its_case():
    [event] = monitoring.submission_recorded("s-1", lead(), "case-9", "ZF-2024-000009")
    assert event.data["submission_id"] == "s-1" and event.data["case_id"] == "case-9"
    assert event.data["case_number"] == "ZF-2024-000009"
    assert validate_data(event.type, event.data) == {}


def test_a_deactivated_point_takes_no_submissions():
    p = point()
    [event] = monitoring.deactivate(p, "企业已搬迁")
    assert validate_data(event.type, event.data) == {}
    p.apply(event.type, event.data, AT)
    assert p.status == "deactivated" and p.facts["deactivation_reason"] == "企业已搬迁"
    with pytest.raises(StateRefused, match="已停用") as refused:
        monitoring.check_submission(p, lead(), START)
    assert refused.value.state == "deactivated"
    with pytest.raises(StateRefused, match="已经停用"):
        monitoring.deactivate(p, "再次")
