"""The console's pages for the campaign machinery (docs/CONSOLE.md, docs/CAMPAIGNS.md) through Flask's test
client, in front of intake's and the ledger's real apps on the real PostgreSQL: what each role sees, which
forms it is offered (only those the services allow now), and every refusal shown in Chinese next to the
field it names — a task without the five haves, a phase out of order, a stage day in the future, a rebound
without its category, a form decided on an older state."""
from __future__ import annotations

import io
import re

import pytest

from ..support import bearer
from .console_world import console_world, token
from .test_campaigns import DEV, FIN, GOV, campaign_body, task_body

pytestmark = pytest.mark.integration
STAGES = [{"key": "lixiang", "name": "立项", "limit_days": 5}, {"key": "yongdi", "name": "用地", "limit_days": 10}]


@pytest.fixture(scope="module")
def world(pg, tmp_path_factory):
    with console_world(pg, tmp_path_factory.mktemp("clock") / "now", day="2026-03-02") as w:
        for unit in (GOV, DEV, FIN):
            w.api("POST", "/v1/directory/units", {"name": unit, "kind": "government_department",
                                                  "supervising_channel": "区纪委"}, status=200)
        for login, role, unit in (("jia", "office", None), ("yi", "unit", GOV), ("ding", "unit", DEV),
                                  ("bing", "auditor", None)):
            w.account(login, role, unit)
        w.campaign = w.api("POST", "/v1/campaigns", campaign_body(), status=201)["campaign_id"]
        w.carry()
        yield w


def post(client, page_path: str, data: dict, action: str | None = None, **kw):
    """Submit a form of the page at `page_path` (its CSRF token) to `action` (default: the page itself)."""
    page = client.get(page_path).get_data(as_text=True)
    return client.post(action or page_path, data={**data, "csrf_token": token(page)}, **kw)


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', html)
    return found.group(1) if found else ""


def text(resp) -> str:
    return resp.get_data(as_text=True)


def test_the_office_launches_a_campaign_and_sees_it_in_its_phase(world):
    office = world.client("jia")
    resp = post(office, "/campaigns/new", {
        "name": "优化营商环境专项行动", "lead_office": "区纪委", "starts_on": "2026-03-01", "ends_on": "2026-06-30",
        "phase-1-name": "动员部署", "phase-1-starts_on": "2026-03-01", "phase-1-ends_on": "2026-03-31",
        "phase-2-name": "集中整治", "phase-2-starts_on": "2026-04-01", "phase-2-ends_on": "2026-06-30",
        "categories": ["办事效率低"], "idem": "launch-1"})
    assert resp.status_code == 302
    page = text(office.get(resp.location))
    assert "优化营商环境专项行动" in page and "第一阶段：动员部署" in page and "当前阶段" in page
    world.carry()
    assert "优化营商环境专项行动" in text(office.get("/campaigns"))


def test_a_phase_out_of_order_is_shown_on_the_row_it_was_typed_in(world):
    office = world.client("jia")
    resp = post(office, "/campaigns/new", {
        "name": "专项行动", "lead_office": "区纪委", "starts_on": "2026-03-01", "ends_on": "2026-06-30",
        "phase-1-name": "第一段", "phase-1-starts_on": "2026-03-01", "phase-1-ends_on": "2026-04-30",
        "phase-3-name": "第二段", "phase-3-starts_on": "2026-04-15", "phase-3-ends_on": "2026-07-31"})
    html = text(resp)
    assert resp.status_code == 422
    # intake names the second phase sent (phases.1); the form shows it on row 3, where it was typed
    assert "第2阶段与上一阶段重叠或顺序颠倒" in field_error(html, "f-phase-3")
    assert "超出活动期限" in field_error(html, "f-phase-3") and not field_error(html, "f-phase-1")
    assert 'value="第二段"' in html                                   # what was typed stays


