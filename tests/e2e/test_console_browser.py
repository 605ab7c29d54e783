"""The console (工作台) in a real browser against the real running system: `zf up` (every service under
gunicorn, the console among them), a real local OpenID provider for single sign-on, and Debian's Chromium
driven by Playwright. One stack and one browser for the whole module; each test is one person's story,
found by roles and labels as a screen reader would, with a screenshot per step under test-artifacts/console/
and axe-core run on every page (no serious or critical violation).

The main path runs in file order: the office receives and assigns a lead → the unit officer signs for it and
reports it rectified with an uploaded file, on a phone → the office closes it → the auditor finds every step
in the trail and sees an event's inclusion proof verified in the page. Then a campaign's main path: the office
launches a campaign and issues a task → the unit officer, on a phone, reports it done with a file → the office
signs it off and the campaign counts it; the page sweeps (axe at 1366 and 390 px, the campaign pages among
them; the auditor's without a form). Then the refusals: a wrong password and the lockout, a form without its
CSRF token, another unit's case URL, and single sign-on.
"""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from zfcommon.auth import issue_token
from zfcommon.devstack.ports import free_port

from ..support import eventually
from .conftest import running_system
from .test_public_page_browser import CHROMIUM, FLAGS, _fontconfig, browser_ready  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "console"
UNIT, OTHER_UNIT = "县自然资源局", "县住建局"
COMPLAINANT = {"name": "王建华", "phone": "13807395678"}
DESKTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
SSO_USER = {"sub": "sso-liming", "claims": {"groups": ["zfb-staff"], "preferred_username": "liming",
                                            "name": "李明"}}


@pytest.fixture(scope="module")
def oidc():
    """A real OpenID provider on this machine (oidc-provider-mock), with one province user."""
    from oidc_provider_mock import User, run_server_in_thread
    with run_server_in_thread(port=free_port(), require_nonce=True,
                              user_claims=[User(sub=SSO_USER["sub"], claims=SSO_USER["claims"])]) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def system(tmp_path_factory, oidc):
    home = tmp_path_factory.mktemp("console-zf")
    with running_system(home, ZF_OIDC_ISSUER=oidc, ZF_OIDC_CLIENT_ID="zhengfeng-console",
                        ZF_OIDC_CLIENT_SECRET="console-secret", ZF_OIDC_ROLE_MAP="zfb-staff=office",
                        ZF_CONSOLE_LOCKOUT_ATTEMPTS="3") as running:
        office = {"Authorization": f"Bearer {issue_token(running.signing_key, 'office', 'setup')}"}
        for name in (UNIT, OTHER_UNIT):
            r = requests.post(running.url("intake", "/v1/directory/units"), headers=office, timeout=10, json={
                "name": name, "kind": "government_department", "supervising_channel": "县监察局"})
            assert r.status_code == 200, r.text
        yield running


@pytest.fixture(scope="module")
def browser(browser_ready, tmp_path_factory):  # noqa: F811
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS,
                                      env=_fontconfig(tmp_path_factory.mktemp("fonts")))
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def story() -> dict:
    """What one step of the main path leaves for the next (the case, the people)."""
    return {}


