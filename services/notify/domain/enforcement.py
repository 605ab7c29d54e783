"""SMS appraisal after enforcement and supervision (执法监督短信评议), pure.

Seed 001 (二(六)19) moves the sampling appraisal of units' enforcement and supervision staff from cards
to SMS: 在业务科室人员进行执法或监督后，由执法或监督对象通过回复短信进行评价, and asks that vote canvassing and
malicious voting (拉票、恶意投票) be dealt with. So a unit records each action — who acted, on what, on
which day, and the party's mobile number —; the party gets one SMS asking for a rating (回复1满意 2基本满意
3不满意), and the first reply from that number is the rating. An appraisal round opened with an SMS group
counts each rating of its period as one ballot of that group for the unit (domain/appraisal.py).

What keeps it honest:
- the number is the party's: never a contact of the acting unit on the directory (a unit cannot rate
  itself), and a rating counts only from the number the request went to;
- one action, one rating: the request's code is used once;
- the same number recorded again and again by one unit in a period is shown to the office (a keyed
  hash recognises it; the number itself is kept sealed only until the rating or the request expires);
- a rating can never be entered by hand into the SMS group of a round.
docs/APPRAISALS.md has the rules.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from zfcommon import outsiders
from zfcommon.events.catalogue import APPRAISAL_GRADES, ENFORCEMENT_KINDS, SMS_GROUP

from . import bulletin
from .appraisal import DEFAULT_WEIGHTS, score
from .notices import mask_phone, normalise_phone

Row = dict[str, Any]
STREAM_PREFIX = "enforcement-"
RECORDED = "cn.zhengfeng.enforcement.recorded.v1"
RATED = "cn.zhengfeng.enforcement.rated.v1"
ROSTER = "cn.zhengfeng.enforcement.roster_published.v1"
ROSTER_PREFIX = "roster-"
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
RECENT_DAYS = 15             # an action older than this is not asked about any more (the party forgets)
REPLY_DAYS = 15              # how long the party's number is kept for the reply, after the request is queued
REPEATED = 3                 # one number recorded this often by one unit in a period is shown to the office
DEFAULT_SMS_GROUP = SMS_GROUP       # the group name the API suggests for a round's SMS ratings


class Invalid(Exception):
    """The action cannot be recorded as given (422); `errors` names the fields in Chinese."""

    def __init__(self, message: str, errors: dict[str, Any], code: str = "enforcement.invalid"):
        super().__init__(message)
        self.errors, self.code = errors, code


def stream(action_id: str) -> str:
    return f"{STREAM_PREFIX}{action_id}"


def roster_stream(unit: str) -> str:
    return f"{ROSTER_PREFIX}{unit}"


def roster(unit: str, staff: list[Mapping[str, Any]]) -> Row:
    """The roster_published event's data: each person once (by name and 执法证号), their duties masked as
    they are entered (a personal mobile or ID typed there is not published). Raises Invalid."""
    seen, out, errors = set(), [], {}
    for i, person in enumerate(staff):
        key = (person["name"].strip(), (person.get("badge_no") or "").strip())
        if key in seen:
            errors[str(i)] = {"name": [f"{key[0]}{'（' + key[1] + '）' if key[1] else ''} 已在名单中"]}
            continue
        seen.add(key)
        out.append({"name": key[0], "badge_no": key[1] or None, "section": (person.get("section") or "").strip() or None,
                    "post": person["post"].strip(), "duties": outsiders.mask(person["duties"].strip())})
    if errors:
        raise Invalid("执法监督人员名单未能公示", {"staff": errors})
    return {"unit": unit, "staff": out}


def off_roster(officers: Iterable[Mapping[str, Any]], staff: list[Mapping[str, Any]] | None) -> list[str]:
    """The officers of an action who are not on the unit's published roster (none when it has none): a
    person is on it by name, and by 执法证号 when both give one."""
    if not staff:
        return []
    return [o["name"] for o in officers
            if not any(s["name"] == o["name"].strip() and (not o.get("badge_no") or not s["badge_no"]
                                                           or s["badge_no"] == o["badge_no"].strip()) for s in staff)]


def phone_key(secret: bytes, phone: str) -> str:
    """The keyed hash of a number (HMAC-SHA256): the same number gives the same key, and the key gives
    back nothing without notify's secret."""
    return hmac.new(secret, normalise_phone(phone).encode(), hashlib.sha256).hexdigest()


