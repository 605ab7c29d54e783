"""ledger's HTTP API (the 台账 read side): `gunicorn 'ledger.entrypoints.http:create_app()'`."""
from __future__ import annotations

from datetime import date
from typing import Callable

from flask import Flask

from zfcommon import db, revocation
from zfcommon.clock import clock_for
from zfcommon.settings import Settings
from zfcommon.web import create_base_app
from zfcommon.workdays import local_date

from . import plans
from .cases import blp as cases_blp
from .reports import overdue_blp, stats_blp, summary_blp


def create_app(settings: Settings | None = None, *, today: Callable[[], date] | None = None) -> Flask:
    """`today` says which day overdue and due dates are judged on: by default China's date on the
    service clock (zfcommon.clock); tests pass a fixed one."""
    settings = settings or Settings.from_env("ledger")
    if today is None:
        clock = clock_for(settings.clock_file)
        today = lambda: local_date(clock.now())  # noqa: E731
    app, api = create_base_app(settings, title="Zhengfeng ledger (台账)",
                               pool=db.make_pool(settings.database_url, max_size=4, name="ledger"))
    revocation.install(app, settings)     # revoked clients' tokens refused here too, within seconds
    app.extensions["ledger_today"] = today
    for blueprint in (cases_blp, overdue_blp, stats_blp, summary_blp, *plans.BLUEPRINTS):
        api.register_blueprint(blueprint)
    return app