def test_the_office_revises_a_plan_from_its_form_and_a_finished_phase_moved_is_refused_on_its_row(world):
    office = world.client("jia")
    path = f"/campaigns/{world.campaign}/revise"
    form = text(office.get(path))
    assert 'value="分项推进、全面实施阶段"' in form and 'value="2026-10-31"' in form       # the plan as it stands
    moved = post(office, path, {**_plan_fields(), "phase-1-ends_on": "2026-02-27", "reason": "改期"})
    assert moved.status_code == 422 and "已于2026-02-28结束" in field_error(text(moved), "f-phase-1")
    no_reason = post(office, path, _plan_fields(second_ends="2026-11-15"))
    assert no_reason.status_code == 422 and field_error(text(no_reason), "f-reason")
    done = post(office, path, {**_plan_fields(second_ends="2026-11-15"), "reason": "区委办发〔2026〕5号：推进阶段延期"})
    assert done.status_code == 302
    page = text(office.get(done.location))
    assert "方案调整记录" in page and "推进阶段延期" in page
    assert "/revise" not in text(world.client("bing").get(f"/campaigns/{world.campaign}"))   # the auditor reads
    assert world.client("bing").get(path).status_code == 403


def _plan_fields(second_ends: str = "2026-10-31") -> dict:
    plan = campaign_body()
    phases = [dict(p) for p in plan["phases"]]
    phases[1]["ends_on"], phases[2]["starts_on"] = second_ends, ("2026-11-16" if second_ends != "2026-10-31"
                                                                  else "2026-11-01")
    return {"name": plan["name"], "lead_office": plan["lead_office"], "starts_on": plan["starts_on"],
            "ends_on": plan["ends_on"], "categories": plan["categories"],
            **{f"phase-{n}-{k}": p[k] for n, p in enumerate(phases, 1) for k in ("name", "starts_on", "ends_on")}}


def test_a_task_without_the_five_haves_is_refused_naming_each_missing_have_next_to_its_field(world):
    office = world.client("jia")
    resp = post(office, "/tasks/new", {"title": "推进项目建设", "lead_unit": GOV, "campaign_id": world.campaign,
                                       "measures": "向上争项目", "idem": "five-haves"})
    html = text(resp)
    assert resp.status_code == 422
    assert "任务缺少“五有”中的：有工作目标、有责任主体、有监察评估、有完成时限，不能下达" in html
    assert field_error(html, "f-target") == "缺少工作目标（有工作目标）"
    assert field_error(html, "f-responsible_leader") == "缺少责任领导（有责任主体）"
    assert field_error(html, "f-monitor") == "缺少监察评估（有监察评估）"
    assert field_error(html, "f-deadline") == "缺少完成时限（有完成时限）"
    assert not field_error(html, "f-measures") and "向上争项目" in html


def test_milestones_out_of_date_order_are_refused_at_the_milestones(world):
    office = world.client("jia")
    body = {k: v for k, v in task_body(world.campaign).items() if isinstance(v, str)}
    resp = post(office, "/tasks/new", {**body, "milestone-1-name": "开工", "milestone-1-due": "2026-06-30",
                                       "milestone-2-name": "立项", "milestone-2-due": "2026-04-30"})
    assert resp.status_code == 422 and field_error(text(resp), "f-milestones") == "节点须按日期先后排列"


def _issued(world, milestone: tuple[str, str] | None = ("储备项目包装", "2026-05-29"), **overrides) -> str:
    """A task issued through the console's form (with cooperating units and one milestone unless told)."""
    office = world.client("jia")
    body = {k: v for k, v in task_body(world.campaign, **overrides).items() if isinstance(v, (str, int))}
    cooperating = overrides.get("cooperating_units", [DEV])
    resp = post(office, "/tasks/new", {**body, "cooperating_units": cooperating,
                                       **({"milestone-1-name": milestone[0], "milestone-1-due": milestone[1]}
                                          if milestone else {})})
    assert resp.status_code == 302, text(resp)
    return resp.location.rsplit("/", 1)[1]


def forms_on(html: str) -> list[str]:
    """The command forms a page offers, by their accessible names."""
    return re.findall(r'<form method="post" action="[^"]*/do/[^"]*"[^>]*aria-label="([^"]+)"', html)


