"""SMS appraisal after enforcement and supervision (执法监督短信评议, seed 001), end to end: a unit records
an action, notify's consumer queues the SMS, the sender sends it through a real gateway, the party's
signed reply rates it once, and an open appraisal round counts it as a ballot of its SMS group. The
party's number never reaches a table in clear, an event, the trail or a log."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from notify.adapters.repository import apply as notify_apply
from notify.service_layer import enforcement as handlers
from notify.service_layer.uow import UnitOfWork
from zfcommon import db
from zfcommon.events import parse_event
from zfcommon.eventstore import EventStore
from zfcommon.rebuild import rebuild

from ..conftest import fresh_database, service_urls
from ..support import bearer, eventually
from .test_rebuild import snapshot
from .test_notices import HELPER, LEAD, LEAD_PHONE, OFFICE, notify_rows_as_text, world  # noqa: F401 (fixture)

PARTY = "13512345678"               # the party inspected: never stored in clear, never logged
PARTY_ID, OTHER = "430102198803071234", "13912340000"     # what a clerk might type into the free text
SMS_GROUP = "执法监督对象（短信评议）"
LEAD_UNIT = bearer("unit", unit=LEAD)


def _today() -> date:
    return datetime.now(timezone(timedelta(hours=8))).date()


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def action(**changes) -> dict:
    return {"kind": "enforcement", "section": "不动产登记科", "matter": "不动产登记窗口现场检查",
            "party": "某某建材店", "performed_on": (_today() - timedelta(days=1)).isoformat(),
            "officers": [{"name": "张卫东", "badge_no": "43000012"}], "phone": PARTY, **changes}


def record(world, headers=LEAD_UNIT, **changes):
    return world.notify.post("/v1/enforcement-actions", json=action(**changes), headers=headers)


def request_for(world, number: str) -> dict:
    return eventually(lambda: [d for d in world.gateway.to(number) if d["template"] == "enforcement_rating_request"],
                      30)[-1]


def test_the_party_rates_an_action_once_by_sms_and_an_open_round_counts_it(world, pg):
    period = _quarter(_today() - timedelta(days=1))
    opened = world.notify.post("/v1/appraisals", json={"period": period, "units": [LEAD, HELPER], "sms_group": SMS_GROUP,
                                                       "min_ballots": 1}, headers=OFFICE)
    assert opened.status_code == 201, opened.json
    world.start_sender()

    # What a unit cannot record: its own contact's number, another unit's action, a number that is no mobile
    own = record(world, phone=LEAD_PHONE)
    assert own.status_code == 422 and "不能由本单位自评" in own.json["errors"]["phone"][0]
    assert record(world, headers=bearer("unit", unit=HELPER), unit=LEAD).status_code == 403
    assert record(world, phone="0731-8888888").json["errors"]["phone"]
    assert record(world, headers=OFFICE).json["code"] == "enforcement.unit_required"

    created = record(world, matter=f"核查经营许可，店主身份证 {PARTY_ID}", party=f"某某建材店（店主手机 {OTHER}）")
    assert created.status_code == 201, created.json
    recorded = created.json
    assert recorded["phone_masked"] == "135****5678" and recorded["grade"] is None and PARTY not in str(recorded)

    request = request_for(world, PARTY)
    assert request["text"] == f"{LEAD}张卫东{(_today() - timedelta(days=1)).month}月{(_today() - timedelta(days=1)).day}日" \
                              "对您的行政执法，请评价：回复1满意 2基本满意 3不满意"
    assert request["ext"]
    notice = next(n for n in world.notices(kind="enforcement_rating_request"))
    assert notice["audience"] == "inspected" and notice["to"] == "135****5678"

    assert world.reply("1", "13600009999", request["ext"]).json["outcome"] == "not_the_party"
    assert world.reply("好", PARTY, request["ext"]).json["outcome"] == "unreadable"
    assert world.reply("3 不满意", f"+86 {PARTY}", request["ext"]).json["outcome"] == "recorded"
    assert world.reply("1", PARTY, request["ext"]).json["outcome"] == "already_rated"
    again = record(world)                       # the same party the same day: one SMS is enough
    assert again.status_code == 422 and "同一天" in again.json["errors"]["phone"][0]

    rated = world.notify.get(f"/v1/enforcement-actions/{recorded['action_id']}", headers=LEAD_UNIT).json
    assert (rated["grade"], rated["counted_in"]) == ("unsatisfied", [period])
    assert world.notify.get(f"/v1/enforcement-actions/{recorded['action_id']}",
                            headers=bearer("unit", unit=HELPER)).status_code == 404

    # The round holds the rating as a ballot of its SMS group, which nobody may fill by hand
    ballots = world.notify.get(f"/v1/appraisals/{period}/ballots", headers=OFFICE).json["items"]
    assert [(b["ballot_no"], b["group"], b["ratings"][0]["grade"]) for b in ballots] == [
        (f"短信-{recorded['action_id']}", SMS_GROUP, "unsatisfied")]
    by_hand = world.notify.post(f"/v1/appraisals/{period}/ballots", json={"ballots": [
        {"ballot_no": "A-1", "group": SMS_GROUP, "ratings": [{"unit": LEAD, "grade": "satisfied"}]}]}, headers=OFFICE)
    assert by_hand.status_code == 422 and "不能手工录入" in str(by_hand.json["errors"])
    provisional = world.notify.get(f"/v1/appraisals/{period}", headers=OFFICE).json["provisional"]
    lead = next(u for u in provisional["units"] if u["unit"] == LEAD)
    assert lead["unsatisfied"] == 1 and [g for g in lead["groups"] if g["group"] == SMS_GROUP][0]["ballots"] == 1

    # The figures: the office sees every unit, a unit its own
    figures = world.notify.get("/v1/enforcement-ratings", query_string={"period": period}, headers=OFFICE).json
    row = next(u for u in figures["units"] if u["unit"] == LEAD)
    assert (row["actions"], row["rated"], row["unsatisfied"], row["score"]) == (1, 1, 1, 0.0)
    assert row["officers"][0]["name"] == "张卫东"
    helper = world.notify.get("/v1/enforcement-ratings", query_string={"period": period},
                              headers=bearer("unit", unit=HELPER)).json
    assert helper["units"] == []
    sheet = world.notify.get("/v1/enforcement-ratings/export.csv", query_string={"period": period}, headers=OFFICE)
    assert sheet.status_code == 200 and "执法监督人员" in sheet.get_data(as_text=True)

    # Whoever reads — the unit, the office, an auditor, in a list, one by one or a spreadsheet — reads the
    # party's number masked and no ID or other number the clerk typed into the free text
    for who in (LEAD_UNIT, OFFICE, bearer("auditor")):
        for path in ("/v1/enforcement-actions", f"/v1/enforcement-actions/{recorded['action_id']}",
                     f"/v1/enforcement-ratings?period={period}", f"/v1/enforcement-ratings/export.csv?period={period}"):
            read = world.notify.get(path, headers=who)
            assert read.status_code == 200, (path, read.status_code)
            assert [s for s in (PARTY, PARTY_ID, OTHER) if s in read.get_data(as_text=True)] == [], path

    # The trail holds the action and its rating, never the number
    with db.connect(world.urls["notify"]) as conn:
        events = EventStore(conn, service="notify").load(f"enforcement-{recorded['action_id']}")
        left = conn.execute("SELECT count(*) AS n FROM enforcement_contacts WHERE action_id = %s",
                            (recorded["action_id"],)).fetchone()["n"]
    assert [e.type.split(".")[3] for e in events] == ["recorded", "rated"] and left == 0
    assert PARTY not in str([e.data for e in events])
    text = notify_rows_as_text(world.urls["notify"])
    assert PARTY not in text and "12345678" not in text
    assert not [line for line in world.logs.lines if PARTY in line]

    # The results say where the SMS group's ballots come from
    assert world.notify.post(f"/v1/appraisals/{period}/draft", headers=OFFICE).status_code == 200
    html = world.notify.get(f"/v1/appraisals/{period}.html", headers=OFFICE).get_data(as_text=True)
    assert f"“{SMS_GROUP}”的评议票来自执法监督对象对执法或监督行为的短信回复" in html and PARTY not in html

    # Rebuilt from notify's events (what the trail holds of them), the actions and the round are the same
    empty = service_urls(fresh_database(pg))
    with db.connect(world.urls["notify"]) as conn:
        events = [(r["position"], parse_event(r["payload"]))
                  for r in conn.execute("SELECT position, payload FROM events ORDER BY position")]
    rebuild(empty["notify"], notify_apply, events)
    for table in ("enforcement_actions", "enforcement_rosters", "appraisal_ballots", "publications"):
        assert snapshot(empty["notify"], table) == snapshot(world.urls["notify"], table), table


def test_a_request_not_answered_in_time_forgets_the_number_and_a_late_reply_is_expired(world):
    world.start_sender()
    created = record(world)
    assert created.status_code == 201, created.json
    request = request_for(world, PARTY)
    with db.connect(world.urls["notify"]) as conn:
        conn.execute("UPDATE enforcement_contacts SET expires_at = now() - interval '1 second'")
        conn.commit()
    pool = db.make_pool(world.urls["notify"], max_size=1, name="test-forget")
    pool.open()
    try:
        with UnitOfWork(pool) as uow:
            assert handlers.forget_expired(uow, datetime.now(timezone.utc)) == 1
    finally:
        pool.close()
    assert world.reply("1", PARTY, request["ext"]).json["outcome"] == "expired"
    assert world.notify.get(f"/v1/enforcement-actions/{created.json['action_id']}", headers=OFFICE).json["grade"] is None


def test_a_unit_publishes_its_staff_for_the_public_and_its_actions_then_name_only_them(world):
    roster = {"staff": [{"name": "张卫东", "badge_no": "43000012", "section": "不动产登记科", "post": "科长",
                         "duties": f"负责不动产登记窗口监督检查（个人手机 {OTHER}）"}]}
    assert world.notify.put(f"/v1/enforcement-staff/{LEAD}", json=roster,
                            headers=bearer("unit", unit=HELPER)).status_code == 403
    assert world.notify.put("/v1/enforcement-staff/某某局", json=roster, headers=OFFICE).json["code"] == \
        "enforcement.unit_unknown"
    published = world.notify.put(f"/v1/enforcement-staff/{LEAD}", json=roster, headers=LEAD_UNIT)
    assert published.status_code == 200, published.json
    assert published.json["staff"][0]["post"] == "科长" and OTHER not in str(published.json)

    # Everyone reads it, the public without a token on the public site
    assert world.notify.get(f"/v1/enforcement-staff/{LEAD}", headers=bearer("public")).json["unit"] == LEAD
    assert world.notify.get(f"/v1/enforcement-staff/{HELPER}", headers=bearer("public")).status_code == 404
    page = world.notify.get("/public/enforcement-staff")
    shown = page.get_data(as_text=True)
    assert page.status_code == 200 and "公述民评" in shown and "张卫东" in shown and "43000012" in shown
    assert OTHER not in shown and "执法监督人员公示" in world.notify.get("/public/").get_data(as_text=True)

    stranger = record(world, officers=[{"name": "王五"}])          # 执法证号 may be left out
    assert stranger.status_code == 422 and "王五" in stranger.json["errors"]["officers"][0]
    assert record(world).status_code == 201                     # 张卫东 is on it

    # An empty roster takes the unit off the page
    assert world.notify.put(f"/v1/enforcement-staff/{LEAD}", json={"staff": []}, headers=OFFICE).status_code == 200
    assert "张卫东" not in world.notify.get("/public/enforcement-staff").get_data(as_text=True)
    assert world.notify.get("/v1/enforcement-staff", headers=OFFICE).json["items"] == []