class Person:
    """One person at one browser window: logs in, moves between pages, and checks each page as it comes."""

    def __init__(self, browser, system, viewport, name: str):
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=system.url("console", ""))
        self.page = self.context.new_page()
        self.name, self.shots = name, 0

    def check(self, step: str) -> None:
        """A screenshot, Chinese text in a zh-CN page, no raw English problem, no serious accessibility issue."""
        page = self.page
        page.wait_for_load_state()
        self.shots += 1
        page.screenshot(path=str(SHOTS / f"{self.name}-{self.shots:02d}-{step}.png"), full_page=True)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "Internal Server Error" not in body
        page.add_script_tag(url="/static/axe.min.js")   # the vendored copy, same origin (the CSP allows it)
        # WCAG 2.1 A and AA, the level CONTRACTS.md and GB/T 37668-2019 ask for.
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', "
                               "values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
                   if v["impact"] in ("serious", "critical")]
        assert not serious, f"{step}: {serious}"

    def login(self, login: str, password: str) -> None:
        self.page.goto("/")
        self.page.get_by_label("登录名").fill(login)
        self.page.get_by_label("密码", exact=True).fill(password)
        self.page.get_by_role("button", name="登录").click()

    def change_password(self, current: str, new: str) -> None:
        page = self.page
        expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
        page.get_by_label("当前密码").fill(current)
        page.get_by_label(re.compile(r"^新密码")).fill(new)
        page.get_by_label("确认新密码").fill(new)
        page.get_by_role("button", name="保存新密码").click()

    def close(self) -> None:
        self.context.close()


def first_password(system) -> str:
    return json.loads((system.home / "secrets.json").read_text())["console_first_password"]


def create_account(office: Person, login: str, name: str, role: str, unit: str | None = None) -> str:
    """The office opens an account under 账号管理; the first password is shown once."""
    page = office.page
    page.get_by_role("link", name="账号管理", exact=True).click()
    page.get_by_role("link", name="开通账号").click()
    page.get_by_label("登录名").fill(login)
    page.get_by_label("姓名").fill(name)
    page.get_by_label("角色").select_option(role)
    if unit:
        page.get_by_label("所属单位（责任单位账号必选）").select_option(unit)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name="账号已开通")).to_be_visible()
    return page.locator(".secret").nth(1).inner_text().strip()


def wait_for_status(person: Person, case_url: str, status: str) -> None:
    """The ledger projects events a moment after intake stores them: reload until it shows `status`."""
    def shown():
        person.page.goto(case_url)
        return person.page.locator("h1 .status").inner_text() == status
    eventually(shown, timeout=30, interval=0.5)


def report_with_a_file(person: Person, command: str, text: tuple[str, str], file: tuple[str, Path], step: str) -> None:
    """Open a command's form, write its text, attach one file, and send it: the page says it is done."""
    page = person.page
    page.get_by_text(command, exact=True).first.click()
    form = page.get_by_role("form", name=command)
    form.get_by_label(text[0]).fill(text[1])
    form.get_by_label(file[0]).set_input_files(str(file[1]))
    person.check(step)
    form.get_by_role("button", name=command).click()
    expect(page.get_by_text(f"已{command}").first).to_be_visible()