def recorded(action_id: str, unit: str, body: Mapping[str, Any], *, today: date, unit_phones: Iterable[str],
             secret: bytes, staff: list[Mapping[str, Any]] | None = None) -> Row:
    """The recorded event's data. The number must be a mainland mobile, not one of the unit's own
    contacts; the day must be within the last RECENT_DAYS days and not in the future; the officers on
    the unit's published roster (`staff`), when it has one. The free texts (matter, party) are masked as
    they are entered: a party's ID or a bystander's number never reaches the trail. Raises Invalid."""
    phone = normalise_phone(body["phone"])
    errors: dict[str, list[str]] = {}
    if not MOBILE.match(phone):
        errors["phone"] = ["须为执法监督对象的手机号码（11 位，1 开头），短信评议只发手机"]
    elif phone in {normalise_phone(p) for p in unit_phones if p}:
        errors["phone"] = ["这是本单位在名录中登记的联系人号码：评议须由执法监督对象本人作出，不能由本单位自评"]
    performed = body["performed_on"]
    if performed > today:
        errors["performed_on"] = ["执法监督日期不能晚于今天"]
    elif performed < today - timedelta(days=RECENT_DAYS):
        errors["performed_on"] = [f"只能登记近 {RECENT_DAYS} 天内的执法监督：时间过久，对象难以评价"]
    if strangers := off_roster(body["officers"], staff):
        errors["officers"] = [f"不在本单位公示的执法监督人员名单中：{'、'.join(strangers)}（请先在“人员公示”中补充）"]
    if errors:
        raise Invalid("执法监督记录未能登记", errors)
    party = body.get("party")
    return {"action_id": action_id, "unit": unit, "kind": body["kind"], "section": body.get("section") or None,
            "matter": outsiders.mask(body["matter"]), "party": outsiders.mask(party) if party else None,
            "performed_on": performed.isoformat(),
            "officers": [{"name": o["name"].strip(), "badge_no": (o.get("badge_no") or "").strip() or None}
                         for o in body["officers"]],
            "phone_masked": mask_phone(phone), "phone_key": phone_key(secret, phone)}


def request_context(action: Mapping[str, Any]) -> Row:
    """What the SMS asking for a rating names: the unit, the section and the officers, the day and the
    matter. Nothing of the party."""
    names = [o["name"] for o in action["officers"]]
    day = action["performed_on"]
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return {"action_id": str(action["action_id"]), "unit": action["unit"], "section": action.get("section"),
            "kind_name": ENFORCEMENT_KINDS[action["kind"]], "officers": "、".join(names),
            # the SMS fits one part: two names at most, the day without its year
            "officers_short": "、".join(names[:2]) + ("等" if len(names) > 2 else ""),
            "performed_on": day.isoformat(), "performed_day": f"{day.month}月{day.day}日", "matter": action["matter"]}


def counted_in(round_: Mapping[str, Any] | None, unit: str) -> bool:
    """Whether an open round takes a rating of `unit` as a ballot of its SMS group."""
    return bool(round_ and round_.get("sms_group") and unit in round_["units"])


def ballot(round_: Mapping[str, Any], action: Mapping[str, Any], grade: str) -> Row:
    """The ballot a rating makes in the round: its number is the action's id, so it counts once."""
    return {"period": round_["period"], "ballot_no": f"短信-{action['action_id']}",
            "group": round_["sms_group"], "ratings": [{"unit": action["unit"], "grade": grade, "comment": None}]}


def summary(actions: list[Mapping[str, Any]], *, min_ratings: int = 10,
            weights: Mapping[str, Any] = DEFAULT_WEIGHTS) -> Row:
    """A period's figures, unit by unit and officer by officer: actions, ratings and each grade, the
    reply rate, the score (as a round scores) and the satisfaction rate (meaningful from `min_ratings`
    on), and the numbers a unit recorded REPEATED times or more (how many such numbers, how many actions
    they account for)."""
    units: dict[str, Row] = {}
    for a in sorted(actions, key=lambda a: (a["unit"], str(a["performed_on"]))):
        u = units.setdefault(a["unit"], {"unit": a["unit"], "rows": [], "officers": {}})
        u["rows"].append(a)
        for o in a["officers"]:
            key = (o["name"], o.get("badge_no"))
            u["officers"].setdefault(key, []).append(a)
    out = []
    for name, u in units.items():
        repeats = {k: n for k, n in Counter(a["phone_key"] for a in u["rows"]).items() if n >= REPEATED}
        row = {"unit": name, **_figures(u["rows"], min_ratings, weights),
               "repeated_numbers": len(repeats), "repeated_actions": sum(repeats.values()),
               "officers": [{"name": k[0], "badge_no": k[1], **_figures(rows, min_ratings, weights)}
                            for k, rows in sorted(u["officers"].items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]}
        out.append(row)
    return {"units": out, "totals": _figures(actions, min_ratings, weights)}


def _figures(rows: list[Mapping[str, Any]], min_ratings: int, weights: Mapping[str, Any]) -> Row:
    counts = {g: 0 for g in APPRAISAL_GRADES}
    for a in rows:
        if a.get("grade"):
            counts[a["grade"]] += 1
    rated = sum(counts.values())
    return {"actions": len(rows), "rated": rated, **counts,
            "reply_rate": bulletin.rate(rated, len(rows), 1),
            "score": score(counts, weights),
            "satisfaction_rate": bulletin.rate(counts["satisfied"] + counts["basically_satisfied"], rated,
                                               min_ratings)}
