"""What units, channels and the public read of a case (zfcommon.outsiders): every free text of every
case event masked, the description replaced by the summary, and the same for events stored before
masking existed (by the patterns)."""
from __future__ import annotations

from marshmallow import fields

from zfcommon import outsiders
from zfcommon.caseview import case_type, replay
from zfcommon.events.catalogue import CASE_TOPIC, CATALOGUE
from zfcommon.redaction import Identity

from .test_ledger_evolve import DATA, Story

OUYANG = Identity(name="欧阳明远", phone="13907395678")
# Text fields of case events that are not free text: names of units and categories, enums, ids, urls.
STRUCTURAL = {"channel", "category", "subject_unit", "priority", "lead_unit", "cooperating_units.*",
              "previous_lead_unit", "handling_mode", "deadline_basis.rule", "unit", "satisfaction", "into_case_id",
              "duplicate_case_id", "accountability_id", "kid", "complainant.kid", "complainant.nonce",
              "complainant.ciphertext", "origin.system", "origin.ref", "origin.parent", "attachments.*.url",
              "attachments.*.sha256", "recheck.seed", "description", "summary", "case_number", "chosen_by", "campaign_id",
              "previous_campaign_id", "candidate_case_id"}


def _text_paths(schema, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for name, field in schema.fields.items():
        path = f"{prefix}{name}"
        if isinstance(field, fields.List):
            field, path = field.inner, f"{path}.*"
        if isinstance(field, fields.Nested):
            paths |= _text_paths(field.schema, f"{path}.")
        elif isinstance(field, fields.String):
            paths.add(path)
    return paths


def test_every_text_of_every_case_event_is_masked_for_outsiders_or_is_structural():
    for event_type, spec in CATALOGUE.items():
        if spec.topic != CASE_TOPIC:
            continue
        unclassified = _text_paths(spec.schema) - STRUCTURAL - set(outsiders.FREE_TEXT.get(event_type, ()))
        assert unclassified == set(), (event_type, unclassified)


def received(**changes) -> dict:
    description = "来信人欧阳明远反映：窗口推诿。电话139-0739-5678"
    return outsiders.with_masks(outsiders.RECEIVED, {
        **DATA["received"], "description": description, "anonymous": False,
        "complainant": {"kid": "case:c", "nonce": "bm9uY2U=", "ciphertext": "c2VhbGVk"},
        "location": {"address": "宝庆中路88号3栋2单元501室", "lat": 27.1, "lon": 111.4},
        "origin": {"system": "hotline", "ref": "SY12345-20261123-000317", "parent": None,
                   "extra": {"attachments": [{"name": "欧阳明远身份证.jpg", "url": "https://f.example/1.jpg"}]}},
        **changes}, OUYANG)


def test_outsiders_read_a_received_event_with_the_summary_as_its_description_and_its_free_text_masked():
    data = outsiders.event_data(outsiders.RECEIVED, received())
    assert data["description"] == data["summary"] == "来信人某某反映：窗口推诿。电话〔电话已隐去〕"
    assert data["location"]["address"] == "宝庆中路88号〔门牌已隐去〕"
    assert data["origin"]["extra"]["attachments"][0] == {"name": "某某身份证.jpg", "url": "https://f.example/1.jpg"}
    assert data["origin"]["ref"] == "SY12345-20261123-000317"
    assert "complainant" not in data and "redacted" not in data
    assert "欧阳" not in repr(data) and "明远" not in repr(data) and "0739" not in repr(data)


def test_an_event_stored_before_masking_is_masked_by_the_patterns_never_served_raw():
    legacy = {**DATA["received"], "description": "投诉人王建国反映，电话13807391234，家住建设路18号3栋501室"}
    data = outsiders.event_data(outsiders.RECEIVED, legacy)
    assert data["description"] == "投诉人某某反映，电话〔电话已隐去〕，家住建设路〔详细地址已隐去〕"
    note = outsiders.event_data(case_type("assigned"), {**DATA["assigned"], "note": "联系13807391234"})
    assert note["note"] == "联系〔电话已隐去〕"


def test_the_office_reads_the_masks_beside_its_own_text():
    data = received()
    assert data["description"].startswith("来信人欧阳明远") and data["redacted"]["location.address"].endswith("〔门牌已隐去〕")


def test_a_case_view_as_outsiders_read_it_follows_the_offices_correction():
    story = Story("c", **{k: v for k, v in received().items() if k != "complainant"})
    story.add("summary_corrected", summary="反映窗口推诿，办证多次往返")
    row = outsiders.case_row(story.row())
    assert row["description"] == row["summary"] == "反映窗口推诿，办证多次往返"
    assert row["location"]["address"] == "宝庆中路88号〔门牌已隐去〕"
    assert row["origin"]["extra"]["attachments"][0]["name"] == "某某身份证.jpg" and "redacted" not in row
    assert story.row()["description"].startswith("来信人欧阳明远")       # the office's view is the event's


def test_a_case_view_from_before_masking_is_masked_by_the_patterns():
    row = {**Story("c").row(), "description": "本人李某，电话13807391234", "summary": None, "redacted": None,
           "location": {"address": "建设路18号3栋501室", "lat": None, "lon": None}}
    shown = outsiders.case_row(row)
    assert shown["description"] == "本人某某，电话〔电话已隐去〕" and shown["location"]["address"] == "建设路18号〔门牌已隐去〕"


def test_replaying_the_same_events_gives_the_same_masked_view():
    events = Story("c", **{k: v for k, v in received().items() if k != "complainant"}).then("assigned").events
    assert outsiders.case_row(replay(events)) == outsiders.case_row(replay(list(reversed(events))))