def test_each_role_is_offered_only_the_task_commands_intake_allows_it(world):
    task_id = _issued(world)
    lead, cooperating, office = world.client("yi"), world.client("ding"), world.client("jia")
    assert forms_on(text(lead.get(f"/tasks/{task_id}"))) == ["报告进展", "报告节点完成", "报告完成"]
    assert forms_on(text(cooperating.get(f"/tasks/{task_id}"))) == ["报告进展"]
    office_page = text(office.get(f"/tasks/{task_id}"))
    assert forms_on(office_page) == ["撤销", "报告进展", "报告节点完成", "报告完成"]
    assert "代责任单位办理" in office_page
    auditor_page = text(world.client("bing").get(f"/tasks/{task_id}"))
    assert forms_on(auditor_page) == [] and "有工作目标" in auditor_page


def test_the_lead_unit_reports_completion_with_evidence_and_the_office_signs_it_off(world):
    task_id = _issued(world, title="清理拖欠企业账款")
    lead = world.client("yi")
    summary = "清欠台账".encode() * 30
    resp = post(lead, f"/tasks/{task_id}", {"note": "已全部清偿", "idem": "done-1",
                                            "evidence": (io.BytesIO(summary), "清欠台账.pdf", "application/pdf")},
                action=f"/tasks/{task_id}/do/report_completion", content_type="multipart/form-data")
    assert resp.status_code == 302
    page = text(lead.get(f"/tasks/{task_id}"))
    assert "已报完成" in page and forms_on(page) == []
    link = re.search(r'href="(/tasks/[^"]+/files/[^"]+)">清欠台账.pdf<', page).group(1)
    office = world.client("jia")
    assert office.get(link).data == summary and world.client("bing").get(link).data == summary
    assert world.client("ding").get(link).data == summary           # the cooperating unit reads it too
    assert forms_on(text(office.get(f"/tasks/{task_id}"))) == ["销号", "退回重办", "撤销"]
    done = post(office, f"/tasks/{task_id}", {"comment": "同意销号"}, action=f"/tasks/{task_id}/do/sign_off")
    assert done.status_code == 302
    world.carry()
    page = text(office.get(f"/tasks/{task_id}"))
    assert "已销号" in page and "任务销号" in page                   # the ledger's timeline names the step
    figures = text(office.get(f"/campaigns/{world.campaign}"))
    signed = re.search(r'<span class="n">(\d+)</span>已销号任务', figures)
    assert signed and int(signed.group(1)) >= 1


def test_a_form_decided_on_an_older_state_says_the_tasks_state_now(world):
    task_id = _issued(world, title="规范涉企检查")
    office = world.client("jia")
    stale = text(office.get(f"/tasks/{task_id}"))
    world.api("POST", f"/v1/tasks/{task_id}/cancel", {"reason": "并入其他任务"}, status=200)
    resp = office.post(f"/tasks/{task_id}/do/report_progress",
                       data={"note": "召开推进会", "version": re.search(r'name="version" value="(\d+)"', stale).group(1),
                             "csrf_token": token(stale)})
    html = text(resp)
    assert resp.status_code == 409 and "已被他人修改" in html
    assert '<span class="status">已撤销</span>' in html and forms_on(html) == []      # the page as it is now
    sign_off = office.post(f"/tasks/{_issued(world, title='清理证明事项')}/do/sign_off", data={"csrf_token": token(stale)})
    assert sign_off.status_code == 409 and "任务当前状态为“推进中”，不能销号" in text(sign_off)


def test_a_unit_cannot_read_another_units_task_nor_the_offices_pages(world):
    task_id = _issued(world, title="优化审批流程", lead_unit=FIN, cooperating_units=[])
    unit = world.client("yi")
    resp = unit.get(f"/tasks/{task_id}")
    assert resp.status_code == 403 and "无权访问" in text(resp) and "优化审批流程" not in text(resp)
    for path in ("/campaigns", "/campaigns/new", "/tasks", "/tasks/new", "/task-imports", "/projects", "/lookbacks",
                 "/project-types"):
        assert unit.get(path).status_code == 403, path


def test_my_tasks_groups_a_units_tasks_by_what_needs_doing(world):
    late = _issued(world, milestone=None, title="补齐证照", deadline="2026-03-20")
    world.day("2026-03-25")
    try:
        world.carry()
        html = text(world.client("yi").get("/my/tasks"))
        overdue = html[html.index('id="t-overdue"'):html.index('id="t-sent_back"')]
        assert "补齐证照" in overdue and "已超期" in overdue
        assert "配合办理" not in overdue
        assert "补齐证照" not in html[html.index('id="t-to_report"'):]
        cooperating = text(world.client("ding").get("/my/tasks"))
        assert "补齐证照" in cooperating and "配合办理（牵头：区政府办）" in cooperating
    finally:
        world.day("2026-03-02")
    assert late


