"""The console's pure helpers for the campaign pages: repeated rows on a form (phases, milestones, stages)
and where a service's errors about them are shown, a unit's tasks and stages by what needs doing, a project's
stages from intake and the ledger, and every task and stage command with its form and its Chinese name."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from console.adapters.services import ServiceError
from console.domain import messages
from console.entrypoints import commands, forms
from console.entrypoints.projects import stage_rows
from console.entrypoints.units import stage_groups, task_groups
from console.entrypoints.web import FormErrors


def test_only_filled_rows_count_and_each_keeps_its_row_number():
    form = MultiDict({"phase-1-name": "动员部署", "phase-1-starts_on": "2026-03-01", "phase-2-name": " ",
                      "phase-3-name": "集中整治", "phase-3-ends_on": "2026-06-30"})
    assert forms.rows(form, "phase", ("name", "starts_on", "ends_on"), 5) == [
        (1, {"name": "动员部署", "starts_on": "2026-03-01", "ends_on": ""}),
        (3, {"name": "集中整治", "starts_on": "", "ends_on": "2026-06-30"})]


def test_a_services_error_about_a_list_item_is_shown_on_the_row_it_was_typed_in():
    filled = [(1, {}), (3, {})]
    renamed = forms.row_errors("phases", "phase", filled)
    assert renamed == {"phases.0": "phase-1", "phases.1": "phase-3"}
    refused = ServiceError(422, {"detail": "专项行动的期限、阶段或问题类别有误", "errors": {
        "phases.1": ["第2阶段与上一阶段重叠或顺序颠倒"], "name": ["Missing data for required field."],
        "categories": ["不在问题类别目录中：没有的类别"]}})
    errors = FormErrors.of(refused, ("name", "phases"), renamed)
    assert errors["phase-3"] == ["第2阶段与上一阶段重叠或顺序颠倒"] and errors["name"] == ["此项必填"]
    assert errors["general"] == ["专项行动的期限、阶段或问题类别有误", "问题类别：不在问题类别目录中：没有的类别"]


def test_a_nested_error_goes_to_its_row_or_else_to_its_top_field():
    nested = ServiceError(422, {"errors": {"phases": {"0": {"ends_on": ["Not a valid date."]}},
                                           "complainant": {"phone": ["须为手机号"]}}})
    placed = FormErrors.of(nested, ("phases", "complainant"), {"phases.0": "phase-2"})
    assert placed["phase-2"] == ["日期格式不正确"] and placed["complainant"] == ["须为手机号"]
    assert FormErrors.of(nested, ("phases", "complainant"))["phases"] == ["日期格式不正确"]


def test_a_units_tasks_are_grouped_by_what_needs_doing_each_once():
    running = [{"title": "甲", "overdue": True, "milestones_overdue": [], "sent_back_count": 1},
               {"title": "乙", "overdue": False, "milestones_overdue": ["节点一"], "sent_back_count": 0},
               {"title": "丙", "overdue": False, "milestones_overdue": [], "sent_back_count": 2},
               {"title": "丁", "overdue": False, "milestones_overdue": [], "sent_back_count": 0}]
    groups = {key: [t["title"] for t in items] for key, _, items in task_groups(running, [{"title": "戊"}])}
    assert groups == {"overdue": ["甲", "乙"], "sent_back": ["丙"], "to_report": ["丁"], "reported": ["戊"]}


def test_a_units_stages_under_way_come_first_and_those_past_their_limit_lead():
    found = [({"name": "学校"}, {"name": "立项", "state": "completed"}),
             ({"name": "学校"}, {"name": "用地", "state": "entered", "overdue": False}),
             ({"name": "水厂"}, {"name": "施工许可", "state": "entered", "overdue": True}),
             ({"name": "水厂"}, {"name": "竣工", "state": "not_entered"})]
    groups = {key: [s["name"] for _, s in items] for key, _, items in stage_groups(found)}
    assert groups == {"entered": ["施工许可", "用地"], "not_entered": ["竣工"], "completed": ["立项"]}


def test_a_stage_is_as_intake_has_it_now_with_what_the_ledger_adds_once_projected():
    written = [{"key": "lixiang", "name": "立项", "state": "entered", "allowed_commands": ["complete_stage"]},
               {"key": "yongdi", "name": "用地", "state": "not_entered", "allowed_commands": []}]
    projected = [{"stage": "lixiang", "state": "not_entered", "overdue": True, "working_days_overdue": 2}]
    rows = stage_rows(written, projected)
    assert rows[0]["state"] == "entered" and rows[0]["overdue"] is True and rows[0]["working_days_overdue"] == 2
    assert rows[1] == written[1] and stage_rows(written, None) == written


def test_every_task_command_intake_knows_has_a_form_and_a_name():
    from intake.entrypoints.campaign_schemas import TASK_COMMANDS
    assert set(commands.TASK_FORMS) == set(TASK_COMMANDS) == set(messages.TASK_COMMANDS)
    for command, schema in TASK_COMMANDS.items():
        required = {n for n, f in schema().fields.items() if f.required}
        assert required <= {f.name for f in commands.TASK_FORMS[command]}, command
    assert set(commands.TASK_UNIT_COMMANDS) <= set(commands.TASK_FORMS)


def test_every_stage_command_intake_offers_has_a_name():
    from intake.domain.project import ENTERED, REGISTERED, Project
    project = Project("project-x")
    project.apply(REGISTERED, {"stages": [{"key": "lixiang", "name": "立项", "unit": "甲", "limit_days": 5}]})
    offered = set(project.stage_commands("lixiang", "office", None))
    project.apply(ENTERED, {"stage": "lixiang", "entered_on": "2026-03-02", "due": "2026-03-09"})
    offered |= set(project.stage_commands("lixiang", "office", None))
    assert offered == set(messages.STAGE_COMMANDS) == {"enter_stage", "complete_stage"}


def test_a_task_report_carries_its_evidence_and_leaving_a_campaign_sends_none():
    proofs = [{"name": "总结.pdf", "url": "http://intake/v1/tasks/t/files/f", "sha256": "0" * 64}]
    body = commands.body("report_completion", MultiDict({"note": " 全部完成 "}), proofs, commands.TASK_FORMS)
    assert body == {"note": "全部完成", "evidence": proofs}
    assert commands.body("reach_milestone", MultiDict({"milestone": "2", "note": "完成"}), [], commands.TASK_FORMS) == {
        "milestone": "2", "note": "完成"}
    assert commands.body("set_campaign", MultiDict({"campaign_id": ""}), []) == {"campaign_id": None}
    assert commands.body("set_campaign", MultiDict({"campaign_id": "campaign-1"}), []) == {"campaign_id": "campaign-1"}


def test_a_form_returns_only_to_a_page_of_this_site():
    from console.entrypoints.web import local_path
    assert local_path("/my/stages", "/projects/p") == "/my/stages"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "", None, "my/stages"):
        assert local_path(elsewhere, "/projects/p") == "/projects/p", elsewhere