def test_office_receives_a_lead_and_assigns_it_with_a_deadline_preview(browser, system, story):
    office = Person(browser, system, DESKTOP, "office")
    page = office.page
    office.login("admin", first_password(system))
    office.check("first-login")
    office.change_password(first_password(system), "Zfb-office-2026")
    expect(page.get_by_role("heading", name=re.compile("今日工作"))).to_be_visible()
    office.check("dashboard")
    story["unit_password"] = create_account(office, "zhangsan", "张三", "unit", UNIT)
    story["other_password"] = create_account(office, "lisi", "李四", "unit", OTHER_UNIT)
    story["auditor_password"] = create_account(office, "wangshen", "王审", "auditor")
    story["second_office_password"] = create_account(office, "zhaoliu", "赵六", "office")
    office.check("account-created")

    page.get_by_role("link", name="受理登记", exact=True).click()
    page.get_by_label("来源渠道").select_option("hotline")
    page.get_by_label("问题类别").select_option("推诿扯皮")
    page.get_by_label("被反映单位").select_option(UNIT)
    page.get_by_label("问题描述").fill("不动产登记窗口以系统故障为由推诿，不一次性告知所需材料")
    page.get_by_label("姓名").fill(COMPLAINANT["name"])
    page.get_by_label("联系电话").fill(COMPLAINANT["phone"])
    office.check("receive-form")
    page.get_by_role("button", name="受理").click()
    expect(page.get_by_text("线索已受理登记")).to_be_visible()
    story["case_url"] = case_url = page.url
    story["case_id"] = case_url.rsplit("/", 1)[1]
    # The receipt the office reads out to the complainant: the case number and its 查询码.
    story["receipt"] = re.search(r"案件编号 (\S+)，查询码 (\d{8})", page.get_by_text("线索已受理登记").inner_text()).groups()
    wait_for_status(office, case_url, "已受理")
    office.check("case-received")
    page.get_by_role("link", name="打印受理回执").click()          # for the complainant at the counter
    expect(page.get_by_text(story["receipt"][1])).to_be_visible()
    office.check("receipt")
    page.goto(case_url)

    page.get_by_text("交办", exact=True).first.click()
    assign = page.get_by_role("form", name="交办")
    assign.get_by_label("牵头单位").select_option(UNIT)
    assign.get_by_label("处置方式").select_option("deadline")
    preview = page.locator("#preview-assign")
    eventually(lambda: "工作日，整改时限为" in preview.inner_text(), timeout=10)
    office.check("assign-preview")
    assign.get_by_role("button", name="交办").click()
    expect(page.get_by_text("已交办").first).to_be_visible()
    wait_for_status(office, case_url, "已交办")
    office.check("case-assigned")

    # The complainant appears only on an explicit reveal, which is recorded.
    assert COMPLAINANT["name"] not in page.content()
    page.get_by_label("查看事由").fill("核实举报内容")
    page.get_by_role("button", name=re.compile("查看举报人信息")).click()
    expect(page.get_by_text(COMPLAINANT["phone"])).to_be_visible()
    office.check("complainant-revealed")
    page.goto(case_url)       # shown once; the reveal itself is on the record, with its reason
    assert COMPLAINANT["phone"] not in page.content()
    expect(page.get_by_role("cell", name="核实举报内容")).to_be_visible()
    office.close()


def test_unit_officer_signs_for_a_case_and_reports_it_rectified_on_a_phone(browser, system, story, tmp_path):
    officer = Person(browser, system, PHONE, "unit")
    page = officer.page
    officer.login("zhangsan", story["unit_password"])
    officer.change_password(story["unit_password"], "Danwei-2026-ok")
    expect(page.get_by_role("heading", name=re.compile("我的案件"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("待签收（1）"))).to_be_visible()
    officer.check("my-cases")

    page.locator("#g-sign_for").locator("..").get_by_role("link").first.click()
    assert page.url == story["case_url"]
    officer.check("case")
    page.get_by_text("签收", exact=True).first.click()
    page.get_by_role("form", name="签收").get_by_role("button", name="签收").click()
    expect(page.get_by_text("已签收").first).to_be_visible()
    wait_for_status(officer, story["case_url"], "整改中")

    evidence = tmp_path / "整改后窗口照片.png"
    evidence.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    report_with_a_file(officer, "报送整改报告", ("报告内容", "已对窗口人员批评教育，落实一次性告知制度，张贴办事指南。"),
                       ("附件", evidence), "report-form")
    wait_for_status(officer, story["case_url"], "已报整改")
    link = page.get_by_role("link", name="整改后窗口照片.png")
    expect(link).to_be_visible()
    assert page.request.get(link.get_attribute("href")).body() == evidence.read_bytes()
    officer.check("reported")

    page.goto("/my/weekly")
    page.get_by_label(re.compile("零报告")).check()
    page.get_by_role("button", name="报送").click()
    expect(page.get_by_text("零报告已报送")).to_be_visible()
    officer.check("zero-report")

    page.goto("/my/quarterly")
    page.get_by_label("本季度工作开展情况").fill("本季度整治窗口推诿问题，落实一次性告知制度。")
    page.get_by_label("下季度工作打算").fill("开展整改“回头看”")
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.get_by_text("季度工作情况已报送")).to_be_visible()
    expect(page.get_by_role("button", name="更正报送")).to_be_visible()
    officer.check("quarterly-report")

    page.goto("/my/enforcement")            # 执法监督短信评议: the party will be asked by SMS
    page.get_by_label("执法监督事项").fill("窗口服务现场检查")
    page.get_by_label(re.compile("执法监督人员")).fill("张卫东 43000012")
    page.get_by_label("对象手机号码").fill("13512345678")
    page.get_by_role("button", name="登记并发送评价短信").click()
    expect(page.get_by_text("已登记，系统将向执法监督对象发送评价短信")).to_be_visible()
    expect(page.get_by_text("135****5678")).to_be_visible()
    officer.check("enforcement")
    assert "13512345678" not in page.content()

    for path in ("/my", story["case_url"], "/my/notices", "/my/weekly", "/my/quarterly", "/my/enforcement"):
        page.goto(path)
        content = page.content()
        assert COMPLAINANT["name"] not in content and COMPLAINANT["phone"] not in content, path
    assert not page.get_by_role("button", name=re.compile("查看举报人")).count()
    officer.close()


