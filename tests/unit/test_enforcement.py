"""SMS appraisal after enforcement and supervision (执法监督短信评议, seed 001), the pure rules."""
from datetime import date

import pytest

from notify.domain import appraisal, enforcement
from zfcommon.events.catalogue import CATALOGUE

SECRET = b"k" * 32
TODAY = date(2026, 12, 8)
ACTION = "9b1d2c3e-1111-2222-3333-444455556666"


def body(**changes):
    return {"kind": "enforcement", "section": "食品安全科", "matter": "食品经营许可现场核查，店主身份证 110101199003071234",
            "party": "老王面馆（联系人 13907391234）", "performed_on": date(2026, 12, 7),
            "officers": [{"name": "张卫东", "badge_no": "43000012"}, {"name": "李明", "badge_no": None}],
            "phone": "+86 138 0739 1234", **changes}


def recorded(**changes):
    return enforcement.recorded(ACTION, "县市场监管局", body(**changes), today=TODAY,
                                unit_phones=["0731-1234567", "13600001111"], secret=SECRET)


def test_an_action_is_recorded_with_its_free_text_masked_and_the_number_only_masked_and_hashed():
    data = recorded()
    CATALOGUE[enforcement.RECORDED].schema.load(data)        # the catalogue's check of what is appended
    assert data["phone_masked"] == "138****1234"
    assert "13807391234" not in str(data) and "110101199003071234" not in str(data)
    assert "13907391234" not in data["party"] and "老王面馆" in data["party"]
    assert data["officers"] == [{"name": "张卫东", "badge_no": "43000012"}, {"name": "李明", "badge_no": None}]
    # one number, one key, however it is written; another secret, another key
    assert data["phone_key"] == enforcement.phone_key(SECRET, "13807391234") == recorded(phone="138-0739-1234")["phone_key"]
    assert enforcement.phone_key(b"x" * 32, "13807391234") != data["phone_key"]


@pytest.mark.parametrize("changes, field, words", [
    ({"phone": "0731-8888888"}, "phone", "手机号码"),
    ({"phone": "12345"}, "phone", "手机号码"),
    ({"phone": "136 0000 1111"}, "phone", "不能由本单位自评"),
    ({"performed_on": date(2026, 12, 9)}, "performed_on", "不能晚于今天"),
    ({"performed_on": date(2026, 11, 22)}, "performed_on", "近 15 天"),
])
def test_what_cannot_be_asked_about_is_refused_naming_the_field(changes, field, words):
    with pytest.raises(enforcement.Invalid) as exc:
        recorded(**changes)
    assert words in exc.value.errors[field][0]


def test_the_oldest_day_still_asked_about_is_fifteen_days_back():
    assert recorded(performed_on=date(2026, 11, 23))["performed_on"] == "2026-11-23"


def test_the_rating_request_names_two_officers_at_most_and_the_day_without_its_year():
    action = {**recorded(), "officers": [{"name": n, "badge_no": None} for n in ("甲", "乙", "丙")]}
    ctx = enforcement.request_context(action)
    assert ctx["officers_short"] == "甲、乙等" and ctx["officers"] == "甲、乙、丙"
    assert ctx["performed_day"] == "12月7日" and ctx["kind_name"] == "行政执法"
    assert "phone" not in str(ctx) and "party" not in ctx


def _row(unit, grade, key="a", officers=("张卫东",)):
    return {"unit": unit, "grade": grade, "phone_key": key, "performed_on": date(2026, 12, 1),
            "officers": [{"name": n, "badge_no": None} for n in officers]}


def test_the_summary_gives_each_unit_and_officer_their_figures_and_the_numbers_recorded_again_and_again():
    rows = [_row("县市场监管局", "satisfied", "a"), _row("县市场监管局", "unsatisfied", "a", ("张卫东", "李明")),
            _row("县市场监管局", None, "a"), _row("县市场监管局", "basically_satisfied", "b"),
            _row("县住建局", "satisfied", "c")]
    found = enforcement.summary(rows, min_ratings=2)
    market, housing = sorted(found["units"], key=lambda u: u["unit"], reverse=True)
    assert market["unit"] == "县市场监管局"
    assert (market["actions"], market["rated"], market["satisfied"], market["unsatisfied"]) == (4, 3, 1, 1)
    assert market["reply_rate"]["value"] == 0.75
    assert market["score"] == 53.33                     # (100 + 60 + 0) / 3, 0.01 half up
    assert market["satisfaction_rate"] == {"numerator": 2, "denominator": 3, "value": 0.6667, "meaningful": True}
    assert (market["repeated_numbers"], market["repeated_actions"]) == (1, 3)
    assert [(o["name"], o["actions"], o["rated"]) for o in market["officers"]] == [("张卫东", 4, 3), ("李明", 1, 1)]
    assert housing["satisfaction_rate"]["meaningful"] is False and housing["repeated_numbers"] == 0
    assert found["totals"]["actions"] == 5 and found["totals"]["rated"] == 4


