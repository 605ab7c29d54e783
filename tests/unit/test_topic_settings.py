"""The topic layout on the broker: one broker by default, replicated in production (deploy/README.md)."""
import logging

import pytest
from kafka.errors import KafkaConnectionError

from zfcommon.kafka import keep_retention, new_topics, retention_to_set
from zfcommon.settings import ConfigError, Settings, TopicSettings

ENV = {"DATABASE_URL": "postgresql://intake@db/zf", "KAFKA_BOOTSTRAP_SERVERS": "broker:9092",
       "ZF_JWT_SECRET": "s3cret"}
PRODUCTION = {"ZF_PARTITIONS": "12", "ZF_TOPIC_REPLICATION_FACTOR": "3", "ZF_TOPIC_MIN_INSYNC_REPLICAS": "2"}


def test_by_default_topics_suit_a_single_broker_and_leave_min_insync_to_it():
    assert TopicSettings.from_env({}) == TopicSettings(partitions=6, replication_factor=1, min_insync_replicas=None)


def test_production_layout_is_read_from_the_three_settings():
    assert TopicSettings.from_env(PRODUCTION) == TopicSettings(12, 3, 2)


def test_every_service_carries_the_same_layout_as_the_topics_command():
    settings = Settings.from_env("notify", {**ENV, **PRODUCTION})
    assert settings.topics == TopicSettings.from_env(PRODUCTION)
    assert settings.partitions == 12


@pytest.mark.parametrize("env, variable", [
    ({"ZF_TOPIC_REPLICATION_FACTOR": "0"}, "ZF_TOPIC_REPLICATION_FACTOR must be at least 1"),
    ({"ZF_PARTITIONS": "0"}, "ZF_PARTITIONS must be at least 1"),
    ({"ZF_TOPIC_REPLICATION_FACTOR": "three"}, "ZF_TOPIC_REPLICATION_FACTOR must be an integer"),
    # more in-sync replicas than replicas: every acks=all write would be refused
    ({"ZF_TOPIC_REPLICATION_FACTOR": "3", "ZF_TOPIC_MIN_INSYNC_REPLICAS": "4"}, "ZF_TOPIC_MIN_INSYNC_REPLICAS"),
    ({"ZF_TOPIC_MIN_INSYNC_REPLICAS": "0"}, "ZF_TOPIC_MIN_INSYNC_REPLICAS"),
])
def test_a_layout_no_broker_could_serve_is_refused_naming_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        TopicSettings.from_env(env)


def test_new_topics_carry_replication_and_min_insync_replicas():
    topics = {t.name: t for t in new_topics(["zf.case", "zf.case.dlq"], 12, replication_factor=3,
                                            min_insync_replicas=2)}
    assert (topics["zf.case"].num_partitions, topics["zf.case"].replication_factor) == (12, 3)
    assert topics["zf.case"].topic_configs == {"min.insync.replicas": "2", "retention.ms": "-1"}
    # a dead-letter topic has one partition, replicated the same
    assert (topics["zf.case.dlq"].num_partitions, topics["zf.case.dlq"].replication_factor) == (1, 3)
    assert topics["zf.case.dlq"].topic_configs == {"min.insync.replicas": "2", "retention.ms": "-1"}


def test_without_min_insync_replicas_only_the_retention_is_sent():
    [topic] = new_topics(["zf.case"], 6)
    assert (topic.replication_factor, topic.topic_configs) == (1, {"retention.ms": "-1"})


# -- retention: every record kept, unless the operator chose a long enough time ----------------------
def test_by_default_every_topic_keeps_every_record():
    # a consumer stopped longer than Kafka's default 7 days would otherwise skip what was deleted
    assert TopicSettings.from_env({}).retention_ms == -1
    assert {t.topic_configs["retention.ms"] for t in new_topics(["zf.case", "zf.case.dlq"], 2)} == {"-1"}


