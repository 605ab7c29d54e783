"""The topic layout on the broker: one broker by default, replicated in production (deploy/README.md)."""
import pytest

from zfcommon.kafka import new_topics
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
    assert topics["zf.case"].topic_configs == {"min.insync.replicas": "2"}
    # a dead-letter topic has one partition, replicated the same
    assert (topics["zf.case.dlq"].num_partitions, topics["zf.case.dlq"].replication_factor) == (1, 3)
    assert topics["zf.case.dlq"].topic_configs == {"min.insync.replicas": "2"}


def test_without_min_insync_replicas_no_topic_config_is_sent():
    [topic] = new_topics(["zf.case"], 6)
    assert (topic.replication_factor, topic.topic_configs) == (1, {})
