"""The public page in a real browser: `zf up` (notify under gunicorn), a complaint that quotes its
author, exposed by the office (selected, redacted, approved by a second user, published); then headless
Chromium, driven by Playwright, reads /public/ with JavaScript off, sees the Chinese headings, follows
the link to the exposure, finds the feeds the page announces, and a screenshot is kept.

Chromium is Debian's (/usr/bin/chromium: `apt-get install chromium`; .ci/run installs it). Without it
the test is skipped, saying so, unless ZF_REQUIRE_BROWSER=1 (CI sets it), which turns that into a failure.
The page's Chinese is drawn with the Noto Sans CJK font the project already installs from PyPI
(noto-cjk-sans-otc), handed to Chromium through a fontconfig file: no system font is needed.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from zfcommon.auth import issue_token

from ..support import complaint, eventually
from .conftest import running_system

pytestmark = pytest.mark.e2e
CHROMIUM = os.environ.get("ZF_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--disable-quic"]


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements.lock)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser_ready() -> None:
    missing = _browser_missing()
    if missing and os.environ.get("ZF_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ZF_REQUIRE_BROWSER=1 but {missing}")
    if missing:
        pytest.skip(missing)


def _fontconfig(folder: Path) -> dict[str, str]:
    """An environment in which Chromium's fontconfig knows the project's Noto Sans CJK as well."""
    from importlib.resources import files
    fonts = str(files("noto_cjk_sans_otc"))
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
                    f"  <dir>{fonts}</dir>\n  <cachedir>{folder / 'fc-cache'}</cachedir>\n</fontconfig>\n")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def _publish_an_exposure(system) -> dict:
    office = lambda who: {"Authorization": f"Bearer {issue_token(system.signing_key, 'office', who)}"}  # noqa: E731
    r = requests.post(system.url("intake", "/v1/cases"), headers=office("alice"), timeout=10, json=complaint(
        description="本人李建国，电话13807391234。县不动产登记窗口工作人员以系统故障为由推诿，不一次性告知所需材料。",
        complainant={"name": "李建国", "phone": "13807391234"}))
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    notify = lambda path: system.url("notify", path)  # noqa: E731
    eventually(lambda: requests.get(notify(f"/v1/watch/{case_id}"), headers=office("alice"), timeout=5).ok, timeout=60)
    exp = requests.post(notify("/v1/exposures"), headers=office("alice"), timeout=10, json={
        "case_id": case_id, "title": "县自然资源局不动产登记窗口推诿扯皮", "category": "推诿扯皮",
        "lesson": "窗口单位要落实一次性告知制度，杜绝推诿扯皮。"}).json()
    for path, who in (("redaction", "alice"), ("approve", "bob"), ("publish", "alice")):
        r = requests.post(notify(f"/v1/exposures/{exp['id']}/{path}"), json={}, timeout=30,
                          headers={**office(who), "Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 200, r.text
    return r.json()


def test_the_public_page_in_headless_chromium(browser_ready, tmp_path):
    from playwright.sync_api import sync_playwright

    (tmp_path / "zf").mkdir()
    with running_system(tmp_path / "zf") as system:
        published = _publish_an_exposure(system)
        home = system.url("notify", "/public/")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS,
                                         env=_fontconfig(tmp_path))
            try:
                # No JavaScript: the page is complete as the server renders it.
                page = browser.new_context(java_script_enabled=False, locale="zh-CN").new_page()
                assert page.goto(home).status == 200
                assert page.locator("html").get_attribute("lang") == "zh-CN"
                assert page.locator("h1").inner_text() == "正风台账公开信息"
                assert page.get_by_role("heading", level=2).all_inner_texts()[:2] == ["典型案例曝光", "工作通报与热线办理情况公布"]
                page.screenshot(path=str(tmp_path / "public-index.png"), full_page=True)

                feeds = {link.get_attribute("type"): link.get_attribute("href")
                         for link in page.locator('head link[rel="alternate"]').all()}
                assert set(feeds) == {"application/atom+xml", "application/rss+xml", "application/feed+json"}
                for kind, href in feeds.items():
                    answer = page.request.get(urljoin(page.url, href))
                    assert answer.status == 200 and answer.headers["content-type"].startswith(kind), href
                    assert published["published"]["title"] in answer.text()
                assert page.get_by_role("link", name="Atom 订阅源").get_attribute("href") == feeds["application/atom+xml"]

                page.get_by_role("link", name="县自然资源局不动产登记窗口推诿扯皮").click()
                page.wait_for_load_state()
                assert page.url.endswith(published["public_url"])
                assert page.locator("h1").inner_text() == "县自然资源局不动产登记窗口推诿扯皮"
                body = page.locator("main").inner_text()
                assert "警示点评" in body and "窗口单位要落实一次性告知制度" in body
                assert "李建国" not in page.content() and "13807391234" not in page.content()
                page.screenshot(path=str(tmp_path / "public-exposure.png"), full_page=True)

                page.get_by_role("link", name="返回公开信息首页").click()
                assert page.locator("h1").inner_text() == "正风台账公开信息"

                page.get_by_role("link", name="执法监督人员公示").click()      # 公述民评 (seed 001)
                page.wait_for_load_state()
                assert page.locator("h1").inner_text() == "公述民评：执法监督人员公示"
                assert "暂无单位公示执法监督人员" in page.locator("main").inner_text()
            finally:
                browser.close()
    for shot in ("public-index.png", "public-exposure.png"):
        assert (tmp_path / shot).stat().st_size > 5000, shot