def test_a_retention_of_at_least_30_days_may_be_chosen():
    days90 = str(90 * 24 * 3600 * 1000)
    assert TopicSettings.from_env({"ZF_TOPIC_RETENTION_MS": days90}).retention_ms == int(days90)
    [topic] = new_topics(["zf.case"], 2, retention_ms=int(days90))
    assert topic.topic_configs == {"retention.ms": days90}


@pytest.mark.parametrize("value", ["604800000", "0", "-2", "1d"])
def test_a_retention_shorter_than_30_days_or_not_a_number_is_refused_naming_the_variable(value):
    with pytest.raises(ConfigError, match="ZF_TOPIC_RETENTION_MS"):
        TopicSettings.from_env({"ZF_TOPIC_RETENTION_MS": value})


def kafka_answer(value):
    """What Kafka answers for a topic with every key: its defaults too (source DEFAULT_CONFIG)."""
    source = "DEFAULT_CONFIG" if value == "604800000" else "DYNAMIC_TOPIC_CONFIG"
    return {"retention.ms": {"value": value, "config_source": source},
            "cleanup.policy": {"value": "delete", "config_source": "DEFAULT_CONFIG"}}


def test_topics_whose_retention_differs_are_found_from_describe_configs():
    described = {"topic": {
        "zf.kept": kafka_answer("-1"),
        "zf.week": kafka_answer("604800000"),      # made by an older release: the broker's 7 days
        "zf.month": kafka_answer("2592000000"),
        "zf.tansu": {},                            # a broker that describes no topic configuration
    }}
    assert retention_to_set(described, -1) == (["zf.month", "zf.week"], ["zf.tansu"])
    assert retention_to_set(described, 2592000000) == (["zf.kept", "zf.week"], ["zf.tansu"])
    assert retention_to_set({}, -1) == ([], [])


class FakeAdmin:
    def __init__(self, described, answer="OK", fail=None):
        self.described, self.answer, self.fail, self.altered = described, answer, fail, []

    def describe_configs(self, resources, config_filter="modified"):
        assert config_filter == "all"           # defaults included: a topic made before reports 7 days
        if self.fail:
            raise self.fail
        return {"topic": {r.name: self.described.get(r.name, kafka_answer("604800000")) for r in resources}}

    def alter_configs(self, resources, raise_on_unknown=True):
        self.altered += [(r.name, r.configs) for r in resources]
        return {"topic": {r.name: self.answer for r in resources}}


def test_existing_topics_get_only_their_retention_changed(caplog):
    admin = FakeAdmin({"zf.kept": kafka_answer("-1")})
    with caplog.at_level(logging.INFO, logger="zfcommon.kafka"):
        keep_retention(admin, ["zf.kept", "zf.week"], -1)
    assert admin.altered == [("zf.week", {"retention.ms": "-1"})]      # one key, nothing else touched
    [record] = [r for r in caplog.records if r.getMessage() == "topics_retention_set"]
    assert record.topics == ["zf.week"]


def test_topics_already_kept_or_not_described_are_not_altered(caplog):
    admin = FakeAdmin({"zf.a": kafka_answer("-1"), "zf.tansu": {}})
    with caplog.at_level(logging.INFO, logger="zfcommon.kafka"):
        keep_retention(admin, ["zf.a", "zf.tansu"], -1)
        keep_retention(admin, [], -1)
    assert admin.altered == []
    [record] = [r for r in caplog.records if r.getMessage().startswith("topics_retention")]
    assert (record.getMessage(), record.topics) == ("topics_retention_not_described", ["zf.tansu"])


@pytest.mark.parametrize("admin", [FakeAdmin({}, fail=KafkaConnectionError("socket disconnected")),
                                   FakeAdmin({}, answer="PolicyViolationError: not allowed")])
def test_a_broker_that_cannot_describe_or_refuses_is_logged_not_fatal(admin, caplog):
    with caplog.at_level(logging.WARNING, logger="zfcommon.kafka"):
        keep_retention(admin, ["zf.case"], -1)
    assert {r.getMessage() for r in caplog.records} & {"topics_retention_unchecked", "topics_retention_refused"}
