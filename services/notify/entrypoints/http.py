"""notify's HTTP API: `gunicorn 'notify.entrypoints.http:create_app()'`."""
from __future__ import annotations

from flask import Flask, current_app
from flask.views import MethodView
from marshmallow import Schema, fields

from zfcommon import db, revocation
from zfcommon.blueprint import Blueprint
from zfcommon.problem import NotFound
from zfcommon.sealing import Envelope
from zfcommon.settings import Settings
from zfcommon.streams import digests_blueprint
from zfcommon.web import create_base_app

from ..adapters import repository
from ..domain import document, watch
from . import (appraisals, bulletins, disclosures, enforcement, escalations, exposures, interims, notices, public,
               publishing, reports, subscriptions)

blp = Blueprint("watch", __name__, url_prefix="/v1/watch", description="Cases notify is watching")


class Watched(Schema):
    case_id = fields.String(required=True)
    case_number = fields.Function(watch.case_number, metadata={"description": "the case's number (案件编号)"})
    status = fields.String(required=True)
    channel = fields.String(required=True)
    subject_unit = fields.String(required=True)
    priority = fields.String(required=True)
    received_at = fields.DateTime(required=True)
    version = fields.Integer(required=True)
    lead_unit = fields.String(allow_none=True)
    cooperating_units = fields.List(fields.String())
    origin = fields.Dict(allow_none=True, metadata={"description": "the source system's own reference"})


@blp.route("/<case_id>")
class WatchedCase(MethodView):
    @blp.roles("office", "auditor")
    @blp.response(200, Watched)
    def get(self, case_id):
        """What notify knows of a case (the basis of its reminders and escalations)."""
        with current_app.extensions["zf_pool"].connection() as conn:
            row = repository.get(conn, case_id)
        if row is None:
            raise NotFound(f"通知服务尚未收到案件 {case_id}", code="case.not_found")
        return row


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("notify")
    app, api = create_base_app(settings, title="Zhengfeng notify",
                               pool=db.make_pool(settings.database_url, max_size=4, name="notify"))
    revocation.install(app, settings)     # revoked clients' tokens refused here too, within seconds
    api.register_blueprint(blp)
    api.register_blueprint(subscriptions.blp)
    api.register_blueprint(subscriptions.callbacks)
    api.register_blueprint(escalations.config_blp)
    api.register_blueprint(escalations.blp)
    api.register_blueprint(escalations.letters_blp)
    app.extensions["zf_office"] = document.office_from(settings)     # a bad 文号 pattern stops the start
    # Webhook secrets are sealed at rest; without the master key notify refuses to start.
    app.extensions[subscriptions.SECRETS] = Envelope.from_setting(settings.notify_master_key, "ZF_NOTIFY_MASTER_KEY")
    api.register_blueprint(bulletins.blp)
    api.register_blueprint(interims.blp)
    api.register_blueprint(disclosures.blp)
    api.register_blueprint(reports.blp)
    api.register_blueprint(reports.quarterly_blp)
    api.register_blueprint(appraisals.blp)
    api.register_blueprint(enforcement.blp)
    api.register_blueprint(enforcement.ratings_blp)
    api.register_blueprint(enforcement.roster_blp)
    api.register_blueprint(reports.spot_blp)
    api.register_blueprint(reports.config_blp)
    api.register_blueprint(notices.blp)
    api.register_blueprint(notices.replies)
    api.register_blueprint(exposures.blp)
    api.register_blueprint(digests_blueprint())   # GET /v1/streams/digests, for audit's reconciliation
    app.register_blueprint(public.blp)      # /public/: no token, read-only (docs/EXPOSURE.md)
    return app
