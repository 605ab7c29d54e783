"""`zf topics` lays the topics out as configured, on the real (Tansu) broker."""
from __future__ import annotations

import logging

import pytest

from zfcommon import kafka
from zfcommon.cli import main as zf
from zfcommon.events.catalogue import all_topics

pytestmark = pytest.mark.integration


def test_zf_topics_creates_every_topic_with_the_configured_replication(broker, monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
    monkeypatch.setenv("ZF_PARTITIONS", "2")
    # Tansu, one node, records the replica list it was asked for (the same node three times), which is
    # what a three-broker cluster would spread over three brokers.
    monkeypatch.setenv("ZF_TOPIC_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("ZF_TOPIC_MIN_INSYNC_REPLICAS", "2")
    assert zf(["topics"]) == 0
    client = kafka.admin(broker.bootstrap)
    try:
        described = {t["name"]: t["partitions"] for t in client.describe_topics(all_topics())}
    finally:
        client.close()
    assert set(described) == set(all_topics())
    for name, partitions in described.items():
        assert len(partitions) == (1 if name.endswith(".dlq") else 2), name
        assert {len(p["replica_nodes"]) for p in partitions} == {3}, name


def test_zf_topics_refuses_more_in_sync_replicas_than_replicas(monkeypatch, capsys):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("ZF_TOPIC_REPLICATION_FACTOR", "1")
    monkeypatch.setenv("ZF_TOPIC_MIN_INSYNC_REPLICAS", "2")
    assert zf(["topics"]) == 2
    assert "ZF_TOPIC_MIN_INSYNC_REPLICAS" in capsys.readouterr().err


def test_zf_topics_leaves_existing_topics_alone_and_names_those_with_too_few_replicas(broker, monkeypatch, caplog):
    kafka.ensure_topics(broker.bootstrap, all_topics(), 2)       # as `zf up` or an old relay made them
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
    monkeypatch.setenv("ZF_TOPIC_REPLICATION_FACTOR", "3")
    with caplog.at_level(logging.WARNING, logger="zfcommon.kafka"):
        assert zf(["topics"]) == 0
    [warning] = [r for r in caplog.records if r.getMessage() == "topics_under_replicated"]
    assert warning.topics == {t: 1 for t in all_topics()}
    client = kafka.admin(broker.bootstrap)
    try:
        assert {len(p["replica_nodes"]) for t in client.describe_topics(all_topics()) for p in t["partitions"]} == {1}
    finally:
        client.close()


def test_zf_topics_creates_topics_that_keep_every_record_and_checks_those_made_before(broker, caplog):
    # Tansu accepts retention.ms at creation (and keeps everything in memory anyway); it describes a
    # topic's configuration only as it was created, so a topic made without any is logged as not
    # described, never altered blindly, and one made now is already kept.
    client = kafka.admin(broker.bootstrap)
    try:
        client.create_topics([kafka.NewTopic("zf.old.topic", 1, 1)])
        [made] = client.create_topics(kafka.new_topics(["zf.new.topic"], 1))["topics"]
        assert (made["error_code"], made["topic_config_error_code"]) == (0, 0)
    finally:
        client.close()
    with caplog.at_level(logging.INFO, logger="zfcommon.kafka"):
        kafka.ensure_topics(broker.bootstrap, ["zf.old.topic", "zf.new.topic"], 1)
    [record] = [r for r in caplog.records if r.getMessage().startswith("topics_retention")]
    assert (record.getMessage(), record.topics) == ("topics_retention_not_described", ["zf.old.topic"])
