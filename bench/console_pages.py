"""The console's busiest pages at scale: p50/p95 of the office's dashboard and ledger list over N synthetic
cases on the ledger (default 100,000).

    .venv/bin/python bench/console_pages.py [--rows N] [--repeat R]

Starts its own PostgreSQL (embedded, random port, scratch folder), applies every migration as `zf migrate`
does and bulk-loads N cases into ledger.cases (bench/ledger_data.py). The ledger and intake apps serve over
real HTTP on loopback (werkzeug, threaded), as the console calls them under `zf up`; the console's own app
is timed through Flask's test client, logged in as an office account, one page at a time, rendering the
whole HTML. Each figure is also given as a ratio to an anchor measured in the same run: the console's login
page (a template, no service call). Aim (issue 10): p95 <= 300 ms for the dashboard and the ledger list.
Benchmarks are never assertions: the exit status is 0 whatever the figures.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import threading
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_data import CATEGORIES, TODAY, UNITS, loaded_ledger  # noqa: E402
from ledger_queries import print_report, timed  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from console.adapters.passwords import Hasher  # noqa: E402
from console.adapters.repository import UnitOfWork  # noqa: E402
from console.entrypoints.http import create_app as console_app  # noqa: E402
from console.service_layer import accounts  # noqa: E402
from intake.entrypoints.http import create_app as intake_app  # noqa: E402
from ledger.entrypoints.http import create_app as ledger_app  # noqa: E402
from zfcommon import db  # noqa: E402
from zfcommon.devstack.ports import free_port  # noqa: E402
from zfcommon.settings import SERVICES, Settings  # noqa: E402

SECRET = "bench-secret-with-enough-bytes-for-hs256"
CONTACT_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
AIM_P95_MS = 300.0
PASSWORD = "Bench-office-2026"


def serve(app) -> tuple[str, Callable[[], None]]:
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server.shutdown


def settings(service: str, url: str, **extra) -> Settings:
    return Settings(service=service, database_url=url, kafka_bootstrap_servers="" if service == "console" else
                    "127.0.0.1:1", jwt_algorithm="HS256", jwt_secret=SECRET, contact_key=CONTACT_KEY, log_level="WARNING", **extra)


def logged_in(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"login": "bench", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302 and resp.location == "/", resp.get_data(as_text=True)[:300]
    return client


def workloads() -> dict[str, Callable[[random.Random], tuple[str, dict, dict]]]:
    page, fragment = {}, {"HX-Request": "true"}       # htmx asks for the table alone
    return {
        "anchor: login page": lambda r: ("/login", {}, page),
        "dashboard": lambda r: ("/dashboard", {}, page),
        "ledger list, first page": lambda r: ("/cases", {}, page),
        "ledger list, by status": lambda r: ("/cases", {"status": r.choice(["in_progress", "assigned", "closed"])}, page),
        "ledger list, by unit": lambda r: ("/cases", {"unit": r.choice(UNITS)}, page),
        "ledger list, category": lambda r: ("/cases", {"category": r.choice(CATEGORIES)}, page),
        "ledger list, overdue": lambda r: ("/cases", {"overdue": "true"}, page),
        "ledger list, due within 3": lambda r: ("/cases", {"due_within": "3"}, page),
        "ledger list, htmx table only": lambda r: ("/cases", {"status": "in_progress"}, fragment),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    stops: list[Callable[[], None]] = []
    with loaded_ledger(args.rows) as (admin_url, passwords):
        try:
            url = {s: db.service_url(admin_url, s, passwords[s]) for s in SERVICES}
            ledger = ledger_app(settings("ledger", url["ledger"]), today=lambda: TODAY)
            intake = intake_app(settings("intake", url["intake"]))
            (ledger_url, stop_ledger), (intake_url, stop_intake) = serve(ledger), serve(intake)
            stops += [stop_ledger, stop_intake]
            console = console_app(settings("console", url["console"], console_secret_key="b" * 32,
                                           ledger_url=ledger_url, intake_url=intake_url,
                                           notify_url="http://127.0.0.1:9", audit_url="http://127.0.0.1:9"))
            with UnitOfWork(console.extensions["zf_pool"]) as u:
                u.store.insert_account(accounts.Account("bench", "基准测试", "office", password_hash=Hasher().hash(PASSWORD),
                                                        must_change_password=False), "bench", console.extensions["zf_clock"].now())
                u.commit()
            report(logged_in(console), args.repeat)
            for app in (console, ledger, intake):
                app.extensions["zf_pool"].close()
        finally:
            for stop in stops:
                stop()
    return 0


def report(client, repeat: int) -> None:
    rng = random.Random(11)
    print_report("page", ((name, timed(client, make, repeat, rng))
                          for name, make in workloads().items()), 0.95, AIM_P95_MS)


if __name__ == "__main__":
    raise SystemExit(main())
