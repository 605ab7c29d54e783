"""intake's HTTP API: `gunicorn 'intake.entrypoints.http:create_app()'`."""
from __future__ import annotations

from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from zfcommon import db, jwks
from zfcommon.clock import clock_for
from zfcommon.settings import Settings
from zfcommon.streams import digests_blueprint
from zfcommon.web import create_base_app

from ..adapters.contacts import load_master_key
from ..adapters.ledger_client import LedgerClient
from . import campaigns, cases, clients, directory, files, hooks, imports, inspections, lookbacks, open311, projects, token


class OutboxBacklog(Collector):
    def __init__(self, pool):
        self.pool = pool

    def collect(self):
        with self.pool.connection(timeout=2) as conn:
            n = conn.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"]
        yield GaugeMetricFamily("zf_relay_backlog", "Stored events not yet acknowledged by the broker", value=n)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("intake")
    master_key = load_master_key(settings.contact_key)       # fail fast on a bad key, before any connection
    pool = db.make_pool(settings.database_url, max_size=4, name="intake")
    app, api = create_base_app(settings, title="Zhengfeng intake", pool=pool,
                               collectors=lambda: [OutboxBacklog(pool)])
    app.extensions["zf_master_key"] = master_key
    app.extensions["zf_clock"] = clock_for(settings.clock_file)
    app.extensions["zf_ledger"] = LedgerClient(settings.ledger_url, jwks.signer(settings))   # look-back candidates
    api.register_blueprint(cases.blp)
    api.register_blueprint(files.blp)
    api.register_blueprint(files.tasks_blp)
    api.register_blueprint(directory.blp)
    api.register_blueprint(digests_blueprint())   # GET /v1/streams/digests, for audit's reconciliation
    api.register_blueprint(hooks.blp)
    api.register_blueprint(clients.blp)
    api.register_blueprint(inspections.blp)
    api.register_blueprint(inspections.points_blp)
    api.register_blueprint(imports.blp)
    api.register_blueprint(open311.blp)
    for blueprint in (campaigns.blp, campaigns.tasks_blp, projects.blp, projects.types_blp, lookbacks.blp,
                      imports.tasks_blp):
        api.register_blueprint(blueprint)
    token.init_app(app, api)
    return app