def test_office_closes_the_rectified_case(browser, system, story):
    office = Person(browser, system, DESKTOP, "office-close")
    page = office.page
    office.login("admin", "Zfb-office-2026")
    page.goto(story["case_url"])
    page.get_by_text("销号", exact=True).first.click()
    page.get_by_role("form", name="销号").get_by_role("button", name="销号").click()
    expect(page.get_by_text("已销号").first).to_be_visible()
    wait_for_status(office, story["case_url"], "已销号")
    office.check("closed")
    page.goto("/cases")
    office.check("ledger-list")
    office.close()


def test_the_complainant_tracks_the_closed_case_on_the_public_page(browser, system, story):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(system.url("notify", "/public/"))
    number, code = story["receipt"]
    page.get_by_label(re.compile("受理回执号")).fill(number)
    page.get_by_label(re.compile("查询码")).fill(code)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text("已办结")).to_be_visible()
    expect(page.get_by_text("落实一次性告知制度")).to_be_visible()       # the unit's reply, once closed
    content = page.content()
    assert COMPLAINANT["name"] not in content and COMPLAINANT["phone"] not in content and UNIT not in content
    page.screenshot(path=str(SHOTS / "public-track.png"), full_page=True)
    context.close()


def test_two_office_users_publish_a_typical_case_and_a_monthly_bulletin_four_eyes(browser, system, story):
    """Select → redact (preview) → approve by the other user → publish, for an exposure and a bulletin."""
    first, second = Person(browser, system, DESKTOP, "publish-a"), Person(browser, system, DESKTOP, "publish-b")
    first.login("admin", "Zfb-office-2026")
    second.login("zhaoliu", story["second_office_password"])
    second.change_password(story["second_office_password"], "Zfb-second-2026")
    page = first.page
    page.goto("/exposures")
    page.get_by_label("案件ID").fill(story["case_id"])
    page.get_by_label("标题").fill("县自然资源局不动产登记窗口推诿")
    page.get_by_label("警示点评").fill("窗口单位要落实一次性告知制度。")
    page.get_by_role("button", name="选定").click()
    expect(page.get_by_text("已选定曝光案例")).to_be_visible()
    exposure_url = page.url
    page.get_by_label("需去除的词句（每行一条）").fill("系统故障")
    page.get_by_role("button", name="脱敏并预览").click()
    expect(page.get_by_text("脱敏后预览")).to_be_visible()
    first.check("exposure-redacted")
    page.get_by_role("button", name=re.compile("审核通过")).click()
    expect(page.get_by_text("脱敏人不能审核自己脱敏的文本")).to_be_visible()       # four eyes
    second.page.goto(exposure_url)
    second.page.get_by_role("button", name=re.compile("审核通过")).click()
    expect(second.page.get_by_text("已审核通过")).to_be_visible()
    page.goto(exposure_url)
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_text("已发布").first).to_be_visible()
    first.check("exposure-published")

    month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page.goto("/bulletins")
    page.get_by_label(re.compile("月份")).fill(month)
    page.get_by_role("button", name="起草").click()
    expect(page.get_by_text("月通报已起草")).to_be_visible()
    second.page.goto(page.url)
    second.page.get_by_label("审核意见").select_option("approved")
    second.page.get_by_role("button", name="提交审核").click()
    expect(second.page.get_by_text("审核意见已保存")).to_be_visible()
    page.reload()
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_text("月通报已发布")).to_be_visible()
    pdf = page.request.get(page.get_by_role("link", name="下载PDF").get_attribute("href"))
    assert pdf.status == 200 and pdf.body()[:4] == b"%PDF"
    first.close()
    second.close()