def test_a_round_with_an_sms_group_takes_ratings_only_by_sms():
    round_ = appraisal.opening("2026-Q4", {"units": ["县市场监管局"], "sms_group": enforcement.DEFAULT_SMS_GROUP},
                               ["县市场监管局"])
    assert round_["groups"][-1] == enforcement.DEFAULT_SMS_GROUP and round_["sms_group"] == enforcement.DEFAULT_SMS_GROUP
    by_hand = {"ballot_no": "001", "group": enforcement.DEFAULT_SMS_GROUP,
               "ratings": [{"unit": "县市场监管局", "grade": "satisfied"}]}
    with pytest.raises(appraisal.Invalid) as exc:
        appraisal.ballots(round_, set(), [by_hand])
    assert "不能手工录入" in exc.value.errors["ballots"]["0"]["group"][0]
    action = {"action_id": ACTION, "unit": "县市场监管局"}
    ballot = enforcement.ballot(round_, action, "unsatisfied")
    assert appraisal.ballots(round_, set(), [ballot], by_sms=True)[0]["ballot_no"] == f"短信-{ACTION}"
    with pytest.raises(appraisal.Invalid):       # the same action counts once
        appraisal.ballots(round_, {f"短信-{ACTION}"}, [ballot], by_sms=True)
    assert enforcement.counted_in(round_, "县市场监管局") and not enforcement.counted_in(round_, "县住建局")
    assert not enforcement.counted_in(appraisal.opening("2026-Q4", {}, ["县市场监管局"]), "县市场监管局")


def test_a_roster_names_each_person_once_and_publishes_no_mobile_or_id_typed_into_the_duties():
    staff = [{"name": " 张卫东 ", "badge_no": "43000012", "section": "食品安全科", "post": "科长",
              "duties": "负责食品经营许可现场核查，手机 13907391234"},
             {"name": "李明", "badge_no": None, "section": None, "post": "科员", "duties": "协助执法"}]
    data = enforcement.roster("县市场监管局", staff)
    CATALOGUE[enforcement.ROSTER].schema.load(data)
    assert data["staff"][0]["name"] == "张卫东" and "13907391234" not in data["staff"][0]["duties"]
    assert data["staff"][1] == {"name": "李明", "badge_no": None, "section": None, "post": "科员", "duties": "协助执法"}
    with pytest.raises(enforcement.Invalid) as exc:
        enforcement.roster("县市场监管局", [*staff, {**staff[0], "post": "副科长"}])
    assert "已在名单中" in exc.value.errors["staff"]["2"]["name"][0]


def test_once_a_unit_publishes_its_roster_an_action_names_only_people_on_it():
    staff = enforcement.roster("县市场监管局", [{"name": "张卫东", "badge_no": "43000012", "post": "科长", "duties": "执法"},
                                           {"name": "李明", "badge_no": None, "post": "科员", "duties": "执法"}])["staff"]
    assert enforcement.off_roster([{"name": "张卫东", "badge_no": "43000012"}, {"name": "李明", "badge_no": "9"}],
                                  staff) == []
    assert enforcement.off_roster([{"name": "张卫东", "badge_no": "43009999"}, {"name": "王五", "badge_no": None}],
                                  staff) == ["张卫东", "王五"]
    assert enforcement.off_roster([{"name": "王五", "badge_no": None}], None) == []       # no roster: anyone
    with pytest.raises(enforcement.Invalid) as exc:
        enforcement.recorded(ACTION, "县市场监管局", body(officers=[{"name": "王五", "badge_no": None}]), today=TODAY,
                             unit_phones=[], secret=SECRET, staff=staff)
    assert "王五" in exc.value.errors["officers"][0]


def test_the_scheduler_forgets_expired_numbers_once_a_minute_not_every_pass(monkeypatch):
    from notify.entrypoints import scheduler
    clock = iter([100.0, 130.0, 161.0])
    monkeypatch.setattr(scheduler.time, "monotonic", lambda: next(clock))
    every = scheduler.Every(60.0)
    assert [every.due(), every.due(), every.due()] == [True, False, True]
    assert [p[0] for p in scheduler.PARTS if p[3] == scheduler.FORGET_NUMBERS.due] == ["enforcement_contacts"]
