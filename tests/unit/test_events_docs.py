"""What the generated event catalogue (zfcommon.events.docs) says about each type and topic."""
from zfcommon.events.catalogue import CATALOGUE, CHANNELS, TOPICS
from zfcommon.events.docs import catalogue_markdown


def test_every_type_has_its_section_summary_and_topic():
    doc = catalogue_markdown()
    for name, event_type in CATALOGUE.items():
        assert f"## `{name}`" in doc
        assert event_type.summary in doc
        assert f"Topic: `{event_type.topic}`" in doc


def test_every_topic_is_listed_with_its_dead_letters():
    for topic in TOPICS:
        assert f"- `{topic}` (dead letters: `{topic}.dlq`)" in catalogue_markdown()


def test_every_data_field_is_a_row_nested_fields_included():
    doc = catalogue_markdown()
    for field in CATALOGUE["cn.zhengfeng.case.received.v1"].schema.fields:
        assert f"| `{field}` |" in doc
    assert "| `location.lat` | float | no | yes | -90..90 |" in doc
    assert "| `complainant.kid` | string | yes | no | 1..100 |" in doc


def test_channel_rule_lists_every_channel():
    channel_row = next(r for r in catalogue_markdown().splitlines() if r.startswith("| `channel` |"))
    assert all(f"`{c}`" in channel_row for c in CHANNELS)