def _project(world, stage_units: dict[str, str]) -> str:
    world.api("PUT", "/v1/project-types/政府投资项目", {"stages": STAGES}, status=200)
    return world.api("POST", "/v1/projects", {"name": "城南污水处理厂", "owner": "区城投公司",
                                              "project_type": "政府投资项目", "stage_units": stage_units},
                     status=201)["project_id"]


def test_a_unit_records_only_its_own_stages_and_a_future_day_is_refused_next_to_the_date(world):
    project_id = _project(world, {"lixiang": GOV, "yongdi": FIN})
    world.carry()
    unit = world.client("yi")
    mine = text(unit.get("/my/stages"))
    assert "城南污水处理厂" in mine and "立项" in mine and "用地" not in mine
    assert re.findall(r'aria-label="(进入阶段：[^"]+)"', mine) == ["进入阶段：立项"]
    page = text(unit.get(f"/projects/{project_id}"))
    assert re.findall(r'aria-label="((?:进入|办结)阶段：[^"]+)"', page) == ["进入阶段：立项"]
    action = f"/projects/{project_id}/do/enter_stage"
    future = post(unit, "/my/stages", {"stage": "lixiang", "on": "2026-03-09", "back": "/my/stages"}, action=action)
    assert future.status_code == 422
    assert field_error(text(future), f"{project_id}-lixiang-enter_stage") == "不能晚于今天"
    assert set(re.findall(r'name="back" value="([^"]*)"', text(future))) == {"/my/stages"}    # corrected, back there
    entered = post(unit, "/my/stages", {"stage": "lixiang", "back": "/my/stages"}, action=action)
    assert entered.status_code == 302 and entered.location == "/my/stages"
    world.carry()
    again = text(unit.get("/my/stages"))
    assert re.findall(r'aria-label="((?:进入|办结)阶段：[^"]+)"', again) == ["办结阶段：立项"]
    assert "应于2026-03-09前办结" in again
    office = world.client("jia")
    assert re.findall(r'aria-label="((?:进入|办结)阶段：[^"]+)"', text(office.get(f"/projects/{project_id}"))) == [
        "办结阶段：立项", "进入阶段：用地"]


def test_a_project_without_an_approving_unit_for_each_stage_is_refused_naming_the_stages(world):
    world.api("PUT", "/v1/project-types/政府投资项目", {"stages": STAGES}, status=200)
    office = world.client("jia")
    page = text(office.get("/projects/new?project_type=政府投资项目"))
    assert "立项：审批责任单位" in page and "用地：审批责任单位" in page
    resp = post(office, "/projects/new?project_type=政府投资项目", {
        "project_type": "政府投资项目", "name": "城北学校", "owner": "区教育局", "unit-lixiang": DEV})
    assert resp.status_code == 422 and "yongdi" in field_error(text(resp), "f-stage_units")


def test_a_project_type_is_set_with_its_stages_and_a_bad_stage_code_is_shown_on_its_row(world):
    office = world.client("jia")
    assert field_error(text(post(office, "/project-types", {"stage-1-name": "立项"})), "f-name") == "此项必填"
    bad = post(office, "/project-types", {"name": "社会投资项目", "stage-1-name": "立项", "stage-1-key": "lixiang",
                                          "stage-1-limit_days": "3", "stage-2-name": "开工", "stage-2-key": "开工",
                                          "stage-2-limit_days": "2"})
    assert bad.status_code == 422 and field_error(text(bad), "f-stage-2") and not field_error(text(bad), "f-stage-1")
    done = post(office, "/project-types", {"name": "社会投资项目", "stage-1-name": "立项", "stage-1-key": "lixiang",
                                           "stage-1-limit_days": "3"})
    assert done.status_code == 302 and "社会投资项目" in text(office.get("/project-types"))