def test_auditor_finds_every_step_in_the_trail_and_sees_an_inclusion_proof_verified(browser, system, story):
    auditor = Person(browser, system, DESKTOP, "auditor")
    page = auditor.page
    auditor.login("wangshen", story["auditor_password"])
    auditor.change_password(story["auditor_password"], "Shenji-2026-ok")
    page.goto(f"/trail?subject={story['case_id']}")
    expected = [("受理", "正风办 admin"), ("交办", "正风办 admin"), ("签收", "责任单位 zhangsan"),
                ("报送整改报告", "责任单位 zhangsan"), ("销号", "正风办 admin")]

    def steps():
        page.goto(f"/trail?subject={story['case_id']}")
        rows = page.locator("tbody tr").all()
        return [(r.locator("td").nth(2).inner_text(), r.locator("td").nth(3).inner_text()) for r in rows]
    names = {step for step, _ in expected}
    eventually(lambda: [row for row in steps() if row[0] in names] == expected, timeout=30, interval=1)
    auditor.check("trail")

    page.get_by_role("link", name=re.compile("包含证明")).last.click()
    result = page.locator("[data-result]")

    def signed():      # the signer covers a new leaf within about a second
        if page.locator("[data-inclusion-proof]").count():
            return True
        page.reload()
    eventually(signed, timeout=20, interval=1)
    eventually(lambda: "已在浏览器中验证" in result.inner_text(), timeout=10)
    assert "ok" in result.get_attribute("class")
    auditor.check("proof-verified")
    for path, name in (("/trail/log", "tree-head"), ("/trail/reconciliation", "reconciliation"),
                       (f"/trail/cases/{story['case_id']}/as-of", "as-of"), ("/accounts/activity", "activity"),
                       (story["case_url"], "case")):
        page.goto(path)
        auditor.check(name)
    assert page.request.get("/trail/bundle.tar").status == 200
    auditor.close()


