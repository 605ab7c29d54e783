"""执法监督短信评议 in the console: a unit officer records an action on /my/enforcement (a refused form keeps
what was typed and names the field; its own contact's number is refused), sees it waiting for the
party's rating with the number masked; the office and the auditor read the period unit by unit and
officer by officer, with the numbers a unit keeps recording, and open a round that counts the ratings.
No page shows the party's number or what identifies it."""
from __future__ import annotations


import pytest

from zfcommon.events.catalogue import SMS_GROUP

from ..support import carry
from .console_world import console_world, text, token

pytestmark = pytest.mark.integration
UNIT, OTHER = "县市场监管局", "县住建局"
UNIT_PHONE, PARTY, PARTY_ID = "13600001111", "13512345678", "430102198803071234"


@pytest.fixture(scope="module")
def world(pg, tmp_path_factory):
    with console_world(pg, tmp_path_factory.mktemp("clock") / "now", day="2026-12-08", notify=True) as w:
        w.account("jia", "office")
        w.account("yi", "unit", unit=UNIT)
        w.account("bing", "auditor")
        yield w



def test_a_unit_records_actions_and_the_office_reads_the_ratings(world):
    world.api("POST", "/v1/directory/units", {"name": UNIT, "kind": "government_department",
                                              "supervising_channel": "县监察局",
                                              "contacts": [{"name": "王科长", "phone": UNIT_PHONE}]}, status=200)
    world.api("POST", "/v1/directory/units", {"name": OTHER, "kind": "government_department",
                                              "supervising_channel": "县监察局"}, status=200)
    carry(world.urls, into=("notify",))

    unit = world.client("yi")
    page = unit.get("/my/enforcement")
    assert page.status_code == 200 and "登记执法监督" in text(page)
    form = {"idem": "e-1", "kind": "enforcement", "performed_on": "2026-12-07", "section": "食品安全科",
            "matter": f"食品经营许可现场核查，店主身份证 {PARTY_ID}", "officers": "张卫东 43000012\n李明",
            "party": "老王面馆", "phone": UNIT_PHONE}
    refused = unit.post("/my/enforcement", data={**form, "csrf_token": token(page.get_data(as_text=True))})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'id="f-phone"' in body and 'aria-invalid="true"' in body and "不能由本单位自评" in text(refused)
    assert "张卫东 43000012" in body                           # what was typed stays

    done = unit.post("/my/enforcement", data={**form, "phone": PARTY, "csrf_token": token(body)})
    assert done.status_code == 302
    shown = unit.get(done.headers["Location"])
    listed = text(shown)
    assert "已登记，系统将向执法监督对象发送评价短信" in listed and "135****5678" in listed and "待评价" in listed
    assert "张卫东、李明" in listed
    for day in ("2026-12-05", "2026-12-06", "2026-12-07"):     # one friendly number, day after day
        assert unit.post("/my/enforcement", data={**form, "idem": f"e-{day}", "phone": "13512340001", "officers": "李明",
                                                  "performed_on": day, "csrf_token": token(shown.get_data(as_text=True))}
                         ).status_code == 302
    twice = unit.post("/my/enforcement", data={**form, "idem": "e-twice", "phone": "13512340001", "csrf_token": token(
        shown.get_data(as_text=True))})                        # the same number the same day: one SMS is enough
    assert twice.status_code == 422 and "同一对象同一天只评价一次" in text(twice)
    assert unit.get("/enforcement").status_code == 403        # the office's page

    # 公述民评: the unit publishes its staff (pasted from a spreadsheet); its actions then name only them
    page = unit.get("/my/enforcement")
    short = unit.post("/my/enforcement", data={"action": "roster", "idem": "s-0", "staff": "张卫东|43000012|食品安全科",
                                               "csrf_token": token(page.get_data(as_text=True))})
    assert short.status_code == 422 and "第1行缺少职务、岗位职责" in text(short)
    published = unit.post("/my/enforcement", data={
        "action": "roster", "idem": "s-1", "csrf_token": token(page.get_data(as_text=True)),
        "staff": "张卫东\t43000012\t食品安全科\t科长\t负责食品经营许可现场核查\n李明||食品安全科|科员|协助执法检查"})
    assert published.status_code == 302
    page = unit.get("/my/enforcement")
    assert "执法监督人员已公示" in text(page) and "已于" in text(page) and "公示 2 人" in text(page)
    assert "张卫东|43000012|食品安全科|科长|负责食品经营许可现场核查" in page.get_data(as_text=True)
    stranger = unit.post("/my/enforcement", data={**form, "idem": "e-stranger", "phone": "13512349999",
                                                   "officers": "王五", "csrf_token": token(page.get_data(as_text=True))})
    assert stranger.status_code == 422 and "不在本单位公示的执法监督人员名单中" in text(stranger)
    public = world.apps["notify"].test_client().get("/public/enforcement-staff").get_data(as_text=True)
    assert "负责食品经营许可现场核查" in public and "李明" in public

    for login in ("jia", "bing"):
        office = world.client(login)
        page = office.get("/enforcement", query_string={"period": "2026-Q4"})
        assert page.status_code == 200
        shown = text(page)
        assert UNIT in shown and "1 个号码共 3 次" in shown and "张卫东" in shown and "43000012" in shown
        assert "135****5678" in shown and "老王面馆" in shown
        assert f"已有 1 个单位公示执法监督人员 2 人：{UNIT}（2 人）" in shown
        sheet = office.get("/enforcement/export.csv", query_string={"period": "2026-Q4"})
        assert sheet.status_code == 200 and "执法监督人员" in sheet.get_data(as_text=True)
        for read in (page, sheet, unit.get("/my/enforcement")):
            assert PARTY not in read.get_data(as_text=True) and PARTY_ID not in read.get_data(as_text=True)
    assert world.client("bing").get("/enforcement", query_string={"period": "2026-Q9"}).status_code == 422

    office = world.client("jia")
    page = office.get("/appraisals")
    assert f"计为“{SMS_GROUP}”的评议票" in text(page)
    opened = office.post("/appraisals", data={"period": "2026-Q4", "sms": "on", "csrf_token": token(
        page.get_data(as_text=True))})
    assert opened.status_code == 302
    round_page = office.get(opened.headers["Location"])
    assert f"其中“{SMS_GROUP}”的评议票来自执法监督对象的短信回复" in text(round_page)
    assert f'<option value="{SMS_GROUP}"' not in round_page.get_data(as_text=True)    # nobody enters them by hand
