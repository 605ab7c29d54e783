"""An exposure's states and its fold (notify.domain.exposure), and the feed writers
(notify.adapters.feeds): pure, no database."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import pytest

from notify.adapters import feeds
from notify.domain import exposure
from zfcommon.redaction import MASKS
from zfcommon.events.catalogue import REDACTION_KINDS

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
PUBLIC = {"title": "窗口推诿", "category": "推诿扯皮", "unit": "县自然资源局", "text": "本人某某反映", "lesson": None}
SELECTED = {"exposure_id": "e1", "case_id": "c1", "title": "窗口推诿", "category": "推诿扯皮", "lesson": None,
            "case": {"category": "推诿扯皮", "channel": "hotline", "unit": "县自然资源局", "status": "closed",
                     "received_on": "2026-11-02"}}


def fold(*steps: tuple[str, dict, str]):
    row = None
    for version, (name, data, actor) in enumerate(steps, 1):
        row = exposure.evolve(row, f"cn.zhengfeng.exposure.{name}.v1", data, version=version,
                              time=T0 + timedelta(hours=version), actor=actor) or row
    return row


REDACTED = ("redacted", {"exposure_id": "e1", "public": PUBLIC, "removed": [], "complainant_checked": True}, "office:a")


def test_the_life_of_an_exposure():
    row = fold(("selected", SELECTED, "office:a"), REDACTED,
               ("approved", {"exposure_id": "e1", "revision": 2, "redacted_by": "office:a"}, "office:b"))
    assert (row["state"], row["approved_by"], row["approved_revision"]) == ("approved", "office:b", 2)
    assert exposure.ALLOWED[row["state"]] == ("redact", "publish", "withdraw")
    # Redacting again voids the approval: only a text approved as it stands is published.
    again = fold(("selected", SELECTED, "office:a"), REDACTED,
                 ("approved", {"exposure_id": "e1", "revision": 2, "redacted_by": "office:a"}, "office:b"), REDACTED)
    assert (again["state"], again["approved_by"], again["revision"]) == ("redacted", None, 4)


def test_refusals_name_the_state_and_what_is_possible():
    row = fold(("selected", SELECTED, "office:a"))
    with pytest.raises(exposure.Refused) as exc:
        exposure.check(row, "publish")
    assert exc.value.state == "selected" and exc.value.allowed == ["redact", "withdraw"]
    assert str(exc.value) == "典型案例曝光 e1 当前为“已选定”，不能发布（现在可以：脱敏、撤回）"
    gone = fold(("selected", SELECTED, "office:a"), ("withdrawn", {"exposure_id": "e1", "reason": "x",
                                                                   "was_published": False}, "office:a"))
    with pytest.raises(exposure.Refused):
        exposure.check(gone, "withdraw")


def test_four_eyes():
    row = fold(("selected", SELECTED, "office:a"), REDACTED)
    with pytest.raises(exposure.SameReviewer):
        exposure.check_approver(row, "office:a")
    exposure.check_approver(row, "office:b")


def test_a_redelivered_or_older_event_changes_nothing():
    row = fold(("selected", SELECTED, "office:a"), REDACTED)
    assert exposure.evolve(row, "cn.zhengfeng.exposure.redacted.v1", REDACTED[1], version=2, time=T0,
                           actor="office:a") is None
    assert exposure.evolve(None, "cn.zhengfeng.exposure.redacted.v1", REDACTED[1], version=2, time=T0,
                           actor="office:a") is None


def test_the_digest_is_of_the_canonical_public_text():
    assert exposure.digest(PUBLIC) == exposure.digest(dict(reversed(list(PUBLIC.items()))))
    assert exposure.digest(PUBLIC) != exposure.digest({**PUBLIC, "text": "本人某某反映。"})


def test_every_kind_of_removal_has_a_mask_and_a_chinese_name():
    assert set(MASKS) == set(REDACTION_KINDS)


def feed_with(text: str) -> feeds.Feed:
    item = feeds.Item(id=feeds.item_id("3f2a9c1e-0000-4000-8000-000000000001"), url="https://zf.example.cn/public/x",
                      title=f"标题<{text}>", summary=text, text=text, published=T0, category="典型案例曝光·推诿扯皮",
                      attachments=(("https://zf.example.cn/public/bulletins/2026-10.pdf", "application/pdf"),))
    urls = {k: f"https://zf.example.cn/public/feed.{k}" for k in ("json", "rss", "atom")}
    return feeds.Feed(title="正风台账", description="公开", home_url="https://zf.example.cn/public/", urls=urls,
                      author="正风办", updated=T0, items=[item])


@pytest.mark.parametrize("text", ["A & B < C > D \"' ]]> ", "控制字符\x00\x0b\x1f在此", "emoji 🙂 与 \ufffe"])
def test_the_xml_feeds_are_well_formed_whatever_the_text(text):
    rss = ET.fromstring(feeds.rss(feed_with(text)))
    assert rss.find("channel/item/title").text == feeds.clean(f"标题<{text}>")
    assert rss.find("channel/item/pubDate").text == "Mon, 23 Nov 2026 01:00:00 GMT"
    assert rss.find("channel/item/enclosure").get("type") == "application/pdf"
    atom = ET.fromstring(feeds.atom(feed_with(text)))
    ns = {"a": feeds.ATOM}
    assert atom.tag == f"{{{feeds.ATOM}}}feed" and atom.find("a:updated", ns).text == "2026-11-23T01:00:00Z"
    assert atom.find("a:entry/a:id", ns).text == "urn:uuid:3f2a9c1e-0000-4000-8000-000000000001"
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    doc = json.loads(feeds.json_feed(feed_with(text)))
    assert doc["items"][0]["date_published"] == "2026-11-23T01:00:00Z"


def test_publication_ids_are_stable_uuids():
    assert feeds.item_id("bulletin-2026-10") == feeds.item_id("bulletin-2026-10") != feeds.item_id("bulletin-2026-11")
    assert feeds.item_id("bulletin-2026-10").startswith("urn:uuid:")