def test_a_look_back_draws_and_a_tasks_rebound_needs_its_category_then_opens_a_linked_case(world):
    task_id = _issued(world, milestone=None, title="整治窗口推诿")
    world.api("POST", f"/v1/tasks/{task_id}/report-completion", {"note": "完成"}, headers=bearer("unit", unit=GOV),
              status=200)
    world.api("POST", f"/v1/tasks/{task_id}/sign-off", {}, status=200)
    world.carry()
    office = world.client("jia")
    resp = post(office, "/lookbacks", {"title": "整治回头看", "ratio": "100", "kinds": ["task"], "unit": GOV})
    assert resp.status_code == 302, text(resp)
    page = text(office.get(resp.location))
    assert "整治回头看" in page and "核查中" in page
    drawn = re.findall(r'name="id" value="([^"]+)"', page)
    assert task_id in drawn
    action = resp.location + "/findings"
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    refused = post(office, resp.location, {"id": task_id, "outcome": "rebounded", "note": "窗口推诿又出现",
                                           "version": version}, action=action)
    assert refused.status_code == 422
    index = drawn.index(task_id) + 1
    assert "必填" in field_error(text(refused), f"f-category-{index}")
    for item in drawn:
        body = {"id": item, "outcome": "held", "note": "巩固"} if item != task_id else {
            "id": item, "outcome": "rebounded", "note": "窗口推诿又出现", "category": "推诿扯皮"}
        assert post(office, resp.location, body, action=action).status_code == 302
    page = text(office.get(resp.location))
    assert "已完成" in page and "反弹新建案件" in page
    case_id = re.search(r'反弹新建案件：<a href="/cases/([^"]+)"', page).group(1)
    assert world.api("GET", f"/v1/cases/{case_id}")["channel"] == "lookback"
    assert forms_on(page) == [] and 'action="' + action not in page


def test_the_office_sees_duplicate_suggestions_and_dismisses_one_that_is_another_matter(world):
    place = {"address": "区政务服务中心二楼不动产登记窗口"}
    first = world.api("POST", "/v1/cases", {
        "channel": "hotline", "category": "推诿扯皮", "subject_unit": GOV, "location": place,
        "description": "到区政务服务中心二楼不动产登记窗口办理不动产登记，窗口说要先去别的部门开证明，来回跑了5趟都没办成。"},
        status=201)["case_id"]
    second = world.api("POST", "/v1/cases", {
        "channel": "hotline", "category": "推诿扯皮", "subject_unit": GOV, "location": place,
        "description": "我办不动产登记被推来推去，跑了5趟，窗口让找别的部门开证明。"}, status=201)
    world.carry()
    office = world.client("jia")
    page = text(office.get(f"/cases/{first}"))
    assert "并单建议" in page and second["case_number"] in page and "被反映单位相同（区政府办）" in page
    assert re.search(r"相似度 \d+%", page)
    resp = post(office, f"/cases/{first}", {"candidate_case_id": second["case_id"], "score": "0.5",
                                            "reason": "另一次办理"}, action=f"/cases/{first}/do/dismiss_duplicate")
    assert resp.status_code == 302
    world.carry()
    assert second["case_number"] not in text(office.get(f"/cases/{first}"))
    again = post(office, f"/cases/{first}", {"candidate_case_id": second["case_id"]},
                 action=f"/cases/{first}/do/dismiss_duplicate")
    assert again.status_code == 422 and "该并单建议已排除" in text(again)
    assert 'id="h-suggestions"' not in text(world.client("bing").get(f"/cases/{first}"))


def test_a_case_joins_a_campaign_chosen_by_name(world):
    case_id = world.api("POST", "/v1/cases", {"channel": "hotline", "category": "办事效率低", "subject_unit": GOV,
                                              "description": "项目审批超时限"}, status=201)["case_id"]
    office = world.client("jia")
    page = text(office.get(f"/cases/{case_id}"))
    assert re.search(r'<option value="' + re.escape(world.campaign) + r'"\s*>机关效能—项目建设年</option>', page)
    assert post(office, f"/cases/{case_id}", {"campaign_id": world.campaign},
                action=f"/cases/{case_id}/do/set_campaign").status_code == 302
    assert world.api("GET", f"/v1/cases/{case_id}")["campaign_id"] == world.campaign
    assert "专项行动</dt><dd><a" in text(office.get(f"/cases/{case_id}"))
    world.carry()
    number = world.api("GET", f"/v1/cases/{case_id}")["case_number"]
    assert number in text(office.get(f"/cases?campaign={world.campaign}"))       # the ledger list's filter
    assert number not in text(office.get("/cases?campaign=campaign-none"))
    left = post(office, f"/cases/{case_id}", {"campaign_id": ""}, action=f"/cases/{case_id}/do/set_campaign")
    assert left.status_code == 302 and world.api("GET", f"/v1/cases/{case_id}")["campaign_id"] is None