def test_office_runs_a_campaign_whose_task_a_unit_officer_reports_done_on_a_phone(browser, system, story, tmp_path):
    """The campaign's main path: the office launches a campaign with dated phases and issues a task with the
    five haves to a unit → the unit officer, on a phone, reports it done with a file → the office signs it off
    (销号) → the campaign's page counts it among its signed-off tasks."""
    today = date.today()
    office = Person(browser, system, DESKTOP, "campaign-office")
    page = office.page
    office.login("admin", "Zfb-office-2026")
    page.get_by_role("link", name="专项行动", exact=True).click()
    page.get_by_role("link", name="发起专项行动").click()
    launch = page.get_by_role("form", name="发起专项行动")
    launch.get_by_label(re.compile("^名称")).fill("优化营商环境专项行动")
    launch.get_by_label("牵头机关").fill("县纪委监委")
    launch.get_by_label("开始日期").fill(str(today - timedelta(days=10)))
    launch.get_by_label("结束日期").fill(str(today + timedelta(days=90)))
    for n, name, starts, ends in ((1, "动员部署", -10, 20), (2, "集中整治", 21, 90)):
        launch.get_by_label(f"第{n}阶段名称").fill(name)
        launch.get_by_label(f"第{n}阶段开始").fill(str(today + timedelta(days=starts)))
        launch.get_by_label(f"第{n}阶段结束").fill(str(today + timedelta(days=ends)))
    office.check("campaign-form")
    launch.get_by_role("button", name="发起").click()
    expect(page.get_by_role("heading", name="优化营商环境专项行动")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("动员部署.*当前阶段"))).to_be_visible()   # today's phase
    story["campaign_url"] = page.url
    office.check("campaign-launched")

    page.get_by_role("link", name="下达任务").click()
    issue = page.get_by_role("form", name="下达任务")
    expect(issue.get_by_label("专项行动")).to_have_value(story["campaign_url"].rsplit("/", 1)[1])
    issue.get_by_label("任务名称").fill("窗口一次性告知制度落实")
    issue.get_by_label("工作目标").fill("不动产登记窗口全面落实一次性告知")
    issue.get_by_label("牵头单位").select_option(UNIT)
    issue.get_by_label("责任领导").fill("分管副县长")
    issue.get_by_label("推进措施").fill("公开办事指南，开展窗口作风暗访")
    issue.get_by_label("监察评估").fill("县纪委监委")
    issue.get_by_label("完成时限").fill(str(today + timedelta(days=30)))
    issue.get_by_role("button", name="下达").click()
    expect(page.get_by_text("任务已下达")).to_be_visible()
    story["task_url"] = task_url = page.url
    office.check("task-issued")

    officer = Person(browser, system, PHONE, "campaign-unit")
    phone = officer.page
    officer.login("zhangsan", "Danwei-2026-ok")
    phone.get_by_role("link", name="我的任务", exact=True).click()

    def listed():             # the ledger projects the task a moment after intake stores it
        phone.reload()
        return phone.locator("#t-to_report").locator("..").get_by_role("link", name="窗口一次性告知制度落实").count()
    eventually(listed, timeout=30, interval=0.5)
    officer.check("my-tasks")
    phone.locator("#t-to_report").locator("..").get_by_role("link", name="窗口一次性告知制度落实").click()
    assert phone.url == task_url
    evidence = tmp_path / "一次性告知清单.pdf"
    evidence.write_bytes(b"%PDF-1.4\n" + "一次性告知清单".encode() * 20)
    report_with_a_file(officer, "报告完成", ("完成情况", "办事指南已公开，窗口人员已培训，暗访未再发现推诿。"),
                       ("佐证材料", evidence), "task-report-form")
    link = phone.get_by_role("link", name="一次性告知清单.pdf").first
    assert phone.request.get(link.get_attribute("href")).body() == evidence.read_bytes()
    officer.check("task-reported")
    officer.close()

    page.goto(task_url)
    page.get_by_text("销号", exact=True).first.click()
    page.get_by_role("form", name="销号").get_by_role("button", name="销号").click()
    expect(page.get_by_role("heading", name=re.compile("已销号"))).to_be_visible()
    office.check("task-signed-off")

    def counted():
        page.goto(story["campaign_url"])
        figure = page.locator(".cards li", has_text="已销号任务").locator(".n")
        return figure.count() and figure.inner_text() == "1"
    eventually(counted, timeout=30, interval=0.5)
    office.check("campaign-figures")
    office.close()


