"""A supervision letter's number (文号) where people read it: notify's scheduler numbers the letter as it
issues it, the ledger projects the step, and the console's case page names the letter by its number in
the escalation history, for the office and for the lead unit; the unit reads the letter itself under 我的通知,
though no e-mail or SMS channel is configured. No page shows anything of the complainant."""
from __future__ import annotations

import re

import pytest

from ..support import bearer, carry, complaint, scheduler_pass
from .console_world import console_world

pytestmark = pytest.mark.integration
UNIT = "县自然资源局"


@pytest.fixture(scope="module")
def world(pg, tmp_path_factory):
    with console_world(pg, tmp_path_factory.mktemp("clock") / "now", day="2026-11-02", notify=True) as w:
        w.account("jia", "office")
        w.account("yi", "unit", unit=UNIT)
        yield w


def escalate_now(world) -> None:
    """notify takes in intake's events, decides a pass and queues the step's notices, and the ledger takes
    in both services' events."""
    carry(world.urls, into=("notify",), notices=True)
    scheduler_pass(world.urls["notify"], world.clock)
    carry(world.urls, into=("notify",), sources=("intake", "notify"), notices=True)
    carry(world.urls, into=("ledger",), sources=("intake", "notify"))


def text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_case_page_names_the_supervision_letter_by_its_number(world):
    world.api("POST", "/v1/directory/units", {"name": UNIT, "kind": "government_department",
                                              "supervising_channel": "县监察局"}, status=200)
    case_id = world.api("POST", "/v1/cases", complaint(), status=201)["case_id"]
    world.api("POST", f"/v1/cases/{case_id}/assign", {"lead_unit": UNIT, "handling_mode": "deadline"}, status=200)
    world.api("POST", f"/v1/cases/{case_id}/accept", {}, headers=bearer("unit", unit=UNIT), status=200)
    world.day("2026-11-30")                                # deadline 11-23: 5 working days overdue
    escalate_now(world)

    for login in ("jia", "yi"):
        page = world.client(login).get(f"/cases/{case_id}")
        assert page.status_code == 200
        shown = text(page.get_data(as_text=True))
        assert "督办函（正风办督〔2026〕1号）" in shown, login
        assert "到期提醒" in shown and "13807391234" not in shown and "李某" not in shown

    letter = text(world.client("yi").get("/my/notices").get_data(as_text=True))
    assert "【督办函 正风办督〔2026〕1号】" in letter and "督 办 函 正风办督〔2026〕1号 县自然资源局：" in letter
    assert "已超过办结时限5个工作日仍未办结" in letter and "【交办通知】" in letter
    assert "邮件未发送" in letter or "短信渠道未配置" in letter
    assert "escalation_" not in letter and "13807391234" not in letter and "李某" not in letter