def test_the_auditor_reads_every_campaign_page_and_is_offered_no_form(world):
    auditor = world.client("bing")
    signed = _issued(world, milestone=None, title="规范中介服务")
    world.api("POST", f"/v1/tasks/{signed}/report-completion", {"note": "完成"}, headers=bearer("unit", unit=GOV),
              status=200)
    world.api("POST", f"/v1/tasks/{signed}/sign-off", {}, status=200)
    world.carry()
    checking = world.api("POST", "/v1/lookbacks", {"title": "审计前抽查", "ratio": 1, "kinds": ["task"]}, status=201)
    lookbacks = [f"/lookbacks/{checking['lookback_id']}"]          # drawn, its findings still to record
    paths = ["/campaigns", f"/campaigns/{world.campaign}", "/tasks", f"/tasks/{signed}", "/projects", "/project-types",
             "/approval-times", "/lookbacks", *lookbacks]
    for path in paths:
        resp = auditor.get(path)
        html = text(resp)
        assert resp.status_code == 200, path
        assert not re.search(r'<form method="post"(?! action="/logout")', html), path
    assert auditor.get("/campaigns/new").status_code == 403 and auditor.get("/tasks/new").status_code == 403


def test_a_task_table_is_dry_run_as_a_table_before_it_is_imported(world):
    from .. import seed004
    office = world.client("jia")
    for unit in seed004.UNITS:
        world.api("POST", "/v1/directory/units", {"name": unit, "kind": "government_department",
                                                  "supervising_channel": "区纪委"}, status=200)
    broken = seed004.workbook(seed004.rows(**{"5": {"监察评估": "", "推进措施": ""}}))
    resp = post(office, "/task-imports", {"campaign_id": world.campaign, "mode": "dry_run",
                                          "file": (io.BytesIO(broken), "任务清单.xlsx")}, content_type="multipart/form-data")
    html = text(resp)
    assert resp.status_code == 200 and "预检结果" in html and "共 12 行：可导入 11，有误 1" in html
    assert "推进措施：" in html and "监察评估：" in html


def test_a_unit_officer_never_sees_a_complainant_on_the_campaign_pages_only_the_masked_summary(world):
    """docs/PRIVACY.md: a unit reads complaint text only masked. A lead in the campaign names its complainant in
    its own words; the office's campaign page shows the case's text as written, but no page the unit officer
    can open — its tasks, its approval stages, a project, the task's page, the case itself — shows who
    complained: the case page gives the masked summary, the campaign's pages are not the unit's to read."""
    name, phone = "欧阳明远", "13807391234"
    case_id = world.api("POST", "/v1/cases", {
        "channel": "hotline", "category": "办事效率低", "subject_unit": GOV, "campaign_id": world.campaign,
        "complainant": {"name": name, "phone": phone},
        "description": f"来信人{name}反映：区政府办窗口推诿，材料交了三次仍不受理，回电{phone}。"}, status=201)["case_id"]
    world.api("POST", f"/v1/cases/{case_id}/assign", {"lead_unit": GOV, "handling_mode": "deadline"}, status=200)
    task_id = _issued(world, milestone=None, title="窗口推诿专项整治")
    project_id = _project(world, {"lixiang": GOV, "yongdi": GOV})
    world.carry()
    assert name in text(world.client("jia").get(f"/campaigns/{world.campaign}"))    # the office reads as written
    unit = world.client("yi")
    for path in ("/my", "/my/tasks", "/my/stages", f"/tasks/{task_id}", f"/projects/{project_id}", "/approval-times",
                 f"/cases/{case_id}", f"/campaigns/{world.campaign}", "/campaigns", f"/tasks?campaign={world.campaign}",
                 f"/lookbacks?campaign_id={world.campaign}"):
        html = text(unit.get(path))
        assert name not in html and "明远" not in html and phone not in html, path
    case_page = text(unit.get(f"/cases/{case_id}"))
    assert "来信人某某反映：区政府办窗口推诿" in case_page and "〔电话已隐去〕" in case_page