def campaign_pages(system, story) -> dict[str, str]:
    """A key project (its stages approved by the unit) and a look-back drawn over the signed-off task, set
    up through the APIs, so that every campaign page has something to show in the sweeps below."""
    if "project_url" not in story:
        office = system.headers("office")
        requests.put(system.url("intake", "/v1/project-types/政府投资项目"), headers=office, timeout=10, json={
            "stages": [{"key": "lixiang", "name": "立项", "limit_days": 5},
                       {"key": "yongdi", "name": "用地", "limit_days": 10}]}).raise_for_status()
        project = requests.post(system.url("intake", "/v1/projects"), headers=office, timeout=10, json={
            "name": "县城南污水处理厂", "owner": "县城投公司", "project_type": "政府投资项目",
            "stage_units": {"lixiang": UNIT, "yongdi": UNIT}})
        project.raise_for_status()
        lookback = requests.post(system.url("intake", "/v1/lookbacks"), headers=office, timeout=10, json={
            "title": "营商环境回头看", "ratio": 1, "kinds": ["task"],
            "campaign_id": story["campaign_url"].rsplit("/", 1)[1]})
        assert lookback.status_code == 201, lookback.text
        story["project_url"] = f"/projects/{project.json()['project_id']}"
        story["lookback_url"] = f"/lookbacks/{lookback.json()['lookback_id']}"
    return {k: story[k] for k in ("campaign_url", "task_url", "project_url", "lookback_url")}


def test_every_office_page_is_in_chinese_and_accessible_at_office_and_phone_width(browser, system, story):
    made = campaign_pages(system, story)
    appraisal = requests.post(system.url("notify", "/v1/appraisals"), headers=system.headers("office"), timeout=10,
                              json={"period": "2026"})
    assert appraisal.status_code in (201, 409), appraisal.text          # 409: opened by an earlier run of the page
    office_pages = ("/dashboard", "/cases", "/cases/new", "/appraisals", "/appraisals/2026", f"/cases/{story['case_id']}/as-of", "/directory",
                    "/directory/settings", "/imports", "/inspections", "/points", "/weekly", "/quarterly", "/letters",
                    "/bulletins", "/enforcement",
                    "/exposures", "/integrations", "/accounts", "/accounts/new", "/accounts/activity", "/trail",
                    "/trail/log", "/trail/reconciliation", "/campaigns", "/campaigns/new", "/tasks", "/tasks/new",
                    "/task-imports", "/projects", "/projects/new?project_type=政府投资项目", "/project-types",
                    "/approval-times", "/lookbacks", *made.values(), made["campaign_url"] + "/revise")
    named = {url: key.removesuffix("_url") for key, url in made.items()} | {made["campaign_url"] + "/revise": "revise"}
    # Every page at an office PC's 1366 px; at 390 px those an office user opens on the move (the unit
    # officer's pages are checked at 390 px in their own story and below).
    for viewport, name, paths in ((DESKTOP, "pages", office_pages),
                                  (PHONE, "pages-phone", ("/dashboard", "/cases", "/cases/new", story["case_url"],
                                                          "/campaigns", made["campaign_url"], made["task_url"]))):
        office = Person(browser, system, viewport, name)
        office.login("admin", "Zfb-office-2026")
        for path in paths:
            answer = office.page.goto(path)
            assert answer.status == 200, path
            office.check("case" if path == story["case_url"] else "as-of" if "as-of" in path else named.get(path)
                         or path.strip("/").split("?")[0].replace("/", "-"))
        office.close()


def test_a_unit_officers_task_and_approval_pages_are_accessible_on_a_phone(browser, system, story):
    made = campaign_pages(system, story)
    officer = Person(browser, system, PHONE, "unit-pages")
    officer.login("zhangsan", "Danwei-2026-ok")
    for path, step in (("/my/tasks", "my-tasks"), (made["task_url"], "task"), ("/my/stages", "my-stages"),
                       (made["project_url"], "project"), ("/approval-times", "approval-times")):
        answer = officer.page.goto(path)
        assert answer.status == 200, path
        officer.check(step)
    assert officer.page.goto(made["campaign_url"]).status == 403
    officer.close()


