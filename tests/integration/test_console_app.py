"""The console's Flask app on the real PostgreSQL (its own schema and role), without the other services:
logging in and out, CSRF on every form, the 403 page, forced password change, idle sessions, cookie flags."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from console.adapters.passwords import Hasher
from console.adapters.repository import UnitOfWork
from console.entrypoints.http import create_app
from console.service_layer import accounts as handlers
from zfcommon.clock import Clock

from ..conftest import fresh_database, service_urls, settings_for

pytestmark = pytest.mark.integration
PASSWORD = "Danwei-2026-ok"


class Ticking(Clock):
    """A clock the test moves forward."""

    def __init__(self):
        self.offset = timedelta()

    def now(self):
        return super().now() + self.offset


@pytest.fixture(scope="module")
def console_url(pg):
    """One database for the module (the tests use different accounts): migrations run once."""
    return service_urls(fresh_database(pg))["console"]


@pytest.fixture(scope="module")
def app(console_url):
    app = create_app(settings_for("console", console_url, bootstrap="", console_secret_key="k" * 32,
                                  intake_url="http://127.0.0.1:9", ledger_url="http://127.0.0.1:9",
                                  notify_url="http://127.0.0.1:9", audit_url="http://127.0.0.1:9"))
    app.extensions["zf_clock"] = Ticking()
    pool = app.extensions["zf_pool"]
    hasher = Hasher()
    now = app.extensions["zf_clock"].now()
    for login, role, unit in (("jia", "office", None), ("yi", "unit", "县住建局"), ("bing", "auditor", None)):
        with UnitOfWork(pool) as u:
            handlers.create_account(u, hasher, "office:setup", now, login=login, display_name=login, role=role, unit=unit)
        with UnitOfWork(pool) as u:
            u.store.update_account(login, password_hash=hasher.hash(PASSWORD), must_change_password=False)
            u.commit()
    yield app
    pool.close()


@pytest.fixture(autouse=True)
def now_again(app):
    app.extensions["zf_clock"].offset = timedelta()


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, name: str, password: str = PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"login": name, "password": password, "csrf_token": token(page)})


def test_pages_need_a_login_and_a_login_opens_a_session(app):
    client = app.test_client()
    resp = client.get("/accounts")
    assert resp.status_code == 302 and resp.location.startswith("/login?next=/accounts")
    assert login(client, "jia").status_code == 302
    assert client.get("/accounts").status_code == 200


def test_a_login_form_without_its_csrf_token_is_refused(app):
    client = app.test_client()
    client.get("/login")
    resp = client.post("/login", data={"login": "jia", "password": PASSWORD})
    assert resp.status_code == 400 and "缺少安全校验信息" in resp.get_data(as_text=True)
    assert client.get("/accounts").status_code == 302          # no session was opened


def test_a_form_without_its_csrf_token_changes_nothing(app):
    client = app.test_client()
    login(client, "jia")
    resp = client.post("/accounts/new", data={"login": "ding", "display_name": "丁", "role": "auditor"})
    assert resp.status_code == 400 and "请求无效" in resp.get_data(as_text=True)
    with UnitOfWork(app.extensions["zf_pool"]) as u:
        assert u.store.account("ding") is None
    page = client.get("/accounts/new").get_data(as_text=True)
    made = client.post("/accounts/new", data={"login": "ding", "display_name": "丁", "role": "auditor",
                                              "csrf_token": token(page)})
    assert made.status_code == 200 and "账号已开通" in made.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/dashboard", "/accounts", "/cases/new", "/directory", "/integrations", "/trail"])
def test_a_unit_officer_gets_the_403_page_for_the_offices_pages(app, path):
    client = app.test_client()
    login(client, "yi")
    resp = client.get(path)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 403 and "无权访问" in body and "Forbidden" not in body


def test_an_auditor_cannot_change_accounts(app):
    client = app.test_client()
    login(client, "bing")
    assert client.get("/accounts/activity").status_code == 200
    page = client.get("/accounts/activity").get_data(as_text=True)
    assert client.post("/accounts/yi/disable", data={"csrf_token": token(page)}).status_code == 403


def test_a_new_account_must_change_its_first_password_before_anything_else(app):
    client = app.test_client()
    with UnitOfWork(app.extensions["zf_pool"]) as u:
        first = handlers.create_account(u, Hasher(), "office:jia", app.extensions["zf_clock"].now(), login="geng",
                                        display_name="庚", role="auditor")
    assert login(client, "geng", first).location == "/password"
    assert client.get("/trail").location == "/password"
    page = client.get("/password").get_data(as_text=True)
    weak = client.post("/password", data={"current": first, "new": "short", "repeat": "short", "csrf_token": token(page)})
    assert weak.status_code == 422 and "密码至少10位" in weak.get_data(as_text=True)
    done = client.post("/password", data={"current": first, "new": "Shenji-2026-ok", "repeat": "Shenji-2026-ok",
                                          "csrf_token": token(page)})
    assert done.status_code == 302 and client.get("/accounts/activity").status_code == 200


def test_an_idle_session_ends_and_the_login_page_says_why(app):
    client = app.test_client()
    login(client, "jia")
    app.extensions["zf_clock"].offset = timedelta(minutes=31)
    resp = client.get("/accounts")
    assert resp.status_code == 302 and "why=idle" in resp.location
    assert "长时间未操作" in client.get(resp.location).get_data(as_text=True)


def test_logging_out_ends_the_session_on_the_server(app):
    client = app.test_client()
    login(client, "jia")
    cookie = client.get_cookie("zf_console").value
    page = client.get("/accounts").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": token(page)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("zf_console", cookie)           # the old cookie, still validly signed
    assert replay.get("/accounts").status_code == 302


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_over_https(app):
    plain = login(app.test_client(), "jia").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    client = app.test_client()
    page = client.get("/login", base_url="https://console.example").get_data(as_text=True)
    secure = client.post("/login", base_url="https://console.example", headers={"Referer": "https://console.example/login"},
                         data={"login": "jia", "password": PASSWORD, "csrf_token": token(page)}).headers["Set-Cookie"]
    assert "Secure" in secure


def test_a_service_that_cannot_be_reached_is_a_chinese_error_page(app):
    client = app.test_client()
    login(client, "jia")
    resp = client.get("/dashboard")
    assert resp.status_code == 503 and "服务暂时不可用" in resp.get_data(as_text=True)
