"""End to end: `zf up` makes a hotline webhook secret, prints it, gives it to intake; a work order the
hotline signs with it becomes a case the ledger shows with the hotline's order number."""
from __future__ import annotations

import json
import time

import pytest
import requests

from zfcommon import webhooks

from ..support import eventually, hotline_order
from .conftest import running_system

pytestmark = pytest.mark.e2e


def test_zf_up_gives_intake_a_hotline_secret_and_a_signed_order_reaches_the_ledger(tmp_path):
    with running_system(tmp_path) as system:
        secret = json.loads((tmp_path / "secrets.json").read_text())["hotline_webhook_secret"]
        assert secret in (tmp_path / "zf-up.log").read_text(), "the banner shows it for the hotline vendor"
        body = json.dumps(hotline_order(紧急程度="紧急"), ensure_ascii=False).encode()
        headers = {**webhooks.sign([secret], "msg_e2e", int(time.time()), body).as_dict(),
                   "Content-Type": "application/json"}
        resp = requests.post(system.url("intake", "/v1/hooks/hotline"), data=body, headers=headers, timeout=10)
        assert resp.status_code == 201, resp.text
        case_id = resp.json()["case_id"]

        def in_ledger():
            r = requests.get(system.url("ledger", f"/v1/cases/{case_id}"), headers=system.headers(), timeout=10)
            return r.json() if r.status_code == 200 else None
        case = eventually(in_ledger, timeout=30)
        assert case["channel"] == "hotline" and case["priority"] == "urgent"
        assert case["origin"]["ref"] == "SY12345-20261123-000317"
