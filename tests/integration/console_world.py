"""The console's Flask app in front of intake's and the ledger's real apps (served over HTTP on this
machine, one fresh database on the session's PostgreSQL, a clock in a file): what a Flask test-client test of
a console page needs to see real answers and real refusals. The ledger is brought up to date by `carry`."""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from werkzeug.serving import make_server

from console.adapters.passwords import Hasher
from console.adapters.repository import UnitOfWork
from console.entrypoints.http import create_app as console_app
from console.service_layer import accounts as handlers
from intake.entrypoints.http import create_app as intake_app
from ledger.entrypoints.http import create_app as ledger_app
from notify.entrypoints.http import create_app as notify_app

from ..conftest import fresh_database, service_urls, settings_for
from ..support import bearer, carry

PASSWORD = "Zfb-console-2026"


class World:
    """intake and the ledger on real ports, the console in front; `client(login)` is a logged-in browser."""

    def __init__(self, urls: dict[str, str], apps: dict, console, clock: Path):
        self.urls, self.apps, self.console, self.clock = urls, apps, console, clock

    def day(self, day: str) -> None:
        self.clock.write_text(f"{day}T09:00:00+08:00")

    def carry(self) -> None:
        carry(self.urls)

    def api(self, method: str, path: str, body=None, headers=None, status: int | None = None):
        """intake straight, as the office (or `headers`), for what a test sets up."""
        resp = self.apps["intake"].test_client().open(path, method=method, json=body, headers=headers or bearer("office"))
        assert status is None or resp.status_code == status, (path, resp.status_code, resp.get_data(as_text=True))
        return resp.json

    def account(self, login: str, role: str, unit: str | None = None) -> None:
        pool, hasher, now = self.console.extensions["zf_pool"], Hasher(), self.console.extensions["zf_clock"].now()
        with UnitOfWork(pool) as u:
            handlers.create_account(u, hasher, "office:setup", now, login=login, display_name=login, role=role, unit=unit)
        with UnitOfWork(pool) as u:
            u.store.update_account(login, password_hash=hasher.hash(PASSWORD), must_change_password=False)
            u.commit()

    def client(self, login: str):
        client = self.console.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert client.post("/login", data={"login": login, "password": PASSWORD,
                                           "csrf_token": token(page)}).status_code == 302
        return client


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def text(page) -> str:
    """A page's text as a reader sees it: tags dropped, white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))


def _serve(app) -> tuple[object, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@contextmanager
def console_world(pg, clock: Path, day: str = "2026-03-02", notify: bool = False) -> Iterator[World]:
    """`notify`: notify's app too (else the console's notify is an address nobody answers)."""
    clock.write_text(f"{day}T09:00:00+08:00")
    urls = service_urls(fresh_database(pg))
    ledger = ledger_app(settings_for("ledger", urls["ledger"], clock_file=str(clock)))
    ledger_server, ledger_url = _serve(ledger)
    intake = intake_app(settings_for("intake", urls["intake"], clock_file=str(clock), ledger_url=ledger_url))
    intake_server, intake_url = _serve(intake)
    apps, servers = {"intake": intake, "ledger": ledger}, [intake_server, ledger_server]
    notify_url = "http://127.0.0.1:9"
    if notify:
        apps["notify"] = notify_app(settings_for("notify", urls["notify"], clock_file=str(clock), ledger_url=ledger_url,
                                                 intake_url=intake_url))
        notify_server, notify_url = _serve(apps["notify"])
        servers.append(notify_server)
    console = console_app(settings_for("console", urls["console"], bootstrap="", console_secret_key="k" * 32,
                                       clock_file=str(clock), intake_url=intake_url, ledger_url=ledger_url,
                                       notify_url=notify_url, audit_url="http://127.0.0.1:9"))
    try:
        yield World(urls, apps, console, clock)
    finally:
        for server in servers:
            server.shutdown()
        for app in (console, *apps.values()):
            app.extensions["zf_pool"].close()