def nav(html: str) -> list[tuple[str, str]]:
    """The main navigation's links: (path, text)."""
    menu = html[html.index('<nav aria-label="主导航">'):]
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', menu[:menu.index("</nav>")])


@pytest.mark.parametrize("login, campaign_pages", [
    ("jia", ["专项行动", "任务", "重点项目", "回头看"]), ("bing", ["专项行动", "任务", "重点项目", "回头看"]),
    ("yi", ["我的任务", "审批事项"])])
def test_each_role_finds_the_campaign_pages_it_may_use_in_its_navigation_and_each_link_opens(world, login,
                                                                                               campaign_pages):
    """(This world runs intake and the ledger only: the links to notify's and audit's pages are not followed.)"""
    person = world.client(login)
    links = {name: path for path, name in nav(text(person.get("/campaigns" if login != "yi" else "/my/tasks")))}
    assert [name for name in links if name in campaign_pages] == campaign_pages
    for name in campaign_pages:
        assert person.get(links[name]).status_code == 200, (login, name, links[name])
    if login == "yi":
        assert not {"专项行动", "任务", "重点项目", "回头看"} & set(links)


def test_a_form_whose_version_is_not_a_number_is_no_server_error(world):
    """The hidden `version` of a case's or a look-back's form, altered (a broken page, a hand-made request):
    answered like a form without one, never a 500 (found by fuzzing the console's forms)."""
    case_id = world.api("POST", "/v1/cases", {"channel": "hotline", "category": "办事效率低", "subject_unit": GOV,
                                              "description": "窗口办事慢"}, status=201)["case_id"]
    office = world.client("jia")
    for version in ("assigned", "2026-02-30", "-1", "１"):
        resp = post(office, f"/cases/{case_id}", {"reason": "重办", "version": version},
                    action=f"/cases/{case_id}/do/order_rework")
        assert resp.status_code < 500, (version, resp.status_code)
    resp = post(office, "/lookbacks", {"id": "x", "outcome": "held", "note": "巩固", "version": "immediate"},
                action="/lookbacks/lookback-none/findings")
    assert resp.status_code < 500


@pytest.mark.parametrize("idem", ["\u202e", " ", "重办一次", "k" * 300, "a b"])
def test_a_form_whose_key_a_header_cannot_carry_is_still_one_command(world, idem):
    """The hidden `idem` altered into what an HTTP header cannot carry: the command is sent under the key's
    SHA-256, once however often the form is sent, instead of a 500 (or a 503 blaming intake)."""
    case_id = world.api("POST", "/v1/cases", {"channel": "hotline", "category": "办事效率低", "subject_unit": GOV,
                                              "description": "窗口办事慢"}, status=201)["case_id"]
    office = world.client("jia")
    body = {"idem": idem, "summary": "窗口办事慢（摘要）"}
    for _ in range(2):
        resp = post(office, f"/cases/{case_id}", body, action=f"/cases/{case_id}/do/correct_summary")
        assert resp.status_code == 302, (resp.status_code, text(resp)[:300])
    assert world.api("GET", f"/v1/cases/{case_id}")["version"] == 2         # received, then corrected once


@pytest.mark.parametrize("ratio", ["nan", "1e309", "-inf"])
def test_a_share_that_is_not_a_finite_number_is_named_on_the_form(world, ratio):
    """NaN and infinity parse as floats but JSON cannot carry them: the look-back's ratio comes back as the
    form's error (422, in Chinese) instead of a 503 that blamed intake."""
    office = world.client("jia")
    resp = post(office, "/lookbacks", {"title": "回头看", "ratio": ratio, "kinds": "case"})
    assert resp.status_code == 422, (resp.status_code, text(resp)[:300])
    resp = post(office, "/directory", {"recheck_ratio": ratio, "sign_for_days": "3"}, action="/directory/limits")
    assert resp.status_code < 500, (resp.status_code, text(resp)[:300])
