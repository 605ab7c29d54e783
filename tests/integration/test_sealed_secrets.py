"""Webhook secrets at rest: notify's tables hold them sealed with its master key (zfcommon.sealing,
migration 0050), rows from before are sealed by the dispatcher at its start, and every delivery still
verifies with the reference Standard Webhooks SDK."""
from __future__ import annotations

import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from standardwebhooks import Webhook

from notify.adapters.sender import Answer
from notify.entrypoints.dispatcher import seal_secrets
from notify.entrypoints.http import create_app as notify_app
from notify.service_layer import dispatch
from zfcommon import db
from zfcommon.devstack.stack import migrate_all, migration_dirs
from zfcommon.settings import ConfigError
from zfcommon.webhooks import new_secret

from ..conftest import PASSWORDS, service_urls, settings_for
from ..support import bearer, rows_as_text

pytestmark = pytest.mark.integration
OFFICE = bearer()
URL = "https://hooks.example.gov.cn/zf"


def clear_forms(secret: str) -> list[str]:
    """How a secret would show in a row's text: as written, its key part, or as bytea hex."""
    return [secret, secret.removeprefix("whsec_"), secret.encode().hex()]


def assert_nowhere_in_clear(url: str, *secrets: str) -> None:
    rows = rows_as_text(url)
    for secret in secrets:
        for form in clear_forms(secret):
            assert form not in rows, "a webhook secret is kept in clear in notify's tables"


def deliver_everything(url: str, config: dispatch.Config) -> list[tuple[bytes, dict[str, str]]]:
    """Run the dispatcher's step until nothing is due; what each POST carried."""
    sent = []

    def post(_url, body, headers, _timeout):
        sent.append((body, headers))
        return Answer(200, 1)
    with db.connect(url) as conn:
        while dispatch.deliver_one(conn, config, post) is not None:
            conn.commit()
        conn.commit()
    return sent


def verifies_with_the_sdk(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    Webhook(secret).verify(body, headers)      # raises WebhookVerificationError otherwise
    return True


@pytest.fixture
def notify(urls):
    app = notify_app(settings_for("notify", urls["notify"]))
    yield app.test_client()
    app.extensions["zf_pool"].close()


def config(urls) -> dispatch.Config:
    return dispatch.Config.from_settings(settings_for("notify", urls["notify"]))


def test_a_subscriptions_secrets_are_sealed_in_the_table_and_deliveries_verify_with_the_reference_sdk(notify, urls):
    created = notify.post("/v1/subscriptions", json={"unit": "县自然资源局", "url": URL}, headers=OFFICE).json
    old = created["secret"]
    new = notify.post(f"/v1/subscriptions/{created['id']}/rotate-secret", json={"grace_hours": 1},
                      headers=OFFICE).json["secret"]
    assert notify.post(f"/v1/subscriptions/{created['id']}/test", headers=OFFICE).status_code == 202

    assert_nowhere_in_clear(urls["notify"], old, new)
    with db.connect(urls["notify"]) as conn:
        row = conn.execute("SELECT secret, previous_secret, secret_sealed, previous_secret_sealed FROM subscriptions"
                           ).fetchone()
    assert row["secret"] is None and row["previous_secret"] is None
    assert row["secret_sealed"] and row["previous_secret_sealed"]

    [(body, headers)] = deliver_everything(urls["notify"], config(urls))
    assert len(headers["webhook-signature"].split()) == 2          # both secrets sign during the grace
    assert verifies_with_the_sdk(new, body, headers) and verifies_with_the_sdk(old, body, headers)


def test_a_sealed_secret_moved_to_another_subscription_does_not_sign_there(notify, urls):
    first, second = (notify.post("/v1/subscriptions", json={"unit": "县自然资源局", "url": URL}, headers=OFFICE).json
                     for _ in range(2))
    with psycopg.connect(urls["notify"]) as conn:       # someone with write access swaps a sealed secret
        conn.execute("UPDATE subscriptions SET secret_sealed = (SELECT secret_sealed FROM subscriptions WHERE id = %s)"
                     " WHERE id = %s", (first["id"], second["id"]))
    assert notify.post(f"/v1/subscriptions/{second['id']}/test", headers=OFFICE).status_code == 202
    with pytest.raises(Exception, match="does not open"):
        deliver_everything(urls["notify"], config(urls))


def test_notify_refuses_to_start_without_its_master_key(urls):
    with pytest.raises(ConfigError, match="ZF_NOTIFY_MASTER_KEY is not set"):
        notify_app(settings_for("notify", urls["notify"], notify_master_key=""))
    with pytest.raises(ConfigError, match="ZF_NOTIFY_MASTER_KEY"):
        dispatch.Config.from_settings(settings_for("notify", urls["notify"], notify_master_key="change-me"))


# -- a database from before migration 0050 ------------------------------------------------------------

@pytest.fixture
def before_0050(pg, tmp_path):
    """A database whose notify schema stopped at the migration before 0050, holding a subscription
    with its secrets in clear as that layout kept them; then brought up to date like any upgrade."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    admin = pg.admin_url(name)
    dirs = migration_dirs("notify")
    older = tmp_path / "migrations"         # the same folder name, so the upgrade knows them as applied
    older.mkdir()
    for f in sorted(Path(dirs[-1]).glob("*.sql")):
        if f.name < "0050":
            shutil.copy(f, older / f.name)
    db.migrate(admin, "notify", [*dirs[:-1], older], PASSWORDS["notify"])
    old, current = new_secret(), new_secret()
    with psycopg.connect(admin) as conn:
        conn.execute("INSERT INTO notify.subscriptions (id, unit, url, secret, previous_secret, previous_secret_until,"
                     " created_by) VALUES ('sub_old', '县自然资源局', %s, %s, %s, %s, 'office:li')",
                     (URL, current, old, datetime(2099, 1, 1, tzinfo=timezone.utc)))
    migrate_all(admin, PASSWORDS)
    return service_urls(admin), current, old


def test_rows_from_before_are_sealed_by_the_dispatcher_at_start_and_their_deliveries_verify(before_0050):
    urls, current, old = before_0050
    cfg = config(urls)
    assert seal_secrets(urls["notify"], cfg) == 1
    assert seal_secrets(urls["notify"], cfg) == 0          # a second start finds nothing left
    assert_nowhere_in_clear(urls["notify"], current, old)

    app = notify_app(settings_for("notify", urls["notify"]))
    try:
        assert app.test_client().post("/v1/subscriptions/sub_old/test", headers=OFFICE).status_code == 202
    finally:
        app.extensions["zf_pool"].close()
    [(body, headers)] = deliver_everything(urls["notify"], cfg)
    assert verifies_with_the_sdk(current, body, headers) and verifies_with_the_sdk(old, body, headers)


def test_a_row_from_before_rotated_before_any_dispatcher_ran_keeps_its_old_secret_signing(before_0050):
    urls, current, _ = before_0050
    app = notify_app(settings_for("notify", urls["notify"]))
    try:
        client = app.test_client()
        new = client.post("/v1/subscriptions/sub_old/rotate-secret", json={"grace_hours": 1},
                          headers=OFFICE).json["secret"]
        assert client.post("/v1/subscriptions/sub_old/test", headers=OFFICE).status_code == 202
    finally:
        app.extensions["zf_pool"].close()
    assert_nowhere_in_clear(urls["notify"], current, new)
    [(body, headers)] = deliver_everything(urls["notify"], config(urls))
    assert verifies_with_the_sdk(new, body, headers) and verifies_with_the_sdk(current, body, headers)