def test_the_auditor_reads_every_campaign_page_without_a_form_to_act(browser, system, story):
    made = campaign_pages(system, story)
    named = {url: key.removesuffix("_url") for key, url in made.items()}
    auditor = Person(browser, system, DESKTOP, "auditor-campaigns")
    auditor.login("wangshen", "Shenji-2026-ok")
    for path in ("/campaigns", "/tasks", "/projects", "/project-types", "/approval-times", "/lookbacks",
                 *made.values()):
        answer = auditor.page.goto(path)
        assert answer.status == 200, path
        if path in named:        # the lists are the office's, checked above, without their forms
            auditor.check(named[path])
        actions = auditor.page.locator("main form[method=post]")     # filters (GET) only
        assert actions.count() == 0, f"{path}: {actions.first.get_attribute('aria-label')}"
    auditor.close()


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(browser, system, story):
    person = Person(browser, system, DESKTOP, "lockout")
    page = person.page
    person.login("lisi", "not-the-password-1")
    expect(page.get_by_text("登录名或密码错误")).to_be_visible()
    person.check("wrong-password")
    for _ in range(2):      # ZF_CONSOLE_LOCKOUT_ATTEMPTS=3 for this stack
        person.login("lisi", "not-the-password-1")
    expect(page.get_by_text(re.compile("账号已暂时锁定"))).to_be_visible()
    person.login("lisi", story["other_password"])
    expect(page.get_by_text(re.compile("账号已暂时锁定"))).to_be_visible()     # even the right password now
    person.check("locked")
    person.close()


def test_a_form_posted_without_its_csrf_token_is_refused(browser, system, story):
    office = Person(browser, system, DESKTOP, "csrf")
    page = office.page
    office.login("admin", "Zfb-office-2026")
    page.goto("/cases/new")
    page.evaluate("() => document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_label("来源渠道").select_option("petition")
    page.get_by_label("问题类别").select_option("推诿扯皮")
    page.get_by_label("被反映单位").select_option(UNIT)
    page.get_by_label("问题描述").fill("不应受理：表单缺少安全令牌")
    page.get_by_role("button", name="受理").click()
    expect(page.get_by_role("heading", name="请求无效")).to_be_visible()
    expect(page.get_by_text("缺少安全校验信息")).to_be_visible()
    office.check("csrf-refused")
    office.close()
    office_token = {"Authorization": f"Bearer {issue_token(system.signing_key, 'office', 'check')}"}
    listed = requests.get(system.url("ledger", "/v1/cases"), params={"q": "表单缺少安全令牌"}, headers=office_token,
                          timeout=10).json()["items"]
    assert listed == []


def test_a_unit_officer_who_types_another_units_case_url_gets_403(browser, system, story):
    token = {"Authorization": f"Bearer {issue_token(system.signing_key, 'office', 'setup')}"}
    other = requests.post(system.url("intake", "/v1/cases"), headers=token, timeout=10, json={
        "channel": "tipoff", "category": "吃拿卡要", "description": "施工许可审批中索要好处", "subject_unit": OTHER_UNIT}).json()
    requests.post(system.url("intake", f"/v1/cases/{other['case_id']}/assign"), headers=token, timeout=10,
                  json={"lead_unit": OTHER_UNIT, "handling_mode": "deadline"}).raise_for_status()
    officer = Person(browser, system, PHONE, "unit-403")
    page = officer.page
    officer.login("zhangsan", "Danwei-2026-ok")
    answer = page.goto(f"/cases/{other['case_id']}")
    assert answer.status == 403
    expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
    assert "施工许可审批中索要好处" not in page.content()
    officer.check("other-unit-403")
    assert page.goto("/dashboard").status == 403 and page.goto("/accounts").status == 403
    officer.close()


def test_single_sign_on_through_the_provinces_identity_platform(browser, system, oidc):
    person = Person(browser, system, DESKTOP, "sso")
    page = person.page
    page.goto("/")
    person.check("login-page")
    page.get_by_role("link", name="使用统一身份认证登录").click()
    assert page.url.startswith(oidc)
    page.get_by_role("button", name=SSO_USER["sub"]).click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    expect(page.get_by_text("李明（正风办）")).to_be_visible()
    person.check("sso-dashboard")
    page.goto("/accounts")
    expect(page.get_by_role("cell", name="liming （统一身份认证）")).to_be_visible()
    person.close()
