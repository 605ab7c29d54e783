"""The four services' Flask apps on one fresh database of the session's PostgreSQL, for tests that
call every service in process (the role matrix, the input checks, the OpenAPI fuzzing)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask

from audit.entrypoints.http import create_app as audit_app
from intake.entrypoints.http import create_app as intake_app
from ledger.entrypoints.http import create_app as ledger_app
from notify.entrypoints.http import create_app as notify_app

from ..conftest import fresh_database, service_urls, settings_for

FACTORIES = {"intake": intake_app, "ledger": ledger_app, "notify": notify_app, "audit": audit_app}


@contextmanager
def four_apps(pg, **extra) -> Iterator[tuple[dict[str, Flask], dict[str, str]]]:
    """(apps by service, each service's database URL); the pools are closed afterwards."""
    urls = service_urls(fresh_database(pg))
    apps = {name: make(settings_for(name, urls[name], **extra)) for name, make in FACTORIES.items()}
    try:
        yield apps, urls
    finally:
        for app in apps.values():
            app.extensions["zf_pool"].close()
